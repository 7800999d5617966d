"""API keys on the relay path: where the key is read from, loading key and owner through the cache, and the
checks New API makes (status, expiry, quota, IP allow-list, model allow-list), with New API's messages."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import orjson

from clinx.auth.key_cache import cache_key, user_cache_key
from clinx.cache.base import Cache
from clinx.core.enums import TokenStatus, UserStatus
from clinx.core.errors import AuthError, ForbiddenError
from clinx.core.metrics import Counter
from clinx.core.types import TokenInfo, UserInfo
from clinx.store.engine import Engine
from clinx.store.repos import tokens as tokens_repo
from clinx.store.repos import users as users_repo
from clinx.store.rows import Row

# Label values of the ``clinx_cache_requests_total`` counter (cache, result), built once.
TOKEN_HIT, TOKEN_MISS = ("token", "hit"), ("token", "miss")
USER_HIT, USER_MISS = ("user", "hit"), ("user", "miss")


def read_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str:
    """The raw key from ``Authorization: Bearer``, ``x-api-key``, ``x-goog-api-key``, ``?key=`` or
    ``mj-api-secret`` — the first one present."""
    auth = headers.get("authorization", "")
    if auth and auth != "midjourney-proxy":
        return auth.removeprefix("Bearer ").removeprefix("bearer ").strip()
    for name in ("x-api-key", "x-goog-api-key", "mj-api-secret"):
        value = headers.get(name)
        if value:
            return value.strip()
    return query.get("key", "").strip()


def split_key(raw: str) -> tuple[str, int | None]:
    """``sk-KEY`` or ``sk-KEY-CHANNELID`` → (KEY, channel id or None)."""
    key = raw.removeprefix("sk-")
    key, sep, pin = key.partition("-")
    if not sep:
        return key, None
    if not pin.isdigit():
        raise ForbiddenError("无效的渠道 Id (invalid channel id in the key)", status=400)
    return key, int(pin)


def _token_from_row(row: Row) -> TokenInfo:
    limits = None
    if row.get("model_limits_enabled"):
        limits = frozenset(m.strip() for m in str(row.get("model_limits") or "").split(",") if m.strip())
    raw_ips = str(row.get("allow_ips") or "").replace(",", "\n")
    ips = tuple(line.strip() for line in raw_ips.splitlines() if line.strip())
    return TokenInfo(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        key=str(row["key"]),
        name=str(row.get("name") or ""),
        status=int(row.get("status") or 0),
        expired_time=int(row["expired_time"] if row.get("expired_time") is not None else -1),
        remain_quota=int(row.get("remain_quota") or 0),
        unlimited_quota=bool(row.get("unlimited_quota")),
        model_limits=limits,
        allow_ips=ips,
        group=str(row.get("group") or ""),
    )


def _user_from_row(row: Row) -> UserInfo:
    return UserInfo(
        id=int(row["id"]),
        username=str(row.get("username") or ""),
        group=str(row.get("group") or "default"),
        status=int(row.get("status") or 0),
        role=int(row.get("role") or 0),
        quota=int(row.get("quota") or 0),
        setting=str(row.get("setting") or ""),
    )


def _encode(info: TokenInfo | UserInfo) -> bytes:
    data: dict[str, Any] = dict(info.__dict__)
    if isinstance(info, TokenInfo):
        data["model_limits"] = None if info.model_limits is None else sorted(info.model_limits)
    return orjson.dumps(data)


# Decoded cache entries by their bytes: the relay reads the same few keys thousands of times a second, and equal
# bytes decode to equal (immutable) objects, so invalidation stays the cache's job.
_DECODED_TOKENS: dict[bytes, TokenInfo] = {}
_DECODED_USERS: dict[bytes, UserInfo] = {}
_DECODED_MAX = 4096


def _decode_token(raw: bytes) -> TokenInfo:
    token = _DECODED_TOKENS.get(raw)
    if token is None:
        if len(_DECODED_TOKENS) >= _DECODED_MAX:
            _DECODED_TOKENS.clear()
        token = _DECODED_TOKENS[raw] = _parse_token(raw)
    return token


def _decode_user(raw: bytes) -> UserInfo:
    user = _DECODED_USERS.get(raw)
    if user is None:
        if len(_DECODED_USERS) >= _DECODED_MAX:
            _DECODED_USERS.clear()
        user = _DECODED_USERS[raw] = UserInfo(**orjson.loads(raw))
    return user


def _parse_token(raw: bytes) -> TokenInfo:
    data = orjson.loads(raw)
    limits = data.pop("model_limits")
    data["allow_ips"] = tuple(data["allow_ips"])
    return TokenInfo(model_limits=None if limits is None else frozenset(limits), **data)


async def load_token(
    engine: Engine, cache: Cache, key: str, ttl: float, *, lookups: Counter | None = None
) -> TokenInfo | None:
    """The key from the cache, or from the database on a miss (then cached). ``lookups`` counts hits/misses."""
    cached = await cache.get(cache_key(key))
    if lookups is not None:
        lookups.inc(TOKEN_MISS if cached is None else TOKEN_HIT)
    if cached is not None:
        return _decode_token(cached)
    async with engine.connect() as conn:
        row = await tokens_repo.get_by_key(conn, key)
    if row is None:
        return None
    token = _token_from_row(row)
    await cache.set(cache_key(key), _encode(token), ttl)
    return token


async def load_user(
    engine: Engine, cache: Cache, user_id: int, ttl: float, *, lookups: Counter | None = None
) -> UserInfo | None:
    cached = await cache.get(user_cache_key(user_id))
    if lookups is not None:
        lookups.inc(USER_MISS if cached is None else USER_HIT)
    if cached is not None:
        return _decode_user(cached)
    row = await users_repo.get(engine, user_id)
    if row is None:
        return None
    user = _user_from_row(row)
    await cache.set(user_cache_key(user_id), _encode(user), ttl)
    return user


def check_token(token: TokenInfo | None, now: int, *, held: int = 0) -> TokenInfo:
    """Status, expiry and quota of a key (401 on failure, New API's messages). ``held`` is the key's quota
    leased by this process, which the stored ``remain_quota`` no longer shows."""
    if token is None:
        raise AuthError("无效的令牌 (invalid API key)")
    if token.status == TokenStatus.EXPIRED or (token.expired_time != -1 and token.expired_time < now):
        raise AuthError("该令牌已过期 (this API key has expired)")
    if token.status == TokenStatus.EXHAUSTED or (not token.unlimited_quota and token.remain_quota + held <= 0):
        masked = f"sk-{token.key[:3]}***{token.key[-3:]}"
        raise AuthError(f"[{masked}] 该令牌额度已用尽 (this API key's quota is used up)")
    if token.status != TokenStatus.ENABLED:
        raise AuthError("该令牌状态不可用 (this API key is disabled)")
    return token


def check_user(user: UserInfo | None) -> UserInfo:
    if user is None or user.status != UserStatus.ENABLED:
        raise ForbiddenError("用户已被封禁 (the key's owner is disabled)")
    return user


def ip_allowed(allow_ips: tuple[str, ...], client_ip: str) -> bool:
    if not allow_ips:
        return True
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    for entry in allow_ips:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_ip(token: TokenInfo, client_ip: str) -> None:
    if not ip_allowed(token.allow_ips, client_ip):
        raise ForbiddenError("您的 IP 不在令牌允许访问的列表中 (your IP is not allowed for this key)")


def check_model(token: TokenInfo, model: str, normalised: str) -> None:
    if token.model_limits is None:
        return
    if not token.model_limits:
        raise ForbiddenError("该令牌无权访问任何模型 (this key may not use any model)")
    if model not in token.model_limits and normalised not in token.model_limits:
        raise ForbiddenError(f"该令牌无权访问模型 {model} (this key may not use model {model})")
