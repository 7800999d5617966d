"""The option registry: every contract key declared, defaults valid, client values normalised and validated,
stored values overlaid on defaults with garbage falling back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clinx.config.default_prices import as_json, default_prices
from clinx.config.option_groups.checks import parse_status_ranges
from clinx.config.option_keys import build_registry
from clinx.config.options import OptionRegistry, OptionSpec, format_number, is_secret_key
from clinx.core.errors import ValidationError

# Every key newapi-contract §9 names explicitly (the `section.*` wildcards aside).
_CONTRACT_TEXT = """
SystemName Logo Footer Notice About HomePageContent ServerAddress TopUpLink DefaultCollapseSidebar DemoSiteEnabled
SelfUseModeEnabled general_setting.docs_link Chats general_setting.quota_display_type
general_setting.ping_interval_enabled general_setting.ping_interval_seconds
FileUploadPermission FileDownloadPermission ImageUploadPermission ImageDownloadPermission
PasswordLoginEnabled PasswordRegisterEnabled RegisterEnabled EmailVerificationEnabled EmailDomainRestrictionEnabled
EmailAliasRestrictionEnabled EmailDomainWhitelist SMTPServer SMTPPort SMTPAccount SMTPFrom SMTPToken SMTPSSLEnabled
GitHubOAuthEnabled GitHubClientId GitHubClientSecret LinuxDOOAuthEnabled LinuxDOClientId LinuxDOClientSecret
TelegramOAuthEnabled TelegramBotToken TelegramBotName WeChatAuthEnabled WeChatServerAddress WeChatServerToken
WeChatAccountQRCodeImageURL TurnstileCheckEnabled TurnstileSiteKey TurnstileSecretKey oidc.enabled oidc.client_id
oidc.client_secret oidc.well_known oidc.authorization_endpoint oidc.token_endpoint oidc.user_info_endpoint
QuotaPerUnit QuotaForNewUser QuotaForInviter QuotaForInvitee QuotaRemindThreshold PreConsumedQuota
DisplayInCurrencyEnabled DisplayTokenStatEnabled USDExchangeRate
ModelRatio CompletionRatio CacheRatio ModelPrice GroupRatio UserUsableGroups CreateCacheRatio ImageRatio AudioRatio
AudioCompletionRatio GroupGroupRatio group_ratio_setting.group_special_usable_group AutoGroups DefaultUseAutoGroup
MaxTokenAutoGroups ExposeRatioEnabled
PayAddress CustomCallbackAddress EpayId EpayKey Price MinTopUp TopupGroupRatio PayMethods
payment_setting.amount_options payment_setting.amount_discount
RetryTimes AutomaticDisableChannelEnabled AutomaticEnableChannelEnabled ChannelDisableThreshold
AutomaticDisableKeywords global.pass_through_request_enabled claude.model_headers_settings claude.default_max_tokens
claude.thinking_adapter_enabled claude.thinking_adapter_budget_tokens_percentage gemini.safety_settings
gemini.version_settings WorkerUrl WorkerValidKey AutomaticDisableStatusCodes AutomaticRetryStatusCodes
global.thinking_model_blacklist global.chat_completions_to_responses_policy monitor_setting.auto_test_channel_enabled
ModelRequestRateLimitEnabled ModelRequestRateLimitDurationMinutes ModelRequestRateLimitCount
ModelRequestRateLimitSuccessCount ModelRequestRateLimitGroup
CheckSensitiveEnabled CheckSensitiveOnPromptEnabled StopOnSensitiveEnabled SensitiveWords StreamCacheQueueLength
DrawingEnabled TaskEnabled LogConsumeEnabled DataExportEnabled DataExportInterval DataExportDefaultTime
MjNotifyEnabled MjAccountFilterEnabled MjModeClearEnabled MjForwardUrlEnabled MjActionCheckSuccessEnabled
token_setting.max_user_tokens quota_setting.enable_free_model_pre_consume checkin_setting.enabled
"""
CONTRACT_KEYS = _CONTRACT_TEXT.split()


@pytest.fixture(scope="module")
def registry() -> OptionRegistry:
    return build_registry()


def test_every_contract_key_is_declared(registry: OptionRegistry) -> None:
    missing = [key for key in CONTRACT_KEYS if key not in registry]
    assert missing == []


def test_every_default_parses_and_passes_its_validator(registry: OptionRegistry) -> None:
    for spec in registry:
        spec.parse(spec.default)
        assert spec.group, f"{spec.key} has no documentation group"
        assert spec.description, f"{spec.key} has no description"


@pytest.mark.parametrize(
    ("key", "default"),
    [
        ("SystemName", "New API"),
        ("QuotaPerUnit", "500000"),
        ("PreConsumedQuota", "500"),
        ("QuotaRemindThreshold", "1000"),
        ("SMTPPort", "587"),
        ("Price", "7.3"),
        ("USDExchangeRate", "7.3"),
        ("MinTopUp", "1"),
        ("ChannelDisableThreshold", "5"),
        ("AutomaticDisableStatusCodes", "401"),
        ("AutomaticRetryStatusCodes", "100-199,300-399,401-407,409-499,500-503,505-523,525-599"),
        ("ModelRequestRateLimitGroup", "{}"),
        ("ModelRequestRateLimitSuccessCount", "1000"),
        ("general_setting.quota_display_type", "USD"),
        ("general_setting.ping_interval_seconds", "60"),
        ("general_setting.docs_link", "https://docs.newapi.pro"),
        ("token_setting.max_user_tokens", "1000"),
        ("SensitiveWords", "test_sensitive"),
        ("DataExportDefaultTime", "hour"),
        ("claude.default_max_tokens", '{"default":8192}'),
        ("claude.thinking_adapter_budget_tokens_percentage", "0.8"),
        ("CheckSensitiveEnabled", "true"),
        ("MjForwardUrlEnabled", "true"),
        ("MjNotifyEnabled", "false"),
    ],
)
def test_contract_defaults(registry: OptionRegistry, key: str, default: str) -> None:
    assert registry.spec(key).default == default


def test_ratio_tables_default_to_new_api_tables(registry: OptionRegistry) -> None:
    prices = default_prices()
    assert registry.spec("ModelRatio").default == as_json(prices.model_ratio)
    assert registry.spec("ModelPrice").default == as_json(prices.model_price)
    assert registry.spec("CompletionRatio").default == as_json(prices.completion_ratio)
    assert registry.spec("CacheRatio").default == as_json(prices.cache_ratio)
    assert registry.spec("CreateCacheRatio").default == as_json(prices.create_cache_ratio)
    assert registry.spec("AudioRatio").default == as_json(prices.audio_ratio)
    assert registry.spec("AudioCompletionRatio").default == as_json(prices.audio_completion_ratio)
    assert registry.spec("ImageRatio").default == as_json(prices.image_ratio)
    for key in ("GroupRatio", "TopupGroupRatio"):
        assert json.loads(registry.spec(key).default) == {"default": 1, "vip": 1, "svip": 1}


def test_chats_default_is_the_five_presets_as_one_entry_objects(registry: OptionRegistry) -> None:
    chats = json.loads(registry.spec("Chats").default)
    names = [next(iter(entry)) for entry in chats]
    assert names == ["ChatGPT Next Web 官方示例", "Lobe Chat 官方示例", "AI as Workspace", "AMA 问天", "OpenCat"]
    assert all(len(entry) == 1 for entry in chats)
    assert chats[3]["AMA 问天"] == "ama://set-api-key?server={address}&key={key}"


def test_auto_disable_keywords_default_is_seven_lines(registry: OptionRegistry) -> None:
    lines = registry.spec("AutomaticDisableKeywords").default.split("\n")
    assert len(lines) == 7
    assert "Your credit balance is too low" in lines


def test_every_secret_looking_key_is_flagged_secret(registry: OptionRegistry) -> None:
    for spec in registry:
        assert spec.secret == is_secret_key(spec.key), spec.key
    for key in ("SMTPToken", "GitHubClientSecret", "EpayKey", "TurnstileSecretKey", "WeChatServerToken"):
        assert registry.spec(key).secret
    for key in ("TelegramBotToken", "oidc.client_secret", "LinuxDOClientSecret", "WorkerValidKey", "StripeApiSecret"):
        assert registry.spec(key).secret
    assert not registry.spec("GitHubClientId").secret


@pytest.mark.parametrize(
    ("key", "sent", "stored"),
    [
        ("LogConsumeEnabled", False, "false"),
        ("LogConsumeEnabled", "1", "true"),
        ("LogConsumeEnabled", "TRUE", "true"),
        ("RetryTimes", 3, "3"),
        ("RetryTimes", 3.0, "3"),
        ("RetryTimes", " 4 ", "4"),
        ("Price", 7.5, "7.5"),
        ("Price", "7.30", "7.3"),
        ("QuotaPerUnit", "1000000", "1000000"),
        ("GroupRatio", {"default": 1, "vip": 0.5}, '{"default":1,"vip":0.5}'),
        ("GroupRatio", '{ "default": 1 }', '{ "default": 1 }'),
        ("SystemName", "My Gateway", "My Gateway"),
        ("AutomaticDisableStatusCodes", "401，403", "401，403"),
    ],
)
def test_normalise_turns_client_values_into_stored_strings(
    registry: OptionRegistry, key: str, sent: Any, stored: str
) -> None:
    assert registry.normalise(key, sent) == stored


@pytest.mark.parametrize(
    ("key", "sent", "fragment"),
    [
        ("RetryTimes", "abc", "whole number"),
        ("RetryTimes", 11, "between 0 and 10"),
        ("QuotaForNewUser", -1, "at least 0"),
        ("QuotaPerUnit", 0, "greater than 0"),
        ("Price", "nan", "number"),
        ("LogConsumeEnabled", "maybe", "true"),
        ("ModelRatio", '{"gpt-4o": -1}', "'gpt-4o'"),
        ("ModelRatio", '{"gpt-4o": "cheap"}', "'gpt-4o'"),
        ("ModelRatio", "[1, 2]", "JSON object"),
        ("ModelRatio", "{not json", "JSON"),
        ("GroupRatio", '{"vip": -0.5}', "'vip'"),
        ("GroupGroupRatio", '{"vip": {"default": -1}}', "'vip'"),
        ("Chats", '[{"a": "x", "b": "y"}]', "one"),
        ("Chats", '{"a": "x"}', "JSON array"),
        ("AutomaticDisableStatusCodes", "abc", "abc"),
        ("AutomaticRetryStatusCodes", "100-199,600", "600"),
        ("AutomaticRetryStatusCodes", "500-400", "500-400"),
        ("ModelRequestRateLimitGroup", '{"default": [10, 0]}', "'default'"),
        ("ModelRequestRateLimitGroup", '{"default": 5}', "'default'"),
        ("DataExportDefaultTime", "month", "hour, day, week"),
        ("general_setting.quota_display_type", "EUR", "USD"),
        ("claude.default_max_tokens", '{"default": -1}', "'default'"),
        ("payment_setting.amount_options", "[10, 0]", "> 0"),
        ("SystemName", {"a": 1}, "string"),
    ],
)
def test_bad_values_raise_validation_error_naming_the_key(
    registry: OptionRegistry, key: str, sent: Any, fragment: str
) -> None:
    with pytest.raises(ValidationError) as info:
        registry.normalise(key, sent)
    assert key in info.value.message
    assert fragment in info.value.message


def test_retry_times_accepts_the_upper_bound(registry: OptionRegistry) -> None:
    assert registry.normalise("RetryTimes", "10") == "10"


def test_unknown_key_is_refused(registry: OptionRegistry) -> None:
    with pytest.raises(ValidationError, match="unknown option 'NoSuchOption'"):
        registry.normalise("NoSuchOption", "1")


def test_status_ranges_parse_like_new_api() -> None:
    assert parse_status_ranges("401") == [(401, 401)]
    assert parse_status_ranges("300-399, 100-199") == [(100, 199), (300, 399)]
    assert parse_status_ranges("") == []
    assert parse_status_ranges("401，429") == [(401, 401), (429, 429)]


def test_snapshot_overlays_stored_values_on_defaults(registry: OptionRegistry) -> None:
    snap = registry.snapshot({"RetryTimes": "2", "Price": "8.5", "GroupRatio": '{"default":2}'}, version=3)
    assert snap.version == 3
    assert snap.get_int("RetryTimes") == 2
    assert snap.get_float("Price") == 8.5
    assert snap.get_json("GroupRatio") == {"default": 2}
    assert snap.get_bool("LogConsumeEnabled") is True
    assert snap.get_str("SystemName") == "New API"
    assert snap.raw["RetryTimes"] == "2"
    assert snap.raw["QuotaPerUnit"] == "500000"


def test_stored_garbage_falls_back_to_the_default(registry: OptionRegistry) -> None:
    snap = registry.snapshot(
        {"RetryTimes": "many", "ModelRatio": "{broken", "GroupRatio": '{"vip": -1}', "LogConsumeEnabled": "perhaps"}
    )
    assert snap.get_int("RetryTimes") == 0
    assert snap.get_json("ModelRatio") == dict(default_prices().model_ratio)
    assert snap.get_json("GroupRatio") == {"default": 1, "vip": 1, "svip": 1}
    assert snap.get_bool("LogConsumeEnabled") is True


def test_unknown_stored_keys_are_kept_as_text(registry: OptionRegistry) -> None:
    snap = registry.snapshot({"console_setting.announcements": "[]"})
    assert snap.get_str("console_setting.announcements") == "[]"


def test_registry_refuses_a_key_declared_twice() -> None:
    spec = OptionSpec("Twice", "str", "")
    with pytest.raises(ValueError, match="Twice"):
        OptionRegistry([spec, spec])


@pytest.mark.parametrize(("value", "text"), [(2.0, "2"), (7.3, "7.3"), (0.1, "0.1"), (1e21, "1" + "0" * 21), (5, "5")])
def test_format_number_writes_numbers_as_go_does(value: float, text: str) -> None:
    assert format_number(value) == text


def test_is_secret_key_follows_new_api_suffixes() -> None:
    for key in ("SMTPToken", "GitHubClientSecret", "EpayKey", "oidc.client_secret", "monitor_setting.dingtalk_secret"):
        assert is_secret_key(key)
    for key in ("GitHubClientId", "SystemName", "oidc.client_id", "TelegramBotName"):
        assert not is_secret_key(key)
