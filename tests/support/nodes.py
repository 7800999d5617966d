"""Real ``clinx serve`` processes on 127.0.0.1 sharing one database (and Redis when asked): started one after the
other (the first one upgrades the schema), stopped gracefully at the end, with helpers to poll them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.app import ROOT_PASSWORD
from tests.support.backends import REDIS_URL, sqlite_dsn_parts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def node_env(dsn: str, *, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment every node of one deployment shares. With Redis, a fresh key prefix keeps this
    deployment's keys, change channel and leader lease apart from other tests using the same Redis."""
    sql_dsn, sqlite_path = sqlite_dsn_parts(dsn)
    env = {
        **os.environ,
        "SQL_DSN": sql_dsn,
        "SESSION_SECRET": "multi-node-secret-" + uuid.uuid4().hex,
        "GLOBAL_API_RATE_LIMIT_ENABLE": "false",
        "CRITICAL_RATE_LIMIT_ENABLE": "false",
    }
    if sqlite_path:
        env["SQLITE_PATH"] = sqlite_path
    env.pop("REDIS_CONN_STRING", None)
    if redis_url is not None:
        env["REDIS_CONN_STRING"] = redis_url
        env["CLINX_REDIS_KEY_PREFIX"] = f"clinx-test:{uuid.uuid4().hex[:12]}:"
    env.update(extra)
    return env


def redis_env(dsn: str, **extra: str) -> dict[str, str]:
    return node_env(dsn, redis_url=REDIS_URL, **extra)


@dataclass
class Node:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (a crashed machine)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    async def stop(self) -> None:
        """SIGTERM: graceful shutdown (drains, releases the leader lease)."""
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(self.proc.wait, 30)

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            r = await client.get(self.url + "/api/health")
        body: dict[str, Any] = r.json()
        body["status_code"] = r.status_code
        return body


def _spawn(env: Mapping[str, str], log: Path, args: Sequence[str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "clinx", "serve", *args]
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=dict(env), stdout=out, stderr=out)


async def start_node(env: Mapping[str, str], log: Path, *, args: Sequence[str] = ()) -> Node:
    """A ``clinx serve`` process (``args`` e.g. ``["--workers", "2"]``), once it answers."""
    port = free_port()
    node = Node(f"http://127.0.0.1:{port}", _spawn({**env, "PORT": str(port)}, log, args), log)
    async with httpx.AsyncClient(timeout=1) as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not node.alive:
                raise AssertionError(f"node exited: {node.tail()}")
            try:
                if (await client.get(node.url + "/api/status")).status_code == 200:
                    return node
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    node.proc.kill()
    raise AssertionError(f"node did not start: {node.tail()}")


@asynccontextmanager
async def running_nodes(
    env: Mapping[str, str], tmp_path: Path, per_node: Sequence[Mapping[str, str]]
) -> AsyncIterator[list[Node]]:
    """One node per entry of ``per_node`` (its own extra variables, e.g. NODE_TYPE), started in order."""
    nodes: list[Node] = []
    try:
        for index, extra in enumerate(per_node):
            nodes.append(await start_node({**env, **extra}, tmp_path / f"node{index}.log"))
        yield nodes
    finally:
        for node in nodes:
            if node.alive:
                node.proc.send_signal(signal.SIGTERM)
        for node in nodes:
            await asyncio.to_thread(node.proc.wait, 30)


async def root_client(url: str, *, setup: bool = True) -> httpx.AsyncClient:
    """A client logged in as root (cookie + New-Api-User); the session works on every node of the deployment."""
    client = httpx.AsyncClient(base_url=url, timeout=30)
    if setup:
        body = {"username": "root", "password": ROOT_PASSWORD, "confirmPassword": ROOT_PASSWORD}
        assert (await client.post("/api/setup", json=body)).json()["success"]
    login = await client.post("/api/user/login", json={"username": "root", "password": ROOT_PASSWORD})
    assert login.json()["success"], login.text
    client.headers["New-Api-User"] = str(login.json()["data"]["id"])
    return client


async def create_key(admin: httpx.AsyncClient, name: str, **fields: Any) -> tuple[int, str]:
    """(token id, "sk-…" key) of a new API key of the caller."""
    body: dict[str, Any] = {"name": name, "remain_quota": 0, "unlimited_quota": True, "expired_time": -1}
    body.update(fields)
    assert (await admin.post("/api/token/", json=body)).json()["success"]
    items = (await admin.get("/api/token/search", params={"keyword": name})).json()["data"]["items"]
    token_id = int(next(t["id"] for t in items if t["name"] == name))
    key = (await admin.post(f"/api/token/{token_id}/key")).json()["data"]["key"]
    return token_id, "sk-" + str(key)


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float, what: str) -> float:
    """Poll ``check`` until it holds; the seconds it took. Fails when ``within`` seconds pass first."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)
