"""Fixtures shared by the management API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.app import RunningApp, Session

USER_PASSWORD = "User-pass-123"


@pytest.fixture
async def alice(app: RunningApp, root: Session) -> AsyncIterator[Session]:
    """A second, common user (root exists so registration is open)."""
    r = await app.client.post("/api/user/register", json={"username": "alice", "password": USER_PASSWORD})
    assert r.json()["success"], r.text
    session = await app.login("alice", USER_PASSWORD)
    yield session
    await session.client.aclose()
