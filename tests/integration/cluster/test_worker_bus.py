"""``clinx serve --workers 2`` without Redis: the workers tell each other over the worker bus. SYNC_FREQUENCY is
600 s (the polling period and the key cache TTL), so neither polling nor expiry can be what applied an edit: a
channel added through one worker is routable on both within a second, and a key disabled through one worker is
refused by both. Every call uses a fresh connection and first asks /api/health which worker it reached, so the
test knows both workers were exercised."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.backends import temporary_database
from tests.support.mock_provider import MockProvider
from tests.support.nodes import Node, create_key, node_env, root_client, start_node

WORKERS = 2
MODEL = "gpt-4o-mini"  # served by the mock, priced by the default tables
CALL = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
GRACE = 1.0  # seconds after an edit is acknowledged before every worker must apply it
PER_WORKER = 8  # calls each worker must answer after the grace
DEADLINE = 30.0  # seconds to spread that many calls over the workers (the kernel picks who accepts)


@asynccontextmanager
async def two_workers(tmp_path: Path) -> AsyncIterator[Node]:
    async with temporary_database("sqlite", tmp_path) as dsn:
        env = node_env(dsn, SYNC_FREQUENCY="600")
        for inherited in ("CLINX_WORKERS_DIR", "CLINX_METRICS_DIR"):  # the command makes fresh ones
            env.pop(inherited, None)
        node = await start_node(env, tmp_path / "workers.log", args=["--workers", str(WORKERS)])
        try:
            yield node
        finally:
            await node.stop()


async def probe(url: str, key: str) -> tuple[str, int]:
    """(worker node id, relay status) over one fresh connection: both requests reach the same worker."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        health: dict[str, Any] = (await client.get("/api/health")).json()["data"]
        r = await client.post("/v1/chat/completions", json=CALL, headers={"Authorization": f"Bearer {key}"})
    return str(health["node_id"]), r.status_code


async def each_worker_answers(url: str, key: str, *, since: float, per_worker: int) -> dict[str, list[int]]:
    """Relay statuses per worker of the calls started at or after ``since``, until every worker has ``per_worker``
    of them (calls before ``since`` are made but not returned)."""
    statuses: defaultdict[str, list[int]] = defaultdict(list)
    deadline = time.monotonic() + DEADLINE
    while len(statuses) < WORKERS or min(len(s) for s in statuses.values()) < per_worker:
        assert time.monotonic() < deadline, f"calls never reached every worker: {dict(statuses)}"
        started = time.monotonic()
        worker, status = await probe(url, key)
        if started >= since:
            statuses[worker].append(status)
    return dict(statuses)


async def test_workers_apply_each_others_channel_and_key_edits_at_once(tmp_path: Path) -> None:
    async with MockProvider() as mock, two_workers(tmp_path) as node:
        admin = await root_client(node.url)
        token_id, key = await create_key(admin, "workers")
        before = await each_worker_answers(node.url, key, since=0.0, per_worker=1)
        assert all(set(s) == {503} for s in before.values()), before  # no channel serves the model yet

        channel = {"type": 1, "name": "mock", "key": "sk-up", "base_url": mock.base_url, "models": MODEL}
        assert (await admin.post("/api/channel/", json=channel)).json()["success"]
        added = time.monotonic()
        routed = await each_worker_answers(node.url, key, since=added + GRACE, per_worker=PER_WORKER)
        assert all(set(s) == {200} for s in routed.values()), routed  # both workers route, the key is cached

        body = {"id": token_id, "status": 2}
        assert (await admin.put("/api/token/", params={"status_only": "true"}, json=body)).json()["success"]
        disabled = time.monotonic()
        refused = await each_worker_answers(node.url, key, since=disabled + GRACE, per_worker=PER_WORKER)
        assert all(set(s) == {401} for s in refused.values()), refused

        health = (await admin.get("/api/health")).json()["data"]
        assert health["pubsub"] == {"state": "ok"}  # the worker bus, not the lone in-process notifier
        await admin.aclose()
