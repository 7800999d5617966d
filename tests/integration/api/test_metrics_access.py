"""Who may read GET /metrics (admins, a scraper with CLINX_METRICS_TOKEN, anyone only when made public), and a
scrape on a node with several workers (CLINX_METRICS_DIR) adds up their snapshots."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from clinx.api.metrics_node import snapshot_path, write_snapshot
from clinx.core.metrics import Family
from tests.support.app import RunningApp, Session, running_app
from tests.support.prometheus import parse

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


async def test_anonymous_is_refused_with_401(app: RunningApp) -> None:
    r = await app.client.get("/metrics")
    assert r.status_code == 401
    assert r.json()["success"] is False
    assert "clinx_relay_requests_total" not in r.text


async def test_a_common_user_is_refused_with_403(app: RunningApp, alice: Session) -> None:
    r = await alice.get("/metrics")
    assert r.status_code == 403


async def test_an_admin_session_reads_the_metrics(app: RunningApp, root: Session) -> None:
    r = await root.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"] == PROMETHEUS_TEXT
    exposition = parse(r.text)
    assert exposition.types["clinx_relay_requests_total"] == "counter"
    assert exposition.types["clinx_relay_request_duration_seconds"] == "histogram"
    assert exposition.types["clinx_usage_log_pending"] == "gauge"
    assert exposition.value("clinx_usage_log_pending") == 0
    assert exposition.value("clinx_ledger_leases") == 0
    assert exposition.value("process_resident_memory_bytes") > 0


async def test_an_admin_access_token_reads_the_metrics(app: RunningApp, root: Session) -> None:
    token = (await root.get("/api/user/token")).json()["data"]
    r = await app.client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.headers["content-type"] == PROMETHEUS_TEXT


async def test_the_scraper_token_reads_the_metrics_and_a_wrong_one_does_not(sqlite_db: str) -> None:
    async with running_app(sqlite_db, CLINX_METRICS_TOKEN="scrape-secret-123") as app:
        ok = await app.client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
        assert ok.status_code == 200 and ok.headers["content-type"] == PROMETHEUS_TEXT
        wrong = await app.client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-124"})
        assert wrong.status_code == 401
        assert (await app.client.get("/metrics")).status_code == 401


async def test_public_metrics_need_no_credentials(sqlite_db: str) -> None:
    async with running_app(sqlite_db, CLINX_METRICS_PUBLIC="true") as app:
        r = await app.client.get("/metrics")
        assert r.status_code == 200
        assert "# TYPE clinx_quota_charged_total counter" in r.text


async def test_metrics_are_not_part_of_the_management_api_document(app: RunningApp) -> None:
    doc = (await app.client.get("/api/openapi.json")).json()
    assert "/metrics" not in doc["paths"]


async def test_a_scrape_adds_up_the_other_workers_snapshots(sqlite_db: str, tmp_path: Path) -> None:
    other = Family(
        "clinx_relay_requests_total",
        "Relay requests answered, by endpoint and status class.",
        "counter",
        ("endpoint", "status_class"),
        values={("chat", "2xx"): 40.0},
    )
    write_snapshot(snapshot_path(tmp_path, 999_999_999), [other])
    async with running_app(sqlite_db, CLINX_METRICS_DIR=str(tmp_path), CLINX_METRICS_PUBLIC="true") as app:
        app.state.relay.metrics.finished("chat", 200, 0.01)
        own = snapshot_path(tmp_path, os.getpid())
        deadline = time.monotonic() + 5
        while not own.exists():  # this worker publishes its own snapshot for the others
            assert time.monotonic() < deadline, "the worker wrote no snapshot"
            await asyncio.sleep(0.01)
        exposition = parse((await app.client.get("/metrics")).text)
        assert exposition.value("clinx_relay_requests_total", endpoint="chat", status_class="2xx") == 41
    assert not own.exists()  # removed at shutdown: a stopped worker no longer counts
