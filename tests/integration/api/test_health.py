"""The health endpoint reports what a load balancer and an operator need."""

from __future__ import annotations

import pytest

from tests.support.app import RunningApp


async def test_health_reports_node_database_and_cache(app: RunningApp) -> None:
    r = await app.client.get("/api/health")
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["node_role"] == "master" and data["version"].startswith("v")
    assert data["database"] == {"kind": "sqlite", "state": "ok"}
    assert data["cache"] == {"kind": "memory", "state": "ok"}
    assert data["config_version"] >= 1


async def test_health_is_503_when_the_cache_does_not_answer(app: RunningApp, monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_answer() -> bool:
        return False

    monkeypatch.setattr(app.state.cache, "ping", no_answer)
    r = await app.client.get("/api/health")
    assert r.status_code == 503
    body = r.json()
    assert body["success"] is False and body["data"]["cache"]["state"] == "unreachable"
