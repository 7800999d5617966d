"""API keys (tokens): a logged-in user lists, creates, edits, reveals and deletes their own keys (New API
``/api/token``). Another user's token id behaves as if it did not exist."""

from __future__ import annotations

import ipaddress
from typing import Any

import orjson
from fastapi import APIRouter

from clinx.api.deps import Body, Caller, State, UserCaller
from clinx.api.envelope import JSONBody, fail, ok
from clinx.auth.key_cache import forget_key
from clinx.auth.keys import mask_key, new_api_key
from clinx.config.options import OptionsSnapshot
from clinx.core.enums import TokenStatus
from clinx.core.errors import NotFoundError, ValidationError
from clinx.store.repos import tokens as tokens_repo
from clinx.store.rows import Page, Row, page_args

router = APIRouter(prefix="/api/token", tags=["tokens"])

MAX_NAME = 50
MAX_BATCH_KEYS = 100
DEFAULT_MAX_USER_TOKENS = 1000  # New API token_setting.max_user_tokens
MAX_QUOTA_UNITS = 1_000_000_000  # New API caps a key's budget at one billion dollars' worth of quota
NOT_FOUND = "未找到令牌 (token not found)"
EXPIRED_CANNOT_ENABLE = "令牌已过期，无法启用，请先修改令牌过期时间，或者设置为永不过期"
EXHAUSTED_CANNOT_ENABLE = "令牌可用额度已用尽，无法启用，请先修改令牌剩余额度，或者设置为无限额度"

TOKEN_FIELDS = (
    "id", "user_id", "key", "status", "name", "created_time", "accessed_time", "expired_time", "remain_quota",
    "unlimited_quota", "model_limits_enabled", "model_limits", "allow_ips", "used_quota", "group",
    "cross_group_retry", "auto_groups",
)  # fmt: skip
_TEXT_FIELDS = {"key", "name", "model_limits", "allow_ips", "group"}
_BOOL_FIELDS = {"unlimited_quota", "model_limits_enabled", "cross_group_retry"}


def _auto_groups(text: Any) -> list[str] | None:
    if not text:
        return None
    try:
        groups = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(groups, list) or not groups:
        return None
    return [str(g) for g in groups]


def token_out(row: Row) -> dict[str, Any]:
    """A token as New API's latest console shows it: every field, the key masked."""
    out: dict[str, Any] = {}
    for name in TOKEN_FIELDS:
        value = row.get(name)
        if name in _TEXT_FIELDS:
            value = "" if value is None else str(value)
        elif name in _BOOL_FIELDS:
            value = bool(value)
        elif name == "expired_time":
            value = -1 if value is None else int(value)
        elif name != "auto_groups":
            value = int(value or 0)
        out[name] = value
    out["key"] = mask_key(out["key"])
    out["auto_groups"] = _auto_groups(row.get("auto_groups"))
    return out


def _page_out(page: Page) -> dict[str, Any]:
    items = [token_out(r) for r in page.items]
    return {"items": items, "total": page.total, "page": page.page, "page_size": page.page_size}


# --- request fields ---------------------------------------------------------------------------------------------


def _int(body: Body, name: str, default: int) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"无效的参数 ({name} must be an integer)")
    return value


def _bool(body: Body, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationError(f"无效的参数 ({name} must be true or false)")
    return value


def _text(body: Body, name: str, default: str) -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationError(f"无效的参数 ({name} must be a string)")
    return value


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError("令牌名称不能为空 (name is required)")
    if len(name) > MAX_NAME:
        raise ValidationError(f"令牌名称过长 (name must be at most {MAX_NAME} characters)")
    return name


def _check_expiry(expired_time: int, now: int, unchanged_from: int | None) -> int:
    # Editing other fields of an already expired key must not force a new expiry date.
    if expired_time == -1 or expired_time > now or expired_time == unchanged_from:
        return expired_time
    raise ValidationError("过期时间无效 (expired_time must be -1 for never, or a future time in unix seconds)")


def _check_quota(remain_quota: int, options: OptionsSnapshot) -> int:
    if remain_quota < 0:
        raise ValidationError("额度值不能为负数 (remain_quota must be 0 or more)")
    limit = MAX_QUOTA_UNITS * (options.get_int("QuotaPerUnit") or 500_000)
    if remain_quota > limit:
        raise ValidationError(f"额度值超出有效范围，最大值为 {limit}")
    return remain_quota


def _clean_model_limits(text: str) -> str:
    return ",".join(m.strip() for m in text.split(",") if m.strip())


def _clean_allow_ips(text: str) -> str:
    entries = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    for entry in entries:
        try:
            if "/" in entry:
                ipaddress.ip_network(entry, strict=False)
            else:
                ipaddress.ip_address(entry)
        except ValueError:
            raise ValidationError(
                f"IP 白名单格式错误：{entry} (allow_ips takes one IP address or CIDR range per line)"
            ) from None
    return "\n".join(entries)


def _check_group(group: str, caller: Caller, options: OptionsSnapshot) -> str:
    group = group.strip()
    if not group or group == str(caller.user.get("group") or ""):
        return group
    usable = options.get_json("UserUsableGroups")
    if isinstance(usable, dict) and group in usable:
        return group
    raise ValidationError(f"无权使用分组 {group} (group '{group}' is not available to you)")


def _writable(body: Body, caller: Caller, state: State, current: Row | None) -> dict[str, Any]:
    """The editable fields from ``body``, validated; absent fields keep ``current`` (or New API's defaults)."""
    old = current or {}
    options = state.options.current
    old_expiry = int(old["expired_time"]) if old.get("expired_time") is not None else None
    unlimited = _bool(body, "unlimited_quota", bool(old.get("unlimited_quota", False)))
    values: dict[str, Any] = {
        "name": _check_name(_text(body, "name", str(old.get("name") or ""))),
        "expired_time": _check_expiry(
            _int(body, "expired_time", -1 if old_expiry is None else old_expiry), state.clock.now(), old_expiry
        ),
        "remain_quota": _check_quota(_int(body, "remain_quota", int(old.get("remain_quota") or 0)), options),
        "unlimited_quota": unlimited,
        "model_limits_enabled": _bool(body, "model_limits_enabled", bool(old.get("model_limits_enabled", False))),
        "model_limits": _clean_model_limits(_text(body, "model_limits", str(old.get("model_limits") or ""))),
        "allow_ips": _clean_allow_ips(_text(body, "allow_ips", str(old.get("allow_ips") or ""))),
        "group": _check_group(_text(body, "group", str(old.get("group") or "")), caller, options),
    }
    if values["group"] != "auto":
        values["cross_group_retry"] = False
        values["auto_groups"] = None
    return values


def _ids(body: Body) -> list[int]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValidationError("无效的参数 (ids must be a non-empty list of token ids)")
    return list(dict.fromkeys(ids))


def _max_user_tokens(options: OptionsSnapshot) -> int:
    configured = options.get("token_setting.max_user_tokens")
    return int(configured) if isinstance(configured, int) and configured > 0 else DEFAULT_MAX_USER_TOKENS


# --- routes: fixed paths first, then /{token_id} -------------------------------------------------------------------


@router.get("/", summary="The caller's API keys, newest first (keys masked)")
async def list_tokens(
    state: State, caller: UserCaller, p: int | None = None, size: int | None = None, page_size: int | None = None
) -> JSONBody:
    page, per_page = page_args(p, page_size or size)
    async with state.dbs.main.connect() as conn:
        found = await tokens_repo.list_for_user(conn, caller.id, page, per_page)
    return ok(_page_out(found))


@router.get("/search", summary="Search the caller's API keys by name and/or key fragment")
async def search_tokens(
    state: State,
    caller: UserCaller,
    keyword: str = "",
    token: str = "",
    p: int | None = None,
    size: int | None = None,
    page_size: int | None = None,
) -> JSONBody:
    page, per_page = page_args(p, page_size or size)
    fragment = token.strip().removeprefix("sk-")
    async with state.dbs.main.connect() as conn:
        found = await tokens_repo.search_for_user(conn, caller.id, keyword.strip(), fragment, page, per_page)
    return ok(_page_out(found))


@router.post("/batch/keys", summary="Reveal the full keys of several of the caller's tokens")
async def batch_keys(state: State, caller: UserCaller, body: Body) -> JSONBody:
    ids = _ids(body)
    if len(ids) > MAX_BATCH_KEYS:
        return fail(f"批量请求数量过多，最多 {MAX_BATCH_KEYS} 条")
    async with state.dbs.main.connect() as conn:
        keys = await tokens_repo.keys_for_user(conn, caller.id, ids)
    return ok({"keys": {str(token_id): key for token_id, key in keys.items()}})


@router.post("/batch", summary="Delete several of the caller's tokens; answers how many were deleted")
async def batch_delete(state: State, caller: UserCaller, body: Body) -> JSONBody:
    ids = _ids(body)
    async with state.dbs.main.begin() as conn:
        deleted = await tokens_repo.soft_delete_many(conn, caller.id, ids)
    for key in deleted:
        await forget_key(state.cache, key)
    return ok(len(deleted))


@router.post("/", summary="Create an API key (the answer holds no key: reveal it with POST /{id}/key)")
async def create_token(state: State, caller: UserCaller, body: Body) -> JSONBody:
    values = _writable(body, caller, state, None)
    now = state.clock.now()
    limit = _max_user_tokens(state.options.current)
    async with state.dbs.main.begin() as conn:
        if await tokens_repo.count_for_user(conn, caller.id) >= limit:
            return fail(f"已达到最大令牌数量限制 ({limit}) (delete unused keys before creating more)")
        await tokens_repo.create(
            conn,
            {
                **values,
                "user_id": caller.id,
                "key": new_api_key(),
                "status": int(TokenStatus.ENABLED),
                "created_time": now,
                "accessed_time": now,
                "used_quota": 0,
            },
        )
    return ok()


def _check_can_enable(row: Row, now: int) -> None:
    expiry = int(row["expired_time"]) if row.get("expired_time") is not None else -1
    if expiry != -1 and expiry < now:
        raise ValidationError(EXPIRED_CANNOT_ENABLE)
    if not row.get("unlimited_quota") and int(row.get("remain_quota") or 0) <= 0:
        raise ValidationError(EXHAUSTED_CANNOT_ENABLE)


def _status(body: Body) -> int:
    status = _int(body, "status", 0)
    if status not in {int(s) for s in TokenStatus}:
        raise ValidationError("无效的参数 (status must be 1 enabled, 2 disabled, 3 expired or 4 exhausted)")
    return status


@router.put("/", summary="Edit an API key; with ?status_only=true only its status changes")
async def update_token(state: State, caller: UserCaller, body: Body, status_only: str = "") -> JSONBody:
    token_id = _int(body, "id", 0)
    only_status = status_only.strip().lower() not in {"", "false", "0"}
    async with state.dbs.main.begin() as conn:
        current = await tokens_repo.get_for_user(conn, token_id, caller.id)
        if current is None:
            raise NotFoundError(NOT_FOUND)
        if only_status:
            status = _status(body)
            if status == TokenStatus.ENABLED:
                _check_can_enable(current, state.clock.now())
            values: dict[str, Any] = {"status": status}
        else:
            values = _writable(body, caller, state, current)
        await tokens_repo.update_fields(conn, token_id, caller.id, values)
        updated = await tokens_repo.get_for_user(conn, token_id, caller.id)
    await forget_key(state.cache, str(current["key"]))
    return ok(token_out(updated or {**current, **values}))


@router.get("/{token_id:int}", summary="One of the caller's API keys (key masked)")
async def get_token(state: State, caller: UserCaller, token_id: int) -> JSONBody:
    async with state.dbs.main.connect() as conn:
        row = await tokens_repo.get_for_user(conn, token_id, caller.id)
    if row is None:
        raise NotFoundError(NOT_FOUND)
    return ok(token_out(row))


@router.delete("/{token_id:int}", summary="Delete one of the caller's API keys")
async def delete_token(state: State, caller: UserCaller, token_id: int) -> JSONBody:
    async with state.dbs.main.begin() as conn:
        deleted = await tokens_repo.soft_delete_many(conn, caller.id, [token_id])
    if not deleted:
        raise NotFoundError(NOT_FOUND)
    await forget_key(state.cache, deleted[0])
    return ok()


@router.post("/{token_id:int}/key", summary="Reveal the full key (48 characters, without sk-)")
async def reveal_key(state: State, caller: UserCaller, token_id: int) -> JSONBody:
    async with state.dbs.main.connect() as conn:
        keys = await tokens_repo.keys_for_user(conn, caller.id, [token_id])
    if token_id not in keys:
        raise NotFoundError(NOT_FOUND)
    return ok({"key": keys[token_id]})
