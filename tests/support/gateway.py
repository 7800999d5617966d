"""The gateway served for real on 127.0.0.1 (uvicorn, lifespan on), with helpers to add channels and keys
through the management API, and the official SDK clients pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from clinx.app import create_app
from clinx.app_state import AppState
from clinx.cache.base import Cache
from clinx.http_protocol import CoalescingHttpToolsProtocol
from tests.support.app import ROOT_PASSWORD, Session, settings_for


@dataclass
class Gateway:
    app: FastAPI
    base_url: str
    client: httpx.AsyncClient  # anonymous
    root: Session

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.clinx
        return state

    async def settle(self) -> None:
        """Wait until every settlement and log row of finished requests is written."""
        await self.state.relay.drain()
        await self.state.relay.writer.flush()

    async def add_channel(self, name: str, base_url: str, models: str, **fields: Any) -> int:
        channel = {"type": 1, "name": name, "key": "sk-upstream-" + name, "base_url": base_url, "models": models}
        channel.update(fields)
        r = await self.root.post("/api/channel/", json={"mode": "single", "channel": channel})
        assert r.json()["success"], r.text
        found = (await self.root.get("/api/channel/search", params={"keyword": name})).json()["data"]["items"]
        return int(next(c["id"] for c in found if c["name"] == name))

    async def add_user(self, username: str, quota: int, password: str = "User-pass-123") -> Session:
        r = await self.client.post("/api/user/register", json={"username": username, "password": password})
        assert r.json()["success"], r.text
        session = await self.login(username, password)
        r = await self.root.post(
            "/api/user/manage", json={"id": session.user_id, "action": "add_quota", "mode": "override", "value": quota}
        )
        assert r.json()["success"], r.text
        return session

    async def login(self, username: str, password: str) -> Session:
        client = httpx.AsyncClient(base_url=self.base_url, timeout=30)
        r = await client.post("/api/user/login", json={"username": username, "password": password})
        assert r.json()["success"], r.text
        return Session(client, int(r.json()["data"]["id"]))

    async def add_key(self, owner: Session, name: str = "test-key", **fields: Any) -> str:
        body = {"name": name, "remain_quota": 0, "unlimited_quota": True, "expired_time": -1}
        body.update(fields)
        r = await owner.post("/api/token/", json=body)
        assert r.json()["success"], r.text
        items = (await owner.get("/api/token/search", params={"keyword": name})).json()["data"]["items"]
        token_id = next(t["id"] for t in items if t["name"] == name)
        key = (await owner.post(f"/api/token/{token_id}/key")).json()["data"]["key"]
        return "sk-" + str(key)

    async def set_option(self, key: str, value: str) -> None:
        r = await self.root.put("/api/option/", json={"key": key, "value": value})
        assert r.json()["success"], r.text


@asynccontextmanager
async def serving(dsn: str, *, cache: Cache | None = None, **env: str) -> AsyncIterator[Gateway]:
    app = create_app(settings_for(dsn, **env), cache=cache)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_level="warning",
        access_log=False,
        http=CoalescingHttpToolsProtocol,  # what `clinx serve` runs
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    try:
        r = await client.post(
            "/api/setup", json={"username": "root", "password": ROOT_PASSWORD, "confirmPassword": ROOT_PASSWORD}
        )
        assert r.json()["success"], r.text
        login = await client.post("/api/user/login", json={"username": "root", "password": ROOT_PASSWORD})
        root_client = httpx.AsyncClient(base_url=base_url, timeout=30, cookies=login.cookies)
        root = Session(root_client, int(login.json()["data"]["id"]))
        yield Gateway(app, base_url, client, root)
        await root_client.aclose()
    finally:
        await client.aclose()
        server.should_exit = True
        await task
