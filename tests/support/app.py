"""Run the Clinx app in-process for tests: lifespan entered, an httpx client bound to it, and helpers to
set up root and log in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from clinx.app import create_app
from clinx.app_state import AppState
from clinx.cache.base import Cache
from clinx.config.settings import Settings
from clinx.core.clock import FixedClock
from tests.support.backends import sqlite_dsn_parts

ROOT_PASSWORD = "Root-pass-123"


@dataclass
class RunningApp:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FixedClock

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.clinx
        return state

    async def setup_root(self, username: str = "root", password: str = ROOT_PASSWORD) -> None:
        r = await self.client.post(
            "/api/setup", json={"username": username, "password": password, "confirmPassword": password}
        )
        assert r.json()["success"], r.text

    async def login(self, username: str, password: str) -> Session:
        client = httpx.AsyncClient(transport=self.client._transport, base_url="http://clinx.test")
        r = await client.post("/api/user/login", json={"username": username, "password": password})
        body = r.json()
        assert body["success"], body
        return Session(client, int(body["data"]["id"]))


@dataclass
class Session:
    """A logged-in console session (cookie + New-Api-User header)."""

    client: httpx.AsyncClient
    user_id: int

    def _headers(self) -> dict[str, str]:
        return {"New-Api-User": str(self.user_id)}

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.get(url, headers=self._headers(), **kw)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.post(url, headers=self._headers(), **kw)

    async def put(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.put(url, headers=self._headers(), **kw)

    async def delete(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.delete(url, headers=self._headers(), **kw)

    async def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return await self.client.request(method, url, headers=self._headers(), **kw)


def settings_for(dsn: str, **env: str) -> Settings:
    sql_dsn, sqlite_path = sqlite_dsn_parts(dsn)
    environ = {"SQL_DSN": sql_dsn, "SESSION_SECRET": "test-secret-" + "x" * 20, **env}
    if sqlite_path:
        environ["SQLITE_PATH"] = sqlite_path
    return Settings.from_env(environ)


@asynccontextmanager
async def running_app(dsn: str, *, cache: Cache | None = None, **env: str) -> AsyncIterator[RunningApp]:
    clock = FixedClock()
    app = create_app(settings_for(dsn, **env), clock=clock, cache=cache)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://clinx.test") as client:
            yield RunningApp(app, client, clock)
