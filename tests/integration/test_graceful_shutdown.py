"""SIGTERM on a serving `clinx serve`: an in-flight stream is finished when it ends before the deadline
(SHUTDOWN_TIMEOUT_SECONDS) and cut at the deadline otherwise; either way the process exits and the stream is in
the consume logs with how it ended."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import orjson
from sqlalchemy import select

from clinx.store.engine import open_databases
from clinx.store.tables import logs
from tests.support.backends import sqlite_dsn_parts, temporary_database
from tests.support.mock_provider import MockProvider
from tests.support.nodes import create_key, node_env, root_client, start_node

CHAT = {"model": "fixed", "stream": True, "messages": [{"role": "user", "content": "hi"}]}


async def _stream_then_terminate(
    tmp_path: Path, *, chunks: int, deadline_s: int
) -> tuple[str, float, dict[str, object]]:
    """Open a slow stream, SIGTERM the node after its first chunk; (what the client got, seconds the node took
    to exit, the stream's consume log)."""
    async with temporary_database("sqlite", tmp_path) as dsn, MockProvider(chunks=chunks, delay=0.1) as mock:
        node = await start_node(node_env(dsn, SHUTDOWN_TIMEOUT_SECONDS=str(deadline_s)), tmp_path / "node.log")
        try:
            admin = await root_client(node.url)
            price = {"key": "ModelPrice", "value": '{"fixed": 0.002}'}
            assert (await admin.put("/api/option/", json=price)).json()["success"]
            channel = {"type": 1, "name": "mock", "key": "sk-up", "base_url": mock.base_url, "models": "fixed"}
            assert (await admin.post("/api/channel/", json=channel)).json()["success"]
            _, key = await create_key(admin, "k")
            await admin.aclose()
            received = ""
            async with httpx.AsyncClient(timeout=60) as client:
                headers = {"Authorization": f"Bearer {key}"}
                async with client.stream("POST", node.url + "/v1/chat/completions", json=CHAT, headers=headers) as r:
                    assert r.status_code == 200
                    stopped_at = 0.0
                    try:
                        async for text in r.aiter_text():
                            received += text
                            if not stopped_at:
                                stopped_at = time.monotonic()
                                node.proc.send_signal(signal.SIGTERM)
                    except httpx.HTTPError:
                        pass  # cut at the deadline
            await asyncio.to_thread(node.proc.wait, 60)
            took = time.monotonic() - stopped_at
        finally:
            if node.alive:
                node.kill()
        sql_dsn, sqlite_path = sqlite_dsn_parts(dsn)
        dbs = open_databases(sql_dsn, sqlite_path)
        try:
            async with dbs.logs.connect() as conn:
                rows = (await conn.execute(select(logs.c.quota, logs.c.other).where(logs.c.type == 2))).all()
        finally:
            await dbs.dispose()
    assert len(rows) == 1, rows
    quota, other = rows[0]
    assert quota == 1000  # $0.002 a call
    return received, took, orjson.loads(other)


async def test_a_stream_in_flight_finishes_before_the_node_exits(tmp_path: Path) -> None:
    received, took, other = await _stream_then_terminate(tmp_path, chunks=10, deadline_s=30)
    assert received.rstrip().endswith("data: [DONE]")  # the whole stream reached the client
    assert other["stream_status"] == "ok"
    assert took < 20


async def test_a_stream_past_the_deadline_is_cut_billed_and_the_node_exits(tmp_path: Path) -> None:
    received, took, other = await _stream_then_terminate(tmp_path, chunks=300, deadline_s=1)  # 30 s of stream
    assert "data: [DONE]" not in received
    assert other["stream_status"] == "shutdown"
    assert took < 15  # the 1 s deadline, not the 30 s stream
