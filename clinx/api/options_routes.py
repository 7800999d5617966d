"""Root-only option management: list every option (secrets omitted), change one, restore the default price tables."""

from __future__ import annotations

from fastapi import APIRouter

from clinx.api.deps import Body, RootCaller, State
from clinx.api.envelope import JSONBody, ok
from clinx.cache.notify import OPTIONS
from clinx.config.option_groups.billing import RESETTABLE_RATIOS
from clinx.config.options import OptionsSnapshot, is_secret_key
from clinx.core.errors import ValidationError
from clinx.store.repos import options as options_repo

router = APIRouter(prefix="/api/option", tags=["options"])

# Switching one of these on needs the listed settings filled in first; New API's messages.
ENABLE_REQUIRES: dict[str, tuple[tuple[str, ...], str]] = {
    "GitHubOAuthEnabled": (
        ("GitHubClientId", "GitHubClientSecret"),
        "无法启用 GitHub OAuth，请先填入 GitHub Client Id 以及 GitHub Client Secret！",
    ),
    "LinuxDOOAuthEnabled": (
        ("LinuxDOClientId", "LinuxDOClientSecret"),
        "无法启用 LinuxDO OAuth，请先填入 LinuxDO Client Id 以及 LinuxDO Client Secret！",
    ),
    "oidc.enabled": (
        ("oidc.client_id", "oidc.client_secret"),
        "无法启用 OIDC 登录，请先填入 OIDC Client Id 以及 OIDC Client Secret！",
    ),
    "WeChatAuthEnabled": (
        ("WeChatServerAddress", "WeChatServerToken"),
        "无法启用微信登录，请先填入微信登录相关配置信息！",
    ),
    "TurnstileCheckEnabled": (
        ("TurnstileSiteKey", "TurnstileSecretKey"),
        "无法启用 Turnstile 校验，请先填入 Turnstile 校验相关配置信息！",
    ),
    "TelegramOAuthEnabled": (("TelegramBotToken",), "无法启用 Telegram OAuth，请先填入 Telegram Bot Token！"),
    "EmailDomainRestrictionEnabled": (("EmailDomainWhitelist",), "无法启用邮箱域名限制，请先填入限制的邮箱域名！"),
}


def _filled(options: OptionsSnapshot, key: str) -> bool:
    # A whitelist of only commas is as empty as an empty one.
    return any(part.strip() for part in options.get_str(key).split(","))


def check_can_enable(key: str, value: str, options: OptionsSnapshot) -> None:
    """Refuse to switch on a login method or restriction whose settings are still empty."""
    rule = ENABLE_REQUIRES.get(key)
    if rule is None or value != "true":
        return
    needed, message = rule
    if not all(_filled(options, name) for name in needed):
        raise ValidationError(message)


@router.get("/", summary="All options with their current values (root; secrets omitted)")
async def list_options(state: State, _caller: RootCaller) -> JSONBody:
    raw = state.options.current.raw
    data = [
        {"key": spec.key, "value": raw.get(spec.key, spec.default)}
        for spec in state.options.registry
        if not (spec.secret or is_secret_key(spec.key))
    ]
    return ok(data)


@router.put("/", summary="Change one option (root); JSON options are replaced whole")
async def update_option(state: State, _caller: RootCaller, body: Body) -> JSONBody:
    key = body.get("key")
    if not isinstance(key, str) or not key:
        raise ValidationError("无效的参数 (key is required)")
    if key not in state.options.registry:
        raise ValidationError(f"unknown option {key!r}")
    if body.get("value") is None:
        raise ValidationError(f"无效的参数 (value is required for option {key})")
    value = state.options.registry.normalise(key, body["value"])
    check_can_enable(key, value, state.options.current)
    await options_repo.save(state.dbs.main, {key: value})
    state.options.apply({key: value})
    await state.relay.notifier.publish(OPTIONS)
    return ok()


@router.post("/rest_model_ratio", summary="Restore ModelRatio, CompletionRatio, ModelPrice and CacheRatio defaults")
async def reset_model_ratio(state: State, _caller: RootCaller) -> JSONBody:
    defaults = {key: state.options.registry.spec(key).default for key in RESETTABLE_RATIOS}
    await options_repo.save(state.dbs.main, defaults)
    state.options.apply(defaults)
    await state.relay.notifier.publish(OPTIONS)
    return ok(message="重置模型倍率成功")
