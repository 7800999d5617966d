"""The resilient cache: a failing shared cache hands every operation to the in-process fallback (logged once),
entries made meanwhile live briefly, invalidations are replayed when it is back, and the stale local entries
are dropped. A second test does the same against real Redis through a TCP proxy that is cut and restored."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from clinx.cache.memory import MemoryCache
from clinx.cache.redis import RedisCache
from clinx.cache.redis_setup import REDIS_FAILURES
from clinx.cache.resilient import ResilientCache
from tests.support.backends import REDIS_URL, skip_unless_reachable
from tests.support.tcp_proxy import redis_proxy


class FlakyCache(MemoryCache):
    """A MemoryCache that can be switched off, raising as a dead Redis does."""

    name = "flaky"
    broken = False

    def _check(self) -> None:
        if self.broken:
            raise ConnectionError("connection refused")

    async def get(self, key: str) -> bytes | None:
        self._check()
        return await super().get(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._check()
        await super().set(key, value, ttl)

    async def delete(self, *keys: str) -> int:
        self._check()
        return await super().delete(*keys)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        self._check()
        return await super().incr(key, amount, ttl)

    async def ping(self) -> bool:
        return not self.broken


class Clock:
    def __init__(self) -> None:
        self.seconds = 1_000.0

    def __call__(self) -> float:
        return self.seconds


async def poll(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.01)


async def test_outage_falls_back_logs_once_and_recovers_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    primary, fallback = FlakyCache(), MemoryCache(now=clock)
    cache = ResilientCache(primary, errors=(ConnectionError,), fallback=fallback, probe_every=0.01, fallback_ttl=2)
    await cache.set("token:edited", b"old", ttl=60)
    assert await cache.get("token:edited") == b"old" and not cache.degraded

    primary.broken = True
    with caplog.at_level(logging.WARNING, logger="clinx.cache.resilient"):
        assert await cache.get("token:edited") is None  # served by the (empty) fallback, not an error
        await cache.set("user:1", b"from-db", ttl=60)
        assert await cache.incr("rate", 1, ttl=60) == 1
        await cache.delete("token:edited")  # an edit on this node during the outage
        assert await cache.ping() is False
    assert cache.degraded
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
    assert await cache.get("user:1") == b"from-db"
    clock.seconds += 2.5  # fallback entries live FALLBACK_TTL at most, whatever TTL the caller asked for
    assert await cache.get("user:1") is None

    await cache.set("user:2", b"stale-soon", ttl=60)
    primary.broken = False
    await poll(lambda: not cache.degraded)
    assert await primary.get("token:edited") is None  # the invalidation was replayed on the shared cache
    assert await fallback.get("user:2") is None  # local entries dropped on the way back
    assert await cache.get("user:2") is None and await cache.ping() is True
    await cache.close()


async def test_real_redis_cut_and_restored_through_a_proxy() -> None:
    skip_unless_reachable("redis")
    prefix = f"clinx-test:{uuid.uuid4().hex}:"
    async with redis_proxy() as (proxy, url):
        cache = ResilientCache(RedisCache.from_url(url, prefix=prefix), errors=REDIS_FAILURES, probe_every=0.05)
        raw = Redis.from_url(REDIS_URL)
        try:
            await cache.set("k", b"shared", ttl=60)
            await proxy.cut()
            started = time.monotonic()
            assert await cache.get("k") is None  # fallback: empty, and quickly
            assert time.monotonic() - started < 1.5
            assert cache.degraded
            await cache.delete("k")
            await proxy.restore()
            await poll(lambda: not cache.degraded)
            assert await raw.get(prefix + "k") is None
            await cache.set("k", b"again", ttl=60)
            assert await raw.get(prefix + "k") == b"again"
        finally:
            keys = [key async for key in raw.scan_iter(match=prefix + "*")]
            if keys:
                await raw.delete(*keys)
            await raw.aclose()
            await cache.close()
