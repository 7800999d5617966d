"""Read-only routes for API-key holders: the models a key may use (``/v1/models`` in OpenAI, Anthropic or Gemini
form), OpenAI's legacy ``/dashboard/billing/*`` balance endpoints, New API's ``/api/usage/token`` summary and
the public per-key log view ``/api/log/token``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from clinx.auth import api_keys
from clinx.billing.price_table import normalise_model, resolve_price
from clinx.config.options import OptionsSnapshot
from clinx.core.enums import Role, TokenStatus
from clinx.core.errors import AuthError, ClinxError, ForbiddenError
from clinx.core.log_items import owner_view
from clinx.core.model_owners import CREATED, owner_of
from clinx.core.types import TokenInfo, UserInfo
from clinx.relay.errors import openai_error
from clinx.relay.pipeline import Relay
from clinx.relay.routes import client_ip, new_request_id
from clinx.store.engine import Databases
from clinx.store.repos import logs as logs_repo
from clinx.store.repos import tokens as tokens_repo
from clinx.store.repos import users as users_repo
from clinx.store.rows import Row

UNLIMITED_AMOUNT = 100_000_000  # what New API reports as the limit of an unlimited key
KEY_LOG_LIMIT = 100
GEMINI_METHODS = ("generateContent", "streamGenerateContent")
# One API's fixed permission entry; some old OpenAI clients require the field to exist.
_PERMISSION = {
    "id": "modelperm-LwHkVFn8AcMItP432fKKDIKJ", "object": "model_permission", "created": CREATED,
    "allow_create_engine": True, "allow_sampling": True, "allow_logprobs": True, "allow_search_indices": False,
    "allow_view": True, "allow_fine_tuning": False, "organization": "*", "group": None, "is_blocking": False,
}  # fmt: skip
_CREATED_AT = datetime.fromtimestamp(CREATED, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _State(Protocol):
    relay: Relay
    dbs: Databases


@dataclass(frozen=True)
class KeyHolder:
    token: TokenInfo
    user: UserInfo
    group: str


def _state(request: Request) -> _State:
    state: _State = request.app.state.clinx
    return state


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


# --- authentication -------------------------------------------------------------------------------------------


def _key_group(o: OptionsSnapshot, token: TokenInfo, user: UserInfo) -> str:
    """The group the key relays in, refused exactly as the relay refuses it (same messages)."""
    if not token.group:
        return user.group
    if token.group != user.group and token.group not in (o.get_json("UserUsableGroups") or {}):
        raise ForbiddenError(f"令牌分组 {token.group} 已被禁用 (group {token.group} is not available to you)")
    if token.group not in (o.get_json("GroupRatio") or {}):
        raise ForbiddenError(f"分组 {token.group} 已被弃用 (group {token.group} no longer exists)")
    return token.group


async def _authenticate(request: Request) -> KeyHolder:
    """The relay's key check: a usable key (enabled, not expired, not exhausted) of an enabled owner."""
    relay = _state(request).relay
    raw = api_keys.read_key(request.headers, request.query_params)
    if not raw:
        raise AuthError("未提供令牌 (no API key was sent)")
    key, pin = api_keys.split_key(raw)
    ttl = float(relay.settings.sync_frequency)
    token = api_keys.check_token(await api_keys.load_token(relay.main, relay.cache, key, ttl), relay.clock.now())
    user = api_keys.check_user(await api_keys.load_user(relay.main, relay.cache, token.user_id, ttl))
    api_keys.check_ip(token, client_ip(request))
    if pin is not None and user.role < Role.ADMIN:
        raise ForbiddenError("普通用户不支持指定渠道 (only admins may pin a channel)")
    return KeyHolder(token, user, _key_group(relay.options.current, token, user))


async def _fresh_token(request: Request, key: str) -> Row:
    """The key's row read from the database: cached keys carry a possibly stale ``remain_quota``."""
    async with _state(request).relay.main.connect() as conn:
        row = await tokens_repo.get_by_key(conn, key)
    if row is None:
        raise AuthError("无效的令牌 (invalid API key)")
    return row


Handler = Callable[[Request], Awaitable[Response]]


def _openai_errors(handler: Handler) -> Handler:
    """Every answer carries a request id; failures use OpenAI's error shape."""

    async def endpoint(request: Request) -> Response:
        request_id = new_request_id()
        try:
            response = await handler(request)
        except ClinxError as error:
            response = openai_error(error, request_id)
        response.headers["X-Oneapi-Request-Id"] = request_id
        return response

    return endpoint


# --- /v1/models -----------------------------------------------------------------------------------------------


def _accepts_unpriced(o: OptionsSnapshot, user: UserInfo) -> bool:
    if o.get_bool("SelfUseModeEnabled"):
        return True
    try:
        setting = orjson.loads(user.setting) if user.setting else None
    except orjson.JSONDecodeError:
        return False
    return isinstance(setting, dict) and bool(setting.get("accept_unset_model_ratio_model"))


def usable_models(request: Request, holder: KeyHolder) -> list[str]:
    """Models enabled for the key's group, within its allow-list, and (unless self-use) priced."""
    relay = _state(request).relay
    o = relay.options.current
    names = relay.index.current.models_for_group(holder.group)
    limits = holder.token.model_limits
    if limits is not None:
        names = [m for m in names if m in limits or normalise_model(m) in limits]
    if not _accepts_unpriced(o, holder.user):
        names = [m for m in names if resolve_price(o, m, holder.group) is not None]
    return names


def _dialect(request: Request) -> str:
    """New API keys the Anthropic form on ``x-api-key`` + ``anthropic-version``; the current anthropic SDK sends
    its key as ``Authorization: Bearer``, so ``anthropic-version`` alone decides (no OpenAI client sends it)."""
    headers = request.headers
    if headers.get("anthropic-version"):
        return "anthropic"
    if headers.get("x-goog-api-key") or request.query_params.get("key"):
        return "gemini"
    return "openai"


def openai_model(name: str) -> dict[str, Any]:
    return {
        "id": name,
        "object": "model",
        "created": CREATED,
        "owned_by": owner_of(name),
        "permission": [_PERMISSION],
        "root": name,
        "parent": None,
    }


def anthropic_model(name: str) -> dict[str, Any]:
    return {"id": name, "created_at": _CREATED_AT, "display_name": name, "type": "model"}


def gemini_model(name: str) -> dict[str, Any]:
    return {"name": f"models/{name}", "displayName": name, "supportedGenerationMethods": list(GEMINI_METHODS)}


async def list_models(request: Request) -> Response:
    names = usable_models(request, await _authenticate(request))
    dialect = "gemini" if request.url.path.startswith("/v1beta/") else _dialect(request)
    if dialect == "anthropic":
        return _json(
            {
                "data": [anthropic_model(n) for n in names],
                "first_id": names[0] if names else None,
                "has_more": False,
                "last_id": names[-1] if names else None,
            }
        )
    if dialect == "gemini":
        return _json({"models": [gemini_model(n) for n in names], "nextPageToken": None})
    return _json({"success": True, "object": "list", "data": [openai_model(n) for n in names]})


async def retrieve_model(request: Request) -> Response:
    name = request.path_params["model"]
    if name not in usable_models(request, await _authenticate(request)):
        # New API answers an unknown model with HTTP 200 and an error body.
        error = {
            "message": f"The model '{name}' does not exist",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
        return _json({"error": error})
    render = {"anthropic": anthropic_model, "gemini": gemini_model}.get(_dialect(request), openai_model)
    return _json(render(name))


# --- /dashboard/billing/* -------------------------------------------------------------------------------------


def display_amount(o: OptionsSnapshot, quota: int) -> float:
    """Quota as the site displays money: US$ (÷ QuotaPerUnit), CNY (× USDExchangeRate) or raw quota."""
    if not o.get_bool("DisplayInCurrencyEnabled"):
        return float(quota)
    display = o.get_str("general_setting.quota_display_type")
    if display == "TOKENS":
        return float(quota)
    amount = quota / (o.get_float("QuotaPerUnit") or 500_000.0)
    if display == "CNY":
        amount *= o.get_float("USDExchangeRate")
    return amount


async def _wallet(request: Request, user_id: int) -> Row:
    row = await users_repo.get(_state(request).relay.main, user_id)
    if row is None:
        raise ForbiddenError("用户已被封禁 (the key's owner is disabled)")
    return row


async def billing_subscription(request: Request) -> Response:
    holder = await _authenticate(request)
    o = _state(request).relay.options.current
    access_until = 0
    if o.get_bool("DisplayTokenStatEnabled"):
        row = await _fresh_token(request, holder.token.key)
        quota = int(row.get("remain_quota") or 0) + int(row.get("used_quota") or 0)
        amount = UNLIMITED_AMOUNT if row.get("unlimited_quota") else display_amount(o, quota)
        access_until = max(0, int(row.get("expired_time") or 0))
    else:
        # The wallet view reports no expiry, as New API (the key's expiry is not the wallet's).
        wallet = await _wallet(request, holder.user.id)
        amount = display_amount(o, int(wallet.get("quota") or 0) + int(wallet.get("used_quota") or 0))
    return _json(
        {
            "object": "billing_subscription",
            "has_payment_method": True,
            "soft_limit_usd": amount,
            "hard_limit_usd": amount,
            "system_hard_limit_usd": amount,
            "access_until": access_until,
        }
    )


async def billing_usage(request: Request) -> Response:
    holder = await _authenticate(request)
    o = _state(request).relay.options.current
    if o.get_bool("DisplayTokenStatEnabled"):
        used = int((await _fresh_token(request, holder.token.key)).get("used_quota") or 0)
    else:
        used = int((await _wallet(request, holder.user.id)).get("used_quota") or 0)
    return _json({"object": "list", "total_usage": display_amount(o, used) * 100})


# --- /api/usage/token -----------------------------------------------------------------------------------------


def _usage_error(error: ClinxError, request_id: str) -> Response:
    """New API answers ``{"success": false, "message"}`` here; the OpenAI error object rides along for SDKs."""
    body = orjson.loads(openai_error(error, request_id).body)
    return _json({"success": False, "message": error.message, **body}, status=error.status)


async def _readable_key(request: Request) -> Row:
    """A key that exists and is not disabled: expired and exhausted keys may still read their usage."""
    relay = _state(request).relay
    raw = api_keys.read_key(request.headers, request.query_params)
    if not raw:
        raise AuthError("未提供令牌 (no API key was sent)")
    key, _pin = api_keys.split_key(raw)
    row = await _fresh_token(request, key)
    if int(row.get("status") or 0) == TokenStatus.DISABLED:
        raise AuthError("该令牌状态不可用 (this API key is disabled)")
    ttl = float(relay.settings.sync_frequency)
    api_keys.check_user(await api_keys.load_user(relay.main, relay.cache, int(row["user_id"]), ttl))
    return row


def token_usage_out(row: Row) -> dict[str, Any]:
    remain, used = int(row.get("remain_quota") or 0), int(row.get("used_quota") or 0)
    limits = [m for m in str(row.get("model_limits") or "").split(",") if m]
    expired = int(row["expired_time"] if row.get("expired_time") is not None else -1)
    return {
        "object": "token_usage",
        "name": str(row.get("name") or ""),
        "total_granted": remain + used,
        "total_used": used,
        "total_available": remain,
        "unlimited_quota": bool(row.get("unlimited_quota")),
        "model_limits": dict.fromkeys(limits, True),
        "model_limits_enabled": bool(row.get("model_limits_enabled")),
        "expires_at": 0 if expired == -1 else expired,
    }


async def token_usage(request: Request) -> Response:
    request_id = new_request_id()
    try:
        row = await _readable_key(request)
    except ClinxError as error:
        response = _usage_error(error, request_id)
    else:
        response = _json({"code": True, "message": "ok", "data": token_usage_out(row)})
    response.headers["X-Oneapi-Request-Id"] = request_id
    return response


# --- /api/log/token -------------------------------------------------------------------------------------------


async def key_logs(request: Request) -> Response:
    """Public: whoever holds the key may read its consume logs (the key is the credential)."""
    cors = {"Access-Control-Allow-Origin": "*"}
    key = request.query_params.get("key", "").strip().removeprefix("sk-").partition("-")[0]
    async with _state(request).relay.main.connect() as conn:
        row = await tokens_repo.get_by_key(conn, key)
    if row is None:
        return _json({"success": False, "message": "无效的令牌 (invalid API key)"}, headers=cors)
    rows = await logs_repo.list_for_token(_state(request).dbs.logs, int(row["id"]), limit=KEY_LOG_LIMIT)
    return _json({"success": True, "message": "", "data": [owner_view(r) for r in rows]}, headers=cors)


def info_routes() -> list[BaseRoute]:
    subscription = _openai_errors(billing_subscription)
    usage = _openai_errors(billing_usage)
    return [
        Route("/v1/models", _openai_errors(list_models), methods=["GET"]),
        Route("/v1beta/models", _openai_errors(list_models), methods=["GET"]),
        Route("/v1/models/{model:path}", _openai_errors(retrieve_model), methods=["GET"]),
        Route("/dashboard/billing/subscription", subscription, methods=["GET"]),
        Route("/v1/dashboard/billing/subscription", subscription, methods=["GET"]),
        Route("/dashboard/billing/usage", usage, methods=["GET"]),
        Route("/v1/dashboard/billing/usage", usage, methods=["GET"]),
        Route("/api/usage/token", token_usage, methods=["GET"]),
        Route("/api/usage/token/", token_usage, methods=["GET"]),
        Route("/api/log/token", key_logs, methods=["GET"]),
    ]
