"""Exactly one node leads (and runs the background jobs); when it dies another takes over within the lease
time, and when it shuts down gracefully another takes over at once. With Redis the lease is a Redis key; without
it, a row in ``clinx_leases`` (here on MariaDB)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from clinx.store.engine import open_databases
from clinx.store.migrate import upgrade_all
from clinx.store.repos import logs as logs_repo
from clinx.store.tables import logs
from tests.support.backends import skip_unless_reachable, sqlite_dsn_parts, temporary_database
from tests.support.nodes import Node, eventually, node_env, redis_env, running_nodes

MASTERS = [{"NODE_TYPE": "master"}, {"NODE_TYPE": "master"}]


async def _leaders(nodes: list[Node]) -> list[dict[str, Any]]:
    return [(await node.health())["data"]["leader"] for node in nodes if node.alive]


async def _single_leader(nodes: list[Node]) -> Node:
    """Wait until exactly one node leads and every node names it as the holder; that node."""
    found: list[Node] = []

    async def one_agreed_leader() -> bool:
        views = await _leaders(nodes)
        leading = [node for node, view in zip(nodes, views, strict=True) if view["leader"]]
        holders = {view["holder"] for view in views}
        found[:] = leading
        return len(leading) == 1 and len(holders) == 1 and None not in holders

    await eventually(one_agreed_leader, within=10, what="exactly one leader, named by every node")
    leader = found[0]
    assert (await leader.health())["data"]["node_id"] == (await _leaders(nodes))[0]["holder"]
    return leader


async def test_with_redis_a_killed_leader_is_replaced_within_the_lease_time(tmp_path: Path) -> None:
    skip_unless_reachable("redis")
    ttl = 2.0
    async with (
        temporary_database("postgres", tmp_path) as dsn,
        running_nodes(redis_env(dsn, CLINX_LEADER_LEASE_SECONDS=str(ttl)), tmp_path, MASTERS) as nodes,
    ):
        leader = await _single_leader(nodes)
        survivor = next(node for node in nodes if node is not leader)
        leader.kill()  # SIGKILL: no release, the lease has to run out
        survivor_id = (await survivor.health())["data"]["node_id"]

        async def survivor_leads() -> bool:
            view = (await survivor.health())["data"]["leader"]
            return bool(view == {"leader": True, "holder": survivor_id})

        # The lease ends at most one TTL after the last renewal, and the survivor asks every TTL/3.
        took = await eventually(survivor_leads, within=ttl + ttl / 3 + 1.5, what="the survivor takes the lease")
        assert took >= ttl / 3 - 0.2, "taken over before the killed node's lease could have run out"


async def _write_logs(dsn: str, now: int) -> None:
    dbs = open_databases(*sqlite_dsn_parts(dsn))
    try:
        await upgrade_all(dbs.main, dbs.logs)
        for content, age in (("ancient", 3 * 86_400), ("recent", 60)):
            await logs_repo.insert_log(dbs.logs, {"user_id": 1, "created_at": now - age, "type": 2, "content": content})
    finally:
        await dbs.dispose()


async def _log_contents(dsn: str) -> list[str]:
    dbs = open_databases(*sqlite_dsn_parts(dsn))
    try:
        async with dbs.logs.connect() as conn:
            return sorted(str(c) for c in (await conn.execute(select(logs.c.content))).scalars())
    finally:
        await dbs.dispose()


async def test_without_redis_the_database_lease_elects_one_leader_that_runs_jobs_and_hands_over(
    tmp_path: Path,
) -> None:
    ttl = 6.0  # long enough that a takeover within TTL/2 can only come from the release, not from expiry
    async with temporary_database("mysql", tmp_path) as dsn:
        await _write_logs(dsn, int(time.time()))
        env = node_env(dsn, CLINX_LEADER_LEASE_SECONDS=str(ttl), CLINX_LOG_RETENTION_DAYS="1")
        async with running_nodes(env, tmp_path, MASTERS) as nodes:
            leader = await _single_leader(nodes)
            assert [(await node.health())["data"]["pubsub"] for node in nodes] == [{"state": "off"}] * 2

            async def cleaned() -> bool:
                return await _log_contents(dsn) == ["recent"]

            await eventually(cleaned, within=10, what="the leader deletes logs past CLINX_LOG_RETENTION_DAYS")

            survivor = next(node for node in nodes if node is not leader)
            survivor_id = (await survivor.health())["data"]["node_id"]
            stopped = time.monotonic()
            await leader.stop()  # SIGTERM: the lease is released on the way out

            async def survivor_leads() -> bool:
                return bool((await survivor.health())["data"]["leader"] == {"leader": True, "holder": survivor_id})

            await eventually(survivor_leads, within=ttl, what="the survivor takes the released lease")
            # Expiry alone could not hand over before TTL - TTL/3 after the last renewal.
            assert time.monotonic() - stopped < ttl / 2
