"""New API's rate limiters, kept in the Cache (per process in memory, shared by every worker and node on Redis):
the per-IP fixed windows (global API ``GA``, global web ``GW``, critical ``CT``) and the per-user model request
limit on the relay (two sliding windows of request times: every request, and successful ones only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinx.auth import api_keys
from clinx.cache.base import Cache
from clinx.config.options import OptionsSnapshot
from clinx.config.settings import RateLimit
from clinx.core.clock import Clock
from clinx.core.errors import AuthError, RateLimitError
from clinx.store.engine import Engine

GLOBAL_API = "GA"
GLOBAL_WEB = "GW"
CRITICAL = "CT"
TOTAL_MARK = "MRRL"
SUCCESS_MARK = "MRRLS"
RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"


def ip_key(mark: str, ip: str) -> str:
    return f"rateLimit:{mark}:{ip}"


async def hit_ip_limit(cache: Cache, mark: str, ip: str, limit: RateLimit) -> bool:
    """Count one request from ``ip`` in the current fixed window of ``limit.duration`` seconds; False once more than
    ``limit.count`` arrived. A disabled limit, or a count or duration ≤ 0 (which would lock everyone out), admits."""
    if not limit.enabled or limit.count <= 0 or limit.duration <= 0:
        return True
    return await cache.incr(ip_key(mark, ip), 1, ttl=limit.duration) <= limit.count


@dataclass(frozen=True)
class ModelLimits:
    """The model request limit that applies to one caller; a count of 0 means that counter is unlimited."""

    minutes: int
    total: int
    success: int

    @property
    def window(self) -> int:
        return self.minutes * 60


def _group_override(raw: Any, group: str) -> tuple[int, int] | None:
    limits = raw.get(group) if isinstance(raw, dict) and group else None
    if isinstance(limits, list) and len(limits) == 2 and all(isinstance(n, int) for n in limits):
        return int(limits[0]), int(limits[1])
    return None


def model_limits(options: OptionsSnapshot, group: str) -> ModelLimits | None:
    """The limits for a caller in ``group`` (``ModelRequestRateLimitGroup`` overrides both counts), or None when
    the limiter is off."""
    if not options.get_bool("ModelRequestRateLimitEnabled"):
        return None
    minutes = options.get_int("ModelRequestRateLimitDurationMinutes")
    if minutes <= 0:
        return None
    total = options.get_int("ModelRequestRateLimitCount")
    success = options.get_int("ModelRequestRateLimitSuccessCount")
    override = _group_override(options.get_json("ModelRequestRateLimitGroup"), group)
    if override is not None:
        total, success = override
    return ModelLimits(minutes=minutes, total=max(total, 0), success=max(success, 0))


def _total_message(limits: ModelLimits) -> str:
    return (
        f"您已达到总请求数限制：{limits.minutes}分钟内最多请求{limits.total}次，包括失败次数，请检查您的请求是否正确 "
        f"(you reached the limit of {limits.total} requests, failures included, per {limits.minutes} minutes)"
    )


def _success_message(limits: ModelLimits) -> str:
    return (
        f"您已达到请求数限制：{limits.minutes}分钟内最多请求{limits.success}次 "
        f"(you reached the limit of {limits.success} successful requests per {limits.minutes} minutes)"
    )


@dataclass(frozen=True)
class ModelRequestTicket:
    """An admitted relay request: ``succeeded`` logs it against the success counter."""

    cache: Cache
    clock: Clock
    user_id: int
    limits: ModelLimits

    async def succeeded(self) -> None:
        if self.limits.success > 0:
            key = f"rateLimit:{SUCCESS_MARK}:{self.user_id}"
            await self.cache.hit_window(key, float(self.clock.now()), self.limits.success, self.limits.window)


async def admit_model_request(cache: Cache, clock: Clock, user_id: int, limits: ModelLimits) -> ModelRequestTicket:
    """Check and log the request against the total counter, then check (without logging) the success counter, as
    New API does; raises RateLimitError (429) when either is full."""
    now = float(clock.now())
    if limits.total > 0 and not await cache.hit_window(
        f"rateLimit:{TOTAL_MARK}:{user_id}", now, limits.total, limits.window
    ):
        raise RateLimitError(_total_message(limits), code=RATE_LIMIT_EXCEEDED)
    if limits.success > 0 and not await cache.hit_window(
        f"rateLimit:{SUCCESS_MARK}:{user_id}", now, limits.success, limits.window, record=False
    ):
        raise RateLimitError(_success_message(limits), code=RATE_LIMIT_EXCEEDED)
    return ModelRequestTicket(cache, clock, user_id, limits)


@dataclass(frozen=True)
class KeyOwner:
    user_id: int
    group: str


async def key_owner(engine: Engine, cache: Cache, raw_key: str, now: int, ttl: float) -> KeyOwner | None:
    """Whose key this is and which group it bills (key group, else the owner's), through the key cache; None when
    the key would be refused anyway — the pipeline answers that with its own error, uncounted, as New API."""
    if not raw_key:
        return None
    try:
        key, _pin = api_keys.split_key(raw_key)
        token = api_keys.check_token(await api_keys.load_token(engine, cache, key, ttl), now)
        user = api_keys.check_user(await api_keys.load_user(engine, cache, token.user_id, ttl))
    except AuthError:
        return None
    return KeyOwner(user_id=user.id, group=token.group or user.group)


async def gate_model_request(
    engine: Engine, cache: Cache, clock: Clock, options: OptionsSnapshot, raw_key: str, ttl: float
) -> ModelRequestTicket | None:
    """Apply the model request limit to a relay call made with ``raw_key``: None when the limiter is off or the key
    is refused anyway, else the ticket whose ``succeeded`` the caller awaits when the answer's status is below 400."""
    if not options.get_bool("ModelRequestRateLimitEnabled"):
        return None
    owner = await key_owner(engine, cache, raw_key, clock.now(), ttl)
    limits = None if owner is None else model_limits(options, owner.group)
    if owner is None or limits is None:
        return None
    return await admit_model_request(cache, clock, owner.user_id, limits)
