"""No overspend under concurrency: a key with quota for N calls, hit by 5N concurrent calls, completes at most
what the quota covers, never goes negative, and the logged charges sum to exactly what was consumed — on
SQLite, PostgreSQL and MariaDB, with the in-process cache and with Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from clinx.cache.base import Cache
from clinx.cache.memory import MemoryCache
from clinx.store.tables import logs, tokens, users
from tests.support.backends import REDIS_URL, skip_unless_reachable, temporary_database
from tests.support.gateway import Gateway, serving
from tests.support.mock_provider import MockProvider

CALLS_COVERED = 5
PRICE_QUOTA = 1000  # ModelPrice 0.002 USD × 500,000


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    skip_unless_reachable("redis")
    from clinx.cache.redis import RedisCache

    redis_cache = RedisCache.from_url(REDIS_URL, prefix=f"clinx-test:{uuid.uuid4().hex}:")
    yield redis_cache


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with temporary_database(request.param, tmp_path) as dsn:
        yield dsn


async def _fire(gateway: Gateway, key: str, model: str, n: int) -> list[int]:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as client:

        async def one() -> int:
            r = await client.post(
                "/v1/chat/completions",
                json={"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5},
                headers={"Authorization": f"Bearer {key}"},
            )
            return r.status_code

        return await asyncio.gather(*(one() for _ in range(n)))


async def _totals(gateway: Gateway, user_id: int, key: str) -> tuple[int, int, int]:
    async with gateway.state.dbs.main.connect() as conn:
        wallet = (await conn.execute(select(users.c.quota).where(users.c.id == user_id))).scalar_one()
        remain = (await conn.execute(select(tokens.c.remain_quota).where(tokens.c.key == key[3:]))).scalar_one()
    async with gateway.state.dbs.logs.connect() as conn:
        charged = (
            await conn.execute(select(func.coalesce(func.sum(logs.c.quota), 0)).where(logs.c.type == 2))
        ).scalar()
    return int(wallet), int(remain), int(charged or 0)


async def test_key_quota_never_overspent(db: str, cache: Cache) -> None:
    async with MockProvider() as mock, serving(db, cache=cache) as gateway:
        await gateway.set_option("ModelPrice", '{"fixed-model": 0.002}')
        await gateway.add_channel("mock", mock.base_url, "fixed-model")
        user = await gateway.add_user("bob", quota=10_000_000)
        key = await gateway.add_key(user, unlimited_quota=False, remain_quota=CALLS_COVERED * PRICE_QUOTA)
        statuses = await _fire(gateway, key, "fixed-model", 5 * CALLS_COVERED)
        await gateway.settle()
        assert statuses.count(200) == CALLS_COVERED, statuses
        assert set(statuses) <= {200, 401, 403}  # 401: a key seen exhausted once its balance is all leased
        wallet, remain, charged = await _totals(gateway, user.user_id, key)
        assert remain == 0
        assert charged == CALLS_COVERED * PRICE_QUOTA
        assert wallet == 10_000_000 - charged
        await user.client.aclose()


async def test_wallet_never_negative_with_token_billing(db: str, cache: Cache) -> None:
    async with MockProvider() as mock, serving(db, cache=cache) as gateway:
        await gateway.set_option("ModelRatio", '{"gpt-4o-mini": 0.075}')
        await gateway.add_channel("mock", mock.base_url, "gpt-4o-mini")
        start = 200
        user = await gateway.add_user("carol", quota=start)
        key = await gateway.add_key(user)
        statuses = await _fire(gateway, key, "gpt-4o-mini", 25)
        await gateway.settle()
        wallet, _, charged = await _totals(gateway, user.user_id, key)
        assert wallet >= 0
        assert charged == start - wallet
        assert statuses.count(200) >= 1
        assert set(statuses) <= {200, 401, 403}  # 401: a key seen exhausted once its balance is all leased
        await user.client.aclose()
