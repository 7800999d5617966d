"""Losing Redis keeps a node serving: with a TCP proxy between the node and Redis cut, relay calls still succeed
and are billed exactly (the quota ledger lives in the database), /api/health says "degraded" (200, not 503) and
the leader steps down; once the proxy is restored the node returns to Redis on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from clinx.store.engine import open_databases
from clinx.store.tables import logs, tokens, users
from tests.support.backends import skip_unless_reachable, sqlite_dsn_parts, temporary_database
from tests.support.mock_provider import MockProvider
from tests.support.nodes import Node, create_key, eventually, node_env, root_client, running_nodes
from tests.support.tcp_proxy import redis_proxy

PRICE_QUOTA = 1000  # ModelPrice 0.002 US$ per call × 500,000 quota per US$
KEY_QUOTA = 50 * PRICE_QUOTA
MODEL = "fixed"


async def _call(client: httpx.AsyncClient, node: Node, key: str) -> int:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    r = await client.post(node.url + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
    return r.status_code


async def _data(node: Node) -> dict[str, Any]:
    data: dict[str, Any] = (await node.health())["data"]
    return data


async def _billing(dsn: str, token_id: int, user_id: int) -> tuple[int, int, int]:
    """(key remain quota, wallet used quota, sum of consume logs) as written to the database."""
    dbs = open_databases(*sqlite_dsn_parts(dsn))
    try:
        async with dbs.main.connect() as conn:
            remain = (await conn.execute(select(tokens.c.remain_quota).where(tokens.c.id == token_id))).scalar_one()
            used = (await conn.execute(select(users.c.used_quota).where(users.c.id == user_id))).scalar_one()
            charged = (await conn.execute(select(func.sum(logs.c.quota)).where(logs.c.type == 2))).scalar_one()
    finally:
        await dbs.dispose()
    return int(remain), int(used), int(charged or 0)


async def test_a_node_keeps_serving_and_billing_while_redis_is_away(tmp_path: Path) -> None:
    skip_unless_reachable("redis")
    async with (
        temporary_database("postgres", tmp_path) as dsn,
        MockProvider() as mock,
        redis_proxy() as (proxy, redis_url),
    ):
        env = node_env(dsn, redis_url=redis_url, CLINX_LEADER_LEASE_SECONDS="2")
        async with running_nodes(env, tmp_path, [{"NODE_TYPE": "master"}]) as (node,):
            admin = await root_client(node.url)
            user_id = int(admin.headers["New-Api-User"])
            assert (await admin.put("/api/option/", json={"key": "ModelPrice", "value": '{"fixed": 0.002}'})).json()[
                "success"
            ]
            channel = {"type": 1, "name": "mock", "key": "sk-up", "base_url": mock.base_url, "models": MODEL}
            assert (await admin.post("/api/channel/", json=channel)).json()["success"]
            token_id, key = await create_key(admin, "through-outage", remain_quota=KEY_QUOTA, unlimited_quota=False)

            async def leads() -> bool:
                return bool((await _data(node))["leader"]["leader"])

            await eventually(leads, within=5, what="the only master leads")
            async with httpx.AsyncClient(timeout=30) as client:
                before = [await _call(client, node, key) for _ in range(3)]

                await proxy.cut()
                during = [await _call(client, node, key) for _ in range(5)]
                health = await node.health()
                assert health["status_code"] == 200 and health["success"] is True
                assert health["message"].startswith("degraded")
                assert health["data"]["cache"] == {"kind": "redis", "state": "degraded: serving from database"}
                assert health["data"]["database"]["state"] == "ok"

                async def deaf_and_leaderless() -> bool:
                    data = await _data(node)
                    return bool(data["pubsub"]["state"] == "down" and not data["leader"]["leader"])

                # The lease cannot be renewed without Redis: the jobs stop rather than risk two leaders.
                await eventually(deaf_and_leaderless, within=5, what="subscription down and leadership dropped")

                await proxy.restore()

                async def recovered() -> bool:
                    data = await _data(node)
                    return bool(
                        data["cache"]["state"] == "ok" and data["pubsub"]["state"] == "ok" and data["leader"]["leader"]
                    )

                await eventually(recovered, within=10, what="cache, subscription and leadership back on Redis")
                assert (await node.health())["message"] == ""
                after = [await _call(client, node, key) for _ in range(2)]
            await admin.aclose()
        # Stopped gracefully: every lease of quota returned, every log written.
        assert before + during + after == [200] * 10
        remain, used, charged = await _billing(dsn, token_id, user_id)
        assert charged == used == 10 * PRICE_QUOTA
        assert remain == KEY_QUOTA - charged
