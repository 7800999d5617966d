"""Real storage and cache backends for tests: a uniquely named database per use, dropped afterwards.

PostgreSQL (127.0.0.1:5432, trust auth) and MariaDB/MySQL (127.0.0.1:3306, root, no password) are used when they
answer; otherwise the test is skipped with the reason. Override with CLINX_TEST_PG / CLINX_TEST_MYSQL /
CLINX_TEST_REDIS (set to "off" to skip a backend on purpose).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

PG_HOST = os.environ.get("CLINX_TEST_PG", "127.0.0.1:5432")
MYSQL_HOST = os.environ.get("CLINX_TEST_MYSQL", "127.0.0.1:3306")
REDIS_URL = os.environ.get("CLINX_TEST_REDIS", "redis://127.0.0.1:6379/0")
DB_BACKENDS = ("sqlite", "postgres", "mysql")


def _reachable(hostport: str) -> bool:
    if hostport == "off":
        return False
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def skip_unless_reachable(kind: str) -> None:
    if kind == "postgres" and not _reachable(PG_HOST):
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}")
    if kind == "mysql" and not _reachable(MYSQL_HOST):
        pytest.skip(f"MySQL/MariaDB not reachable at {MYSQL_HOST}")
    if kind == "redis":
        hostport = REDIS_URL.split("//", 1)[-1].split("/", 1)[0]
        if REDIS_URL == "off" or not _reachable(hostport):
            pytest.skip(f"Redis not reachable at {REDIS_URL}")


@asynccontextmanager
async def temporary_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """Yield a SQL_DSN in New API's format for a new, empty database of ``kind``; drop it afterwards."""
    skip_unless_reachable(kind)
    name = f"clinx_t_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        yield f"local:{tmp_path / (name + '.db')}"
        return
    if kind == "postgres":
        import asyncpg

        host, _, port = PG_HOST.rpartition(":")
        admin = await asyncpg.connect(host=host, port=int(port), user="postgres", database="postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            yield f"postgres://postgres@{PG_HOST}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
        return
    import aiomysql

    host, _, port = MYSQL_HOST.rpartition(":")
    conn = await aiomysql.connect(host=host, port=int(port), user="root", password="", autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        yield f"root@tcp({MYSQL_HOST})/{name}?charset=utf8mb4&parseTime=true"
    finally:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


def sqlite_dsn_parts(dsn: str) -> tuple[str, str]:
    """(SQL_DSN, SQLITE_PATH) for a dsn from temporary_database: SQLite paths travel in SQLITE_PATH."""
    if dsn.startswith("local:"):
        return "", dsn.removeprefix("local:")
    return dsn, ""
