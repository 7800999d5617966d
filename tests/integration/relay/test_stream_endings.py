"""How streams end: a client that hangs up stops the upstream call and is billed for what was delivered; an
upstream that goes quiet longer than STREAMING_TIMEOUT ends the stream, and the log says which it was."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from tests.support.gateway import Gateway, serving
from tests.support.mock_provider import MockProvider


async def _logs_when_written(gateway: Gateway, count: int = 1) -> list[dict[str, Any]]:
    """Poll until the settlement of a request the server saw end asynchronously has been written."""
    for _ in range(250):
        await gateway.settle()
        items: list[dict[str, Any]] = (await gateway.root.get("/api/log/", params={"type": 2})).json()["data"]["items"]
        if len(items) >= count:
            return items
        await asyncio.sleep(0.02)
    raise AssertionError("the consume log never appeared")


async def _setup(gateway: Gateway, mock: MockProvider) -> str:
    await gateway.set_option("ModelRatio", '{"gpt-4o-mini": 0.075}')
    await gateway.add_channel("slowpoke", mock.base_url, "gpt-4o-mini")
    user = await gateway.add_user("dave", quota=1_000_000)
    return await gateway.add_key(user)


async def test_client_disconnect_stops_upstream_and_bills_delivered(sqlite_db: str) -> None:
    async with MockProvider(delay=0.05, chunks=40) as mock, serving(sqlite_db) as gateway:
        key = await _setup(gateway, mock)
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        async with (
            httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client,
            client.stream("POST", "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}) as r,
        ):
            seen = 0
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    seen += 1
                if seen == 3:
                    break
        logs = await _logs_when_written(gateway)
        other = orjson.loads(logs[0]["other"])
        assert other["stream_status"] == "client_gone"
        assert logs[0]["completion_tokens"] < 40
        assert other["admin_info"]["local_count_tokens"] is True


async def test_idle_upstream_times_out(sqlite_db: str) -> None:
    async with MockProvider(delay=1.5, chunks=2) as mock, serving(sqlite_db, STREAMING_TIMEOUT="1") as gateway:
        key = await _setup(gateway, mock)
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
            r = await client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
        assert "[DONE]" not in r.text
        logs = await _logs_when_written(gateway)
        assert orjson.loads(logs[0]["other"])["stream_status"] == "timeout"
