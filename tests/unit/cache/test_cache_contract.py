"""One contract for every cache backend: the in-process MemoryCache and RedisCache behave the same.

Memory time is injected and advanced (no sleeps); on Redis, expiries are read through a raw client (PTTL).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis

from clinx.cache.base import Cache
from clinx.cache.memory import MemoryCache
from clinx.cache.redis import RedisCache
from tests.support.backends import REDIS_URL, skip_unless_reachable

CACHE_BACKENDS = ("memory", "redis")


@dataclass
class ManualTime:
    current: float = 1_000.0

    def __call__(self) -> float:
        return self.current


@dataclass
class Harness:
    """A cache under test plus backend-specific ways to observe expiry."""

    cache: Cache
    time: ManualTime = field(default_factory=ManualTime)
    raw: Redis | None = None
    prefix: str = ""

    async def assert_expires_after(self, key: str, seconds: float) -> None:
        """The key is set to expire ``seconds`` from now (memory: it is gone just after, not just before)."""
        if self.raw is None:
            self.time.current += seconds - 0.01
            assert await self.cache.get(key) is not None, "expired too early"
            self.time.current += 0.02
            assert await self.cache.get(key) is None, "did not expire"
            return
        pttl = int(await self.raw.pttl(self.prefix + key))
        # Generous lower bound: the round trips between set and PTTL take well under a few seconds.
        assert seconds * 1000 - 5000 < pttl <= seconds * 1000, pttl

    async def assert_no_expiry(self, key: str) -> None:
        if self.raw is None:
            self.time.current += 10 * 365 * 86400
            assert await self.cache.get(key) is not None
            return
        assert await self.raw.pttl(self.prefix + key) == -1


@pytest.fixture(params=CACHE_BACKENDS)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "memory":
        clock = ManualTime()
        cache = MemoryCache(now=clock)
        yield Harness(cache, clock)
        await cache.close()
        return
    skip_unless_reachable("redis")
    prefix = f"clinx-test:{uuid.uuid4().hex}:"
    raw = Redis.from_url(REDIS_URL)
    # The production factory: its pool (10 connections) must make the 200-way concurrency test wait, not fail.
    redis_cache = RedisCache.from_url(REDIS_URL, prefix=prefix)
    try:
        yield Harness(redis_cache, raw=raw, prefix=prefix)
    finally:
        keys = [key async for key in raw.scan_iter(match=prefix + "*")]
        if keys:
            await raw.delete(*keys)
        await redis_cache.close()
        await raw.aclose()


async def test_get_absent_is_none(harness: Harness) -> None:
    assert await harness.cache.get("missing") is None


async def test_set_get_overwrite(harness: Harness) -> None:
    cache = harness.cache
    await cache.set("k", b"one")
    assert await cache.get("k") == b"one"
    await cache.set("k", b"\x00two\xff")
    assert await cache.get("k") == b"\x00two\xff"
    await harness.assert_no_expiry("k")


async def test_overwrite_without_ttl_drops_the_old_expiry(harness: Harness) -> None:
    await harness.cache.set("k", b"v", ttl=30)
    await harness.cache.set("k", b"w")
    await harness.assert_no_expiry("k")
    assert await harness.cache.get("k") == b"w"


async def test_delete_counts_only_existing_keys(harness: Harness) -> None:
    cache = harness.cache
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    assert await cache.delete() == 0
    assert await cache.delete("a", "b", "never") == 2
    assert await cache.get("a") is None and await cache.get("b") is None
    assert await cache.delete("a") == 0


async def test_set_with_ttl_expires(harness: Harness) -> None:
    await harness.cache.set("session", b"data", ttl=30)
    assert await harness.cache.get("session") == b"data"
    await harness.assert_expires_after("session", 30)


async def test_expired_key_is_not_counted_by_delete() -> None:
    clock = ManualTime()
    cache = MemoryCache(now=clock)
    await cache.set("k", b"v", ttl=1)
    clock.current += 2
    assert await cache.delete("k") == 0


async def test_incr_from_absent_sets_ttl(harness: Harness) -> None:
    cache = harness.cache
    assert await cache.incr("hits", 3, ttl=60) == 3
    assert await cache.get("hits") == b"3"
    await harness.assert_expires_after("hits", 60)


async def test_incr_default_amount_and_no_ttl(harness: Harness) -> None:
    assert await harness.cache.incr("n") == 1
    assert await harness.cache.incr("n") == 2
    assert await harness.cache.incr("n", -5) == -3
    await harness.assert_no_expiry("n")


async def test_incr_keeps_existing_ttl(harness: Harness) -> None:
    cache = harness.cache
    await cache.incr("window", 1, ttl=10)
    assert await cache.incr("window", 5, ttl=100) == 6
    await harness.assert_expires_after("window", 10)


async def test_incr_on_existing_key_without_ttl_stays_without_ttl(harness: Harness) -> None:
    # A counter that already exists (even at the value the increment would create) is not "new".
    await harness.cache.set("c", b"0")
    assert await harness.cache.incr("c", 0, ttl=10) == 0
    assert await harness.cache.incr("c", 7, ttl=10) == 7
    await harness.assert_no_expiry("c")


async def test_incr_after_expiry_starts_over(harness: Harness) -> None:
    cache = harness.cache
    await cache.incr("w", 4, ttl=10)
    await harness.assert_expires_after("w", 10)
    if harness.raw is not None:
        await cache.delete("w")  # Redis: stand in for the expiry we do not wait for
    assert await cache.incr("w", 1, ttl=10) == 1


async def test_decr_if_enough(harness: Harness) -> None:
    cache = harness.cache
    await cache.set("quota", b"10")
    assert await cache.decr_if_enough("quota", 4) == 6
    assert await cache.decr_if_enough("quota", 6) == 0
    assert await cache.get("quota") == b"0"


async def test_decr_if_not_enough_changes_nothing(harness: Harness) -> None:
    cache = harness.cache
    await cache.set("quota", b"5", ttl=50)
    assert await cache.decr_if_enough("quota", 6) is None
    assert await cache.get("quota") == b"5"
    await harness.assert_expires_after("quota", 50)


async def test_decr_if_enough_keeps_ttl(harness: Harness) -> None:
    await harness.cache.incr("quota", 9, ttl=40)
    assert await harness.cache.decr_if_enough("quota", 2) == 7
    await harness.assert_expires_after("quota", 40)


async def test_decr_if_enough_on_absent_key_is_none(harness: Harness) -> None:
    assert await harness.cache.decr_if_enough("nothing", 1) is None
    assert await harness.cache.get("nothing") is None


async def test_concurrent_decr_never_overdraws(harness: Harness) -> None:
    cache = harness.cache
    await cache.set("balance", b"50")
    results = await asyncio.gather(*(cache.decr_if_enough("balance", 1) for _ in range(200)))
    successes = [r for r in results if r is not None]
    assert len(successes) == 50
    assert sorted(successes) == list(range(50))
    assert await cache.get("balance") == b"0"


async def test_concurrent_incr_counts_every_call(harness: Harness) -> None:
    cache = harness.cache
    results = await asyncio.gather(*(cache.incr("rate", 1, ttl=60) for _ in range(100)))
    assert sorted(results) == list(range(1, 101))
    await harness.assert_expires_after("rate", 60)


async def test_hit_window_admits_up_to_the_limit_then_refuses(harness: Harness) -> None:
    cache = harness.cache
    assert [await cache.hit_window("w", 100.0, 3, 60) for _ in range(4)] == [True, True, True, False]
    assert await cache.hit_window("w", 159.0, 3, 60) is False
    assert await cache.hit_window("w", 160.0, 3, 60) is True  # the three events at 100 left the window
    await harness.assert_expires_after("w", 60)


async def test_hit_window_slides_one_event_at_a_time(harness: Harness) -> None:
    cache = harness.cache
    assert await cache.hit_window("w", 0.0, 2, 60)
    assert await cache.hit_window("w", 30.0, 2, 60)
    assert await cache.hit_window("w", 59.0, 2, 60) is False
    assert await cache.hit_window("w", 60.0, 2, 60) is True  # the event at 0 expired; 30 and 60 remain
    assert await cache.hit_window("w", 89.5, 2, 60) is False
    assert await cache.hit_window("w", 90.0, 2, 60) is True


async def test_hit_window_refusal_and_check_only_log_nothing(harness: Harness) -> None:
    cache = harness.cache
    assert await cache.hit_window("w", 10.0, 1, 60, record=False) is True
    assert await cache.hit_window("w", 10.0, 1, 60, record=False) is True  # a check does not count
    assert await cache.hit_window("w", 10.0, 1, 60) is True
    assert await cache.hit_window("w", 50.0, 1, 60) is False
    # Had the refusal at 50 been logged, 70 would still be inside its window.
    assert await cache.hit_window("w", 70.0, 1, 60, record=False) is True


async def test_hit_window_keeps_only_the_newest_limit_times(harness: Harness) -> None:
    cache = harness.cache
    for t in (1.0, 2.0, 3.0):
        assert await cache.hit_window("w", t, 5, 60)
    assert await cache.hit_window("w", 4.0, 2, 60) is False  # limit lowered: the 2nd newest (2.0) still counts
    assert await cache.hit_window("w", 62.0, 2, 60) is True  # 2.0 left the window; 3.0 and 62.0 kept
    assert await cache.hit_window("w", 62.5, 2, 60) is False
    if harness.raw is not None:
        assert await harness.raw.llen(harness.prefix + "w") == 2


async def test_concurrent_hit_window_admits_exactly_the_limit(harness: Harness) -> None:
    cache = harness.cache
    results = await asyncio.gather(*(cache.hit_window("burst", 500.0, 10, 60) for _ in range(100)))
    assert results.count(True) == 10


async def test_ping_and_close(harness: Harness) -> None:
    assert await harness.cache.ping() is True
    await harness.cache.set("k", b"v")
    await harness.cache.close()
    if harness.raw is None:
        assert await harness.cache.get("k") is None  # the in-process store is emptied


async def test_redis_ping_false_when_unreachable() -> None:
    # Port 9 (discard) refuses connections: ping answers False instead of raising.
    cache = RedisCache(Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5))
    try:
        assert await cache.ping() is False
    finally:
        await cache.close()


async def test_names() -> None:
    assert MemoryCache().name == "memory"
    redis_cache = RedisCache(Redis.from_url(REDIS_URL))
    assert redis_cache.name == "redis"
    await redis_cache.close()


async def test_memory_evicts_expired_then_oldest_when_full() -> None:
    clock = ManualTime()
    cache = MemoryCache(now=clock, max_entries=3)
    await cache.set("old", b"1")
    await cache.set("short", b"2", ttl=1)
    await cache.set("mid", b"3")
    clock.current += 2
    await cache.set("new", b"4")  # room made by dropping the expired key, not the oldest
    assert await cache.get("old") == b"1"
    await cache.set("newer", b"5")  # full again: the oldest insertion goes
    assert await cache.get("old") is None
    assert [await cache.get(k) for k in ("mid", "new", "newer")] == [b"3", b"4", b"5"]
