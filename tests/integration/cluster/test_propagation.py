"""Edits made on one node reach the others: within a second through Redis pub/sub (with SYNC_FREQUENCY set far
beyond the test, so polling cannot be what applied them), within one SYNC_FREQUENCY period without Redis; and
keys, cached in Redis itself, are refused or accepted on every node the moment they are edited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.support.backends import skip_unless_reachable, temporary_database
from tests.support.mock_provider import MockProvider
from tests.support.nodes import Node, create_key, eventually, node_env, redis_env, root_client, running_nodes

MODEL = "gpt-4o-mini"  # priced by the default tables, so /v1/models lists it once a channel serves it
ROLES = [{"NODE_TYPE": "master"}, {"NODE_TYPE": "slave"}]


async def _models(node: Node, key: str) -> list[str]:
    async with httpx.AsyncClient(timeout=5) as client:
        r = await client.get(node.url + "/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["data"]]


async def _system_name(node: Node) -> str:
    async with httpx.AsyncClient(timeout=5) as client:
        name: str = (await client.get(node.url + "/api/status")).json()["data"]["system_name"]
    return name


async def _add_channel(admin: httpx.AsyncClient, name: str) -> int:
    channel = {"type": 1, "name": name, "key": "sk-up", "base_url": "http://127.0.0.1:9", "models": MODEL}
    assert (await admin.post("/api/channel/", json=channel)).json()["success"]
    found = (await admin.get("/api/channel/search", params={"keyword": name})).json()["data"]["items"]
    return int(next(c["id"] for c in found if c["name"] == name))


async def _key_status(node: Node, key: str) -> int:
    async with httpx.AsyncClient(timeout=5) as client:
        r = await client.get(node.url + "/v1/models", headers={"Authorization": f"Bearer {key}"})
    return r.status_code


async def test_channel_and_option_edits_reach_the_other_node_within_a_second(tmp_path: Path) -> None:
    skip_unless_reachable("redis")
    async with (
        temporary_database("postgres", tmp_path) as dsn,
        running_nodes(redis_env(dsn, SYNC_FREQUENCY="600"), tmp_path, ROLES) as (a, b),
    ):
        admin = await root_client(a.url)
        _, key = await create_key(admin, "propagation")
        assert MODEL not in await _models(b, key)

        channel_id = await _add_channel(admin, "announced")

        async def b_routes_it() -> bool:
            return MODEL in await _models(b, key)

        await eventually(b_routes_it, within=1.0, what="node B routes to the channel added on A")

        r = await admin.post(f"/api/channel/{channel_id}/status", json={"status": 2})
        assert r.json()["success"]

        async def b_dropped_it() -> bool:
            return MODEL not in await _models(b, key)

        await eventually(b_dropped_it, within=1.0, what="node B stops routing to the channel disabled on A")

        r = await admin.put("/api/option/", json={"key": "SystemName", "value": "Renamed on A"})
        assert r.json()["success"]

        async def b_renamed() -> bool:
            return await _system_name(b) == "Renamed on A"

        await eventually(b_renamed, within=1.0, what="node B applies the option changed on A")

        health_a, health_b = await a.health(), await b.health()
        assert health_b["data"]["pubsub"] == {"state": "ok"}
        assert health_b["data"]["leader"] == {"leader": False, "holder": health_a["data"]["node_id"]}
        await admin.aclose()


async def test_a_key_edited_on_one_node_is_refused_and_accepted_on_the_other_at_once(tmp_path: Path) -> None:
    skip_unless_reachable("redis")
    async with (
        temporary_database("postgres", tmp_path) as dsn,
        running_nodes(redis_env(dsn, SYNC_FREQUENCY="600"), tmp_path, ROLES) as (a, b),
    ):
        admin = await root_client(a.url)
        token_id, key = await create_key(admin, "shared-cache")
        assert await _key_status(b, key) == 200  # B has the key cached (in Redis) now

        async def set_status(status: int) -> None:
            body: dict[str, Any] = {"id": token_id, "status": status}
            assert (await admin.put("/api/token/", params={"status_only": "true"}, json=body)).json()["success"]

        await set_status(2)
        assert await _key_status(b, key) == 401  # the very next call: no waiting for any sync
        await set_status(1)
        assert await _key_status(b, key) == 200
        await admin.aclose()


async def test_without_redis_polling_still_propagates(tmp_path: Path) -> None:
    async with (
        temporary_database("postgres", tmp_path) as dsn,
        running_nodes(node_env(dsn, SYNC_FREQUENCY="1"), tmp_path, ROLES) as (a, b),
    ):
        admin = await root_client(a.url)
        _, key = await create_key(admin, "polling")
        await _add_channel(admin, "polled")
        assert (await admin.put("/api/option/", json={"key": "SystemName", "value": "Polled"})).json()["success"]

        async def b_caught_up() -> bool:
            return MODEL in await _models(b, key) and await _system_name(b) == "Polled"

        # One SYNC_FREQUENCY period plus the reload itself, with room for a busy machine.
        await eventually(b_caught_up, within=3.0, what="node B polls the channel and option from A")
        assert (await b.health())["data"]["pubsub"] == {"state": "off"}
        await admin.aclose()


async def test_a_channel_the_relay_disables_on_one_node_leaves_the_others_at_once(tmp_path: Path) -> None:
    skip_unless_reachable("redis")
    failing = "mock-error-401"  # the mock answers 401 for it: an auto-disable error
    async with (
        temporary_database("postgres", tmp_path) as dsn,
        MockProvider() as mock,
        running_nodes(redis_env(dsn, SYNC_FREQUENCY="600"), tmp_path, ROLES) as (a, b),
    ):
        admin = await root_client(a.url)
        for option, value in (("AutomaticDisableChannelEnabled", "true"), ("ModelPrice", f'{{"{failing}": 0.001}}')):
            assert (await admin.put("/api/option/", json={"key": option, "value": value})).json()["success"]
        _, key = await create_key(admin, "auto-disable")
        channel = {"type": 1, "name": "bad-key", "key": "sk-up", "base_url": mock.base_url, "models": failing}
        assert (await admin.post("/api/channel/", json=channel)).json()["success"]

        async def b_routes_it() -> bool:
            return failing in await _models(b, key)

        await eventually(b_routes_it, within=1.0, what="node B routes to the new channel")
        async with httpx.AsyncClient(timeout=10) as client:
            body = {"model": failing, "messages": [{"role": "user", "content": "hi"}]}
            r = await client.post(a.url + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 401

        async def b_dropped_it() -> bool:
            return failing not in await _models(b, key)

        await eventually(b_dropped_it, within=1.0, what="node B drops the channel the relay on A disabled")
        await admin.aclose()
