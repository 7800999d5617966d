"""Root-only option API: listing without secrets, validated writes that persist, enabling rules, ratio reset."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clinx.config.default_prices import as_json, default_prices
from clinx.store.repos import options as options_repo
from clinx.store.repos import users as users_repo
from tests.support.app import ROOT_PASSWORD, RunningApp, Session, running_app

USER_PASSWORD = "User-pass-123"


async def _options(session: Session) -> dict[str, str]:
    body = (await session.get("/api/option/")).json()
    assert body["success"] is True, body
    return {item["key"]: item["value"] for item in body["data"]}


async def _put(session: Session, key: str, value: Any) -> dict[str, Any]:
    body: dict[str, Any] = (await session.put("/api/option/", json={"key": key, "value": value})).json()
    return body


async def _user(app: RunningApp, username: str, role: int | None = None) -> Session:
    r = await app.client.post("/api/user/register", json={"username": username, "password": USER_PASSWORD})
    assert r.json()["success"], r.text
    session = await app.login(username, USER_PASSWORD)
    if role is not None:
        await users_repo.update_fields(app.state.dbs.main, session.user_id, {"role": role})
    return session


async def test_root_lists_every_option_with_defaults_but_no_secrets(app: RunningApp, root: Session) -> None:
    values = await _options(root)
    registry = app.state.options.registry
    public = [spec.key for spec in registry if not spec.secret]
    assert sorted(values) == sorted(public)
    assert values["RetryTimes"] == "0"
    assert values["QuotaPerUnit"] == "500000"
    assert values["ModelRatio"] == as_json(default_prices().model_ratio)
    for secret in ("SMTPToken", "GitHubClientSecret", "EpayKey", "TurnstileSecretKey", "oidc.client_secret"):
        assert secret not in values


@pytest.mark.parametrize("role", [1, 10])
async def test_only_root_may_read_or_change_options(app: RunningApp, root: Session, role: int) -> None:
    session = await _user(app, f"user{role}", role=role)
    for method, url, payload in (
        ("GET", "/api/option/", None),
        ("PUT", "/api/option/", {"key": "RetryTimes", "value": "3"}),
        ("POST", "/api/option/rest_model_ratio", None),
    ):
        r = await session.request(method, url, json=payload)
        assert r.status_code == 403, (method, url)
        assert r.json()["success"] is False
    assert app.state.options.current.get_int("RetryTimes") == 0
    await session.client.aclose()


async def test_anonymous_callers_are_refused(app: RunningApp, root: Session) -> None:
    r = await app.client.get("/api/option/")
    assert r.status_code == 401 and r.json()["success"] is False


async def test_secrets_are_never_returned_after_being_set(app: RunningApp, root: Session) -> None:
    for key, value in (("SMTPToken", "smtp-s3cret"), ("GitHubClientSecret", "gh-s3cret"), ("EpayKey", "epay-s3cret")):
        assert (await _put(root, key, value))["success"] is True
    text = (await root.get("/api/option/")).text
    for value in ("smtp-s3cret", "gh-s3cret", "epay-s3cret"):
        assert value not in text
    assert app.state.options.current.get_str("SMTPToken") == "smtp-s3cret"


async def test_put_persists_across_a_restart(any_db: str) -> None:
    async with running_app(any_db) as first:
        await first.setup_root()
        root = await first.login("root", ROOT_PASSWORD)
        assert await _put(root, "RetryTimes", "3") == {"success": True, "message": ""}
        assert (await _put(root, "ModelRatio", '{"my-model":2}'))["success"] is True
        assert (await _put(root, "SystemName", "Clinx 网关"))["success"] is True
        await root.client.aclose()
    async with running_app(any_db) as second:
        assert second.state.options.current.get_int("RetryTimes") == 3
        root = await second.login("root", ROOT_PASSWORD)
        values = await _options(root)
        assert values["RetryTimes"] == "3"
        assert values["SystemName"] == "Clinx 网关"
        assert json.loads(values["ModelRatio"]) == {"my-model": 2}
        await root.client.aclose()


async def test_bool_and_number_values_are_accepted(app: RunningApp, root: Session) -> None:
    assert (await _put(root, "LogConsumeEnabled", False))["success"] is True
    assert (await _put(root, "RetryTimes", 2))["success"] is True
    assert (await _put(root, "Price", 7.5))["success"] is True
    values = await _options(root)
    assert (values["LogConsumeEnabled"], values["RetryTimes"], values["Price"]) == ("false", "2", "7.5")
    current = app.state.options.current
    assert current.get_bool("LogConsumeEnabled") is False
    assert current.get_int("RetryTimes") == 2
    assert current.get_float("Price") == 7.5
    stored = await options_repo.load_all(app.state.dbs.main)
    assert stored["LogConsumeEnabled"] == "false"


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("NoSuchOption", "1", "unknown option"),
        ("RetryTimes", "abc", "RetryTimes"),
        ("RetryTimes", 11, "RetryTimes"),
        ("GroupRatio", '{"vip": -1}', "GroupRatio"),
        ("ModelRatio", "{broken", "ModelRatio"),
        ("AutomaticDisableStatusCodes", "4O1", "AutomaticDisableStatusCodes"),
        ("QuotaPerUnit", 0, "QuotaPerUnit"),
    ],
)
async def test_bad_values_are_refused_and_not_stored(
    app: RunningApp, root: Session, key: str, value: Any, fragment: str
) -> None:
    body = await _put(root, key, value)
    assert body["success"] is False
    assert fragment in body["message"]
    assert key not in await options_repo.load_all(app.state.dbs.main)


async def test_missing_key_or_value_is_refused(root: Session) -> None:
    assert (await root.put("/api/option/", json={"value": "1"})).json()["success"] is False
    assert (await root.put("/api/option/", json={"key": "RetryTimes"})).json()["success"] is False


async def test_json_options_replace_the_whole_map(app: RunningApp, root: Session) -> None:
    assert (await _put(root, "ModelRatio", '{"model-a":1}'))["success"] is True
    assert (await _put(root, "ModelRatio", '{"model-b":2}'))["success"] is True
    assert app.state.options.current.get_json("ModelRatio") == {"model-b": 2}


@pytest.mark.parametrize(
    ("switch", "settings", "message"),
    [
        (
            "GitHubOAuthEnabled",
            {"GitHubClientId": "id", "GitHubClientSecret": "secret"},
            "无法启用 GitHub OAuth，请先填入 GitHub Client Id 以及 GitHub Client Secret！",
        ),
        (
            "LinuxDOOAuthEnabled",
            {"LinuxDOClientId": "id", "LinuxDOClientSecret": "secret"},
            "无法启用 LinuxDO OAuth，请先填入 LinuxDO Client Id 以及 LinuxDO Client Secret！",
        ),
        (
            "oidc.enabled",
            {"oidc.client_id": "id", "oidc.client_secret": "secret"},
            "无法启用 OIDC 登录，请先填入 OIDC Client Id 以及 OIDC Client Secret！",
        ),
        (
            "WeChatAuthEnabled",
            {"WeChatServerAddress": "https://wechat.example", "WeChatServerToken": "token"},
            "无法启用微信登录，请先填入微信登录相关配置信息！",
        ),
        (
            "TurnstileCheckEnabled",
            {"TurnstileSiteKey": "site", "TurnstileSecretKey": "secret"},
            "无法启用 Turnstile 校验，请先填入 Turnstile 校验相关配置信息！",
        ),
        (
            "TelegramOAuthEnabled",
            {"TelegramBotToken": "123:abc"},
            "无法启用 Telegram OAuth，请先填入 Telegram Bot Token！",
        ),
    ],
)
async def test_login_methods_need_their_settings_before_enabling(
    app: RunningApp, root: Session, switch: str, settings: dict[str, str], message: str
) -> None:
    assert await _put(root, switch, "true") == {"success": False, "message": message}
    first = next(iter(settings))
    assert (await _put(root, first, settings[first]))["success"] is True
    if len(settings) > 1:
        assert (await _put(root, switch, True))["success"] is False
    for key, value in settings.items():
        assert (await _put(root, key, value))["success"] is True
    assert (await _put(root, switch, True))["success"] is True
    assert app.state.options.current.get_bool(switch) is True
    assert (await _put(root, switch, "false"))["success"] is True


async def test_email_domain_restriction_needs_a_whitelist(root: Session) -> None:
    assert (await _put(root, "EmailDomainRestrictionEnabled", "true"))["success"] is True
    assert (await _put(root, "EmailDomainWhitelist", " , "))["success"] is True
    assert await _put(root, "EmailDomainRestrictionEnabled", "true") == {
        "success": False,
        "message": "无法启用邮箱域名限制，请先填入限制的邮箱域名！",
    }


async def test_reset_model_ratio_restores_the_default_tables(app: RunningApp, root: Session) -> None:
    for key in ("ModelRatio", "CompletionRatio", "ModelPrice", "CacheRatio", "GroupRatio"):
        assert (await _put(root, key, '{"custom":3}'))["success"] is True
    r = (await root.post("/api/option/rest_model_ratio")).json()
    assert r == {"success": True, "message": "重置模型倍率成功"}
    prices = default_prices()
    values = await _options(root)
    assert values["ModelRatio"] == as_json(prices.model_ratio)
    assert values["CompletionRatio"] == as_json(prices.completion_ratio)
    assert values["ModelPrice"] == as_json(prices.model_price)
    assert values["CacheRatio"] == as_json(prices.cache_ratio)
    assert values["GroupRatio"] == '{"custom":3}'
    stored = await options_repo.load_all(app.state.dbs.main)
    assert stored["ModelRatio"] == as_json(prices.model_ratio)
    assert app.state.options.current.get_json("ModelPrice") == dict(prices.model_price)
