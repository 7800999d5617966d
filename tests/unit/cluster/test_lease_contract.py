"""One lease contract, every backend: in-process memory, Redis, and the ``clinx_leases`` table on SQLite,
PostgreSQL and MariaDB. Memory and database time is injected and advanced; Redis expires on its own clock, so
its expiry test waits (polling with a deadline) for a 200 ms lease to run out."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from clinx.cache.lease import MemoryLeases
from clinx.cache.redis_lease import RedisLeases
from clinx.cluster.leader import LeaseStore
from clinx.store.engine import open_databases
from clinx.store.repos.leases import DatabaseLeases
from clinx.store.tables import clinx_leases
from tests.support.backends import REDIS_URL, skip_unless_reachable, sqlite_dsn_parts, temporary_database

BACKENDS = ("memory", "redis", "sqlite", "postgres", "mysql")
TTL = 10.0


@dataclass
class Clock:
    seconds: float = 1_000.0

    def monotonic(self) -> float:
        return self.seconds

    def epoch_ms(self) -> int:
        return int(self.seconds * 1000)


@dataclass
class Harness:
    leases: LeaseStore
    clock: Clock
    raw: Redis | None = None  # Redis: expiry follows the server's clock, observed through this client
    raw_key: str = ""

    @property
    def real_time(self) -> bool:
        return self.raw is not None

    async def let_expire(self, ttl: float) -> None:
        if not self.real_time:
            self.clock.seconds += ttl + 0.001
            return
        deadline = time.monotonic() + ttl + 5
        while await self.leases.holder("leader") is not None:
            assert time.monotonic() < deadline, "the lease never expired"
            await asyncio.sleep(0.02)


@pytest.fixture(params=BACKENDS)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    clock = Clock()
    if request.param == "memory":
        yield Harness(MemoryLeases(now=clock.monotonic), clock)
    elif request.param == "redis":
        skip_unless_reachable("redis")
        prefix = f"clinx-test:{uuid.uuid4().hex}:"
        client = Redis.from_url(REDIS_URL)
        try:
            yield Harness(RedisLeases(client, prefix=prefix), clock, raw=client, raw_key=prefix + "clinx:lease:leader")
        finally:
            keys = [key async for key in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
    else:
        async with temporary_database(request.param, tmp_path) as dsn:
            dbs = open_databases(*sqlite_dsn_parts(dsn))
            try:
                async with dbs.main.begin() as conn:
                    await conn.run_sync(clinx_leases.create)
                yield Harness(DatabaseLeases(dbs.main, now_ms=clock.epoch_ms), clock)
            finally:
                await dbs.dispose()


async def test_first_asker_takes_the_lease_and_others_see_it(harness: Harness) -> None:
    leases = harness.leases
    assert await leases.holder("leader") is None
    assert await leases.acquire("leader", "node-a", TTL) == "node-a"
    assert await leases.acquire("leader", "node-b", TTL) == "node-a"
    assert await leases.holder("leader") == "node-a"
    assert await leases.acquire("other-job", "node-b", TTL) == "node-b"  # names are independent


async def test_the_holder_renews_and_keeps_it_past_the_first_ttl(harness: Harness) -> None:
    leases = harness.leases
    if harness.raw is not None:  # Redis: the renewal moves the key's expiry (read with PTTL)
        assert await leases.acquire("leader", "node-a", 0.5) == "node-a"
        assert await leases.acquire("leader", "node-a", 60) == "node-a"
        assert int(await harness.raw.pttl(harness.raw_key)) > 50_000
        return
    assert await leases.acquire("leader", "node-a", TTL) == "node-a"
    harness.clock.seconds += TTL * 0.7
    assert await leases.acquire("leader", "node-a", TTL) == "node-a"  # renewed
    harness.clock.seconds += TTL * 0.7  # past the first expiry, within the renewed one
    assert await leases.acquire("leader", "node-b", TTL) == "node-a"


async def test_an_expired_lease_goes_to_the_next_asker(harness: Harness) -> None:
    leases = harness.leases
    ttl = 0.2 if harness.real_time else TTL
    assert await leases.acquire("leader", "node-a", ttl) == "node-a"
    await harness.let_expire(ttl)
    assert await leases.holder("leader") is None
    assert await leases.acquire("leader", "node-b", TTL) == "node-b"
    assert await leases.acquire("leader", "node-a", TTL) == "node-b"


async def test_only_the_holder_can_release(harness: Harness) -> None:
    leases = harness.leases
    assert await leases.acquire("leader", "node-a", TTL) == "node-a"
    await leases.release("leader", "node-b")
    assert await leases.holder("leader") == "node-a"
    await leases.release("leader", "node-a")
    assert await leases.holder("leader") is None
    assert await leases.acquire("leader", "node-b", TTL) == "node-b"


async def test_concurrent_askers_elect_exactly_one(harness: Harness) -> None:
    nodes = [f"node-{i}" for i in range(6)]
    answers = await asyncio.gather(*(harness.leases.acquire("leader", node, TTL) for node in nodes))
    assert len(set(answers)) == 1, answers
    winner = answers[0]
    assert winner in nodes and await harness.leases.holder("leader") == winner
