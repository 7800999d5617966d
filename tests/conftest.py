"""Shared fixtures: real database backends, a running app on SQLite, a set-up root session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.app import ROOT_PASSWORD, RunningApp, Session, running_app
from tests.support.backends import DB_BACKENDS, temporary_database


@pytest.fixture(params=DB_BACKENDS)
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh empty database on each backend (SQLite, PostgreSQL, MariaDB), as a New API SQL_DSN."""
    async with temporary_database(request.param, tmp_path) as dsn:
        yield dsn


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[str]:
    async with temporary_database("sqlite", tmp_path) as dsn:
        yield dsn


@pytest.fixture
async def app(sqlite_db: str) -> AsyncIterator[RunningApp]:
    async with running_app(sqlite_db) as running:
        yield running


@pytest.fixture
async def root(app: RunningApp) -> AsyncIterator[Session]:
    await app.setup_root()
    session = await app.login("root", ROOT_PASSWORD)
    yield session
    await session.client.aclose()
