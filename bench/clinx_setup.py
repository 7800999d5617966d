"""Clinx's side of the benchmark, through its management API: first-run setup, prices, a channel to the mock,
a funded user with two keys, a sanity call per key, and the consume-log count the billing check compares."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.servers import BenchError

ROOT_PASSWORD = "Bench-root-123"
USER_PASSWORD = "Bench-user-123"
MODEL_RATIOS = {"gpt-4o-mini": 0.075, "text-embedding-3-small": 0.01}
QUOTA = 10**12  # plenty: the limited key never runs dry, but its reservation path runs on every request
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello to the benchmark."}]}
EMBED = {"model": "text-embedding-3-small", "input": "The quick brown fox jumps over the lazy dog."}


@dataclass
class Admin:
    client: httpx.AsyncClient
    user_id: int

    async def call(self, method: str, url: str, **kw: Any) -> Any:
        r = await self.client.request(method, url, headers={"New-Api-User": str(self.user_id)}, **kw)
        body = r.json()
        if not body.get("success"):
            raise BenchError(f"{method} {url} failed: {r.text}")
        return body.get("data")

    async def consume_logs(self) -> int:
        data = await self.call("GET", "/api/log/", params={"type": 2, "p": 1, "page_size": 1})
        return int(data["total"])


async def login(base_url: str, username: str, password: str) -> Admin:
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    r = await client.post("/api/user/login", json={"username": username, "password": password})
    if not r.json().get("success"):
        raise BenchError(f"login as {username} failed: {r.text}")
    return Admin(client, int(r.json()["data"]["id"]))


async def create_key(owner: Admin, name: str, unlimited: bool) -> str:
    body = {"name": name, "remain_quota": 0 if unlimited else QUOTA, "unlimited_quota": unlimited, "expired_time": -1}
    await owner.call("POST", "/api/token/", json=body)
    items = (await owner.call("GET", "/api/token/search", params={"keyword": name}))["items"]
    token_id = next(t["id"] for t in items if t["name"] == name)
    return "sk-" + str((await owner.call("POST", f"/api/token/{token_id}/key"))["key"])


async def set_up(base_url: str, mock_url: str) -> tuple[Admin, dict[str, str]]:
    """Root, prices, a channel to the mock, a funded user with an unlimited and a limited key."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as anon:
        r = await anon.post(
            "/api/setup", json={"username": "root", "password": ROOT_PASSWORD, "confirmPassword": ROOT_PASSWORD}
        )
        if not r.json().get("success"):
            raise BenchError(f"setup failed: {r.text}")
        r = await anon.post("/api/user/register", json={"username": "bench", "password": USER_PASSWORD})
        if not r.json().get("success"):
            raise BenchError(f"register failed: {r.text}")
    root = await login(base_url, "root", ROOT_PASSWORD)
    await root.call("PUT", "/api/option/", json={"key": "ModelRatio", "value": json.dumps(MODEL_RATIOS)})
    channel = {"type": 1, "name": "mock", "key": "sk-mock", "base_url": mock_url, "models": ",".join(MODEL_RATIOS)}
    await root.call("POST", "/api/channel/", json={"mode": "single", "channel": channel})
    user = await login(base_url, "bench", USER_PASSWORD)
    await root.call(
        "POST", "/api/user/manage", json={"id": user.user_id, "action": "add_quota", "mode": "override", "value": QUOTA}
    )
    keys = {
        "unlimited": await create_key(user, "bench-unlimited", True),
        "limited": await create_key(user, "bench-limited", False),
    }
    await user.client.aclose()
    return root, keys


async def sanity(base_url: str, keys: dict[str, str], name: str = "Clinx") -> int:
    """One chat call per key through a gateway; answers how many succeeded (all must)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        for kind, key in keys.items():
            r = await client.post("/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {key}"})
            if r.status_code != 200 or "choices" not in r.text:
                raise BenchError(f"sanity call to {name} with the {kind} key failed: HTTP {r.status_code} {r.text}")
    return len(keys)


async def wait_billed(root: Admin, expected: int, seconds: float = 20.0) -> int:
    """Consume-log count once it reaches `expected` (settlement and the log writer run after the answer)."""
    deadline = time.monotonic() + seconds
    total = await root.consume_logs()
    while total < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        total = await root.consume_logs()
    await asyncio.sleep(1.0)  # anything beyond `expected` would be a double charge: give it time to show
    return await root.consume_logs()
