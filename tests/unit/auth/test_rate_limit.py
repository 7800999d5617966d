"""The rate limiters on both cache backends, with time moved by a FixedClock (memory expiries follow it too):
per-IP fixed windows, the model request limit's two sliding windows, and the middleware's route classification."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
import pytest
from redis.asyncio import Redis

from clinx.api.rate_limit_middleware import marks_for, too_many_requests
from clinx.auth.rate_limit import (
    CRITICAL,
    GLOBAL_API,
    GLOBAL_WEB,
    ModelLimits,
    admit_model_request,
    hit_ip_limit,
    model_limits,
)
from clinx.cache.base import Cache
from clinx.cache.memory import MemoryCache
from clinx.cache.redis import RedisCache
from clinx.config.live import LiveOptions
from clinx.config.option_keys import build_registry
from clinx.config.options import OptionsSnapshot
from clinx.config.settings import RateLimit
from clinx.core.clock import FixedClock
from clinx.core.errors import RateLimitError
from tests.support.backends import REDIS_URL, skip_unless_reachable


@dataclass
class Limiter:
    cache: Cache
    clock: FixedClock
    on_redis: bool


@pytest.fixture(params=("memory", "redis"))
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[Limiter]:
    clock = FixedClock()
    if request.param == "memory":
        cache = MemoryCache(now=lambda: float(clock.now()))
        yield Limiter(cache, clock, on_redis=False)
        await cache.close()
        return
    skip_unless_reachable("redis")
    prefix = f"clinx-test:{uuid.uuid4().hex}:"
    redis_cache = RedisCache.from_url(REDIS_URL, prefix=prefix)
    raw = Redis.from_url(REDIS_URL)
    try:
        yield Limiter(redis_cache, clock, on_redis=True)
    finally:
        keys = [key async for key in raw.scan_iter(match=prefix + "*")]
        if keys:
            await raw.delete(*keys)
        await redis_cache.close()
        await raw.aclose()


def options(**values: str) -> OptionsSnapshot:
    live = LiveOptions(build_registry())
    live.replace(values)
    return live.current


# --- per-IP fixed windows ---------------------------------------------------------------------------------------


async def test_ip_limit_refuses_past_the_count_in_one_window(limiter: Limiter) -> None:
    limit = RateLimit(True, 3, 180)
    results = [await hit_ip_limit(limiter.cache, GLOBAL_API, "10.0.0.1", limit) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert await limiter.cache.get("rateLimit:GA:10.0.0.1") == b"5"
    # Another address and another limiter keep their own counts.
    assert await hit_ip_limit(limiter.cache, GLOBAL_API, "10.0.0.2", limit)
    assert await hit_ip_limit(limiter.cache, CRITICAL, "10.0.0.1", limit)


async def test_ip_limit_window_starts_over_after_its_duration() -> None:
    clock = FixedClock()
    cache = MemoryCache(now=lambda: float(clock.now()))
    limit = RateLimit(True, 1, 60)
    assert await hit_ip_limit(cache, GLOBAL_WEB, "1.2.3.4", limit)
    clock.advance(59)
    assert not await hit_ip_limit(cache, GLOBAL_WEB, "1.2.3.4", limit)
    clock.advance(1)
    assert await hit_ip_limit(cache, GLOBAL_WEB, "1.2.3.4", limit)


@pytest.mark.parametrize("limit", [RateLimit(False, 1, 60), RateLimit(True, 0, 60), RateLimit(True, 1, 0)])
async def test_ip_limit_off_when_disabled_or_zero(limiter: Limiter, limit: RateLimit) -> None:
    assert all([await hit_ip_limit(limiter.cache, GLOBAL_API, "10.0.0.1", limit) for _ in range(5)])
    assert await limiter.cache.get("rateLimit:GA:10.0.0.1") is None


# --- model request limit: settings -----------------------------------------------------------------------------


def test_model_limits_off_by_default() -> None:
    assert model_limits(options(), "default") is None


def test_model_limits_from_options_and_group_override() -> None:
    snapshot = options(
        ModelRequestRateLimitEnabled="true",
        ModelRequestRateLimitDurationMinutes="2",
        ModelRequestRateLimitCount="5",
        ModelRequestRateLimitGroup='{"vip": [0, 50]}',
    )
    assert model_limits(snapshot, "default") == ModelLimits(minutes=2, total=5, success=1000)
    assert model_limits(snapshot, "vip") == ModelLimits(minutes=2, total=0, success=50)
    assert model_limits(snapshot, "") == ModelLimits(minutes=2, total=5, success=1000)


# --- model request limit: windows ------------------------------------------------------------------------------


async def test_total_limit_counts_every_request_and_slides(limiter: Limiter) -> None:
    limits = ModelLimits(minutes=1, total=2, success=1000)
    await admit_model_request(limiter.cache, limiter.clock, 7, limits)
    limiter.clock.advance(30)
    await admit_model_request(limiter.cache, limiter.clock, 7, limits)
    with pytest.raises(RateLimitError) as refused:
        await admit_model_request(limiter.cache, limiter.clock, 7, limits)
    assert refused.value.status == 429 and refused.value.code == "rate_limit_exceeded"
    assert "您已达到总请求数限制：1分钟内最多请求2次，包括失败次数，请检查您的请求是否正确" in refused.value.message
    await admit_model_request(limiter.cache, limiter.clock, 8, limits)  # another user is not affected
    limiter.clock.advance(30)  # the first request left the window; the second is still in it
    await admit_model_request(limiter.cache, limiter.clock, 7, limits)
    with pytest.raises(RateLimitError):
        await admit_model_request(limiter.cache, limiter.clock, 7, limits)


async def test_success_limit_counts_only_successes(limiter: Limiter) -> None:
    limits = ModelLimits(minutes=1, total=0, success=2)
    for _ in range(5):  # failures: admitted, never recorded
        await admit_model_request(limiter.cache, limiter.clock, 7, limits)
    for _ in range(2):
        ticket = await admit_model_request(limiter.cache, limiter.clock, 7, limits)
        await ticket.succeeded()
    with pytest.raises(RateLimitError) as refused:
        await admit_model_request(limiter.cache, limiter.clock, 7, limits)
    assert "您已达到请求数限制：1分钟内最多请求2次" in refused.value.message
    assert "总请求数" not in refused.value.message
    limiter.clock.advance(60)
    await admit_model_request(limiter.cache, limiter.clock, 7, limits)


async def test_request_refused_for_successes_still_counts_toward_total(limiter: Limiter) -> None:
    limits = ModelLimits(minutes=1, total=3, success=1)
    ticket = await admit_model_request(limiter.cache, limiter.clock, 7, limits)
    await ticket.succeeded()
    for _ in range(2):
        with pytest.raises(RateLimitError, match="您已达到请求数限制"):
            await admit_model_request(limiter.cache, limiter.clock, 7, limits)
    with pytest.raises(RateLimitError, match="您已达到总请求数限制"):
        await admit_model_request(limiter.cache, limiter.clock, 7, limits)


async def test_model_limit_keys_follow_new_api(limiter: Limiter) -> None:
    limits = ModelLimits(minutes=1, total=5, success=5)
    ticket = await admit_model_request(limiter.cache, limiter.clock, 42, limits)
    await ticket.succeeded()
    # Both windows now hold one request, under New API's key names.
    assert not await limiter.cache.hit_window("rateLimit:MRRL:42", float(limiter.clock.now()), 1, 60, record=False)
    assert not await limiter.cache.hit_window("rateLimit:MRRLS:42", float(limiter.clock.now()), 1, 60, record=False)


# --- middleware routing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "marks"),
    [
        ("GET", "/api/status", (GLOBAL_API,)),
        ("POST", "/api/user/login", (GLOBAL_API, CRITICAL)),
        ("POST", "/api/user/register", (GLOBAL_API, CRITICAL)),
        ("POST", "/api/user/reset", (GLOBAL_API, CRITICAL)),
        ("GET", "/api/verification", (GLOBAL_API, CRITICAL)),
        ("GET", "/api/reset_password", (GLOBAL_API, CRITICAL)),
        ("GET", "/api/oauth/github", (GLOBAL_API, CRITICAL)),
        ("GET", "/api/user/self", (GLOBAL_API,)),
        ("GET", "/dashboard/billing/usage", (GLOBAL_API,)),
        ("GET", "/v1/dashboard/billing/subscription", (GLOBAL_API,)),
        ("OPTIONS", "/api/status", ()),
        ("POST", "/v1/chat/completions", ()),
        ("GET", "/v1/models", ()),
        ("GET", "/v1beta/models", ()),
        ("GET", "/pg/chat/completions", ()),
        ("GET", "/mj/task/1/fetch", ()),
        ("GET", "/suno/fetch/1", ()),
        ("GET", "/swagger-assets/swagger-ui.css", ()),
        ("GET", "/", (GLOBAL_WEB,)),
        ("GET", "/login", (GLOBAL_WEB,)),
        ("HEAD", "/pricing", (GLOBAL_WEB,)),
        ("GET", "/apikeys", (GLOBAL_WEB,)),
        ("POST", "/login", ()),
    ],
)
def test_marks_for_routes(method: str, path: str, marks: tuple[str, ...]) -> None:
    assert marks_for(method, path) == marks


def test_refusal_speaks_the_path_dialect() -> None:
    api = too_many_requests("/api/status")
    body = orjson.loads(api.body)
    assert api.status_code == 429 and set(body) == {"success", "message"} and body["success"] is False
    assert "请求过于频繁" in body["message"]
    relay = orjson.loads(too_many_requests("/v1/dashboard/billing/usage").body)["error"]
    assert relay["type"] == "new_api_error" and relay["code"] == "rate_limit_exceeded"
    assert too_many_requests("/login").media_type == "text/plain"
