"""The leader's jobs as the app wires them: the scheduled channel test (monitor options or
CHANNEL_TEST_FREQUENCY) tests every channel as root and applies auto-disable, and skips while a manual run is
going; the scheduled balance refresh (CHANNEL_UPDATE_FREQUENCY) writes provider balances. A lone master on
SQLite leads through the database lease."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from clinx.api.channel_health_routes import channel_test_runner
from clinx.cluster.jobs import Job
from clinx.core.enums import ChannelStatus
from clinx.routing import channel_test as probe
from clinx.store.repos import channels as channels_repo
from clinx.store.tables import logs
from tests.support.backends import temporary_database
from tests.support.gateway import Gateway, serving
from tests.support.mock_provider import MockProvider
from tests.support.nodes import eventually


@pytest.fixture
async def mock() -> AsyncIterator[MockProvider]:
    async with MockProvider() as provider:
        yield provider


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with temporary_database("sqlite", tmp_path) as dsn, serving(dsn, CHANNEL_UPDATE_FREQUENCY="30") as gw:
        yield gw


def _job(gw: Gateway, name: str) -> Job:
    return next(job for job in gw.state.cluster.leadership.jobs.jobs if job.name == name)


async def test_a_lone_master_leads_through_the_database_lease(gateway: Gateway) -> None:
    async def leads() -> bool:
        return gateway.state.cluster.leadership.leader

    await eventually(leads, within=5, what="the only master takes the lease")
    data = (await gateway.client.get("/api/health")).json()["data"]
    assert data["leader"] == {"leader": True, "holder": data["node_id"]}
    assert data["pubsub"] == {"state": "off"}


async def test_scheduled_channel_test_runs_as_root_and_disables_a_failing_channel(
    gateway: Gateway, mock: MockProvider
) -> None:
    job = _job(gateway, "channel tests")
    assert job.every() == 0  # off until switched on
    await gateway.set_option("monitor_setting.auto_test_channel_enabled", "true")
    await gateway.set_option("monitor_setting.auto_test_channel_minutes", "5")
    assert job.every() == 300
    await gateway.set_option("AutomaticDisableChannelEnabled", "true")
    good = await gateway.add_channel("good", mock.base_url, "gpt-4o-mini")
    broken = await gateway.add_channel("broken", mock.base_url, "gpt-4o-mini", test_model="mock-error-401")

    await job.run()

    main = gateway.state.dbs.main
    assert (await channels_repo.get(main, good) or {}).get("status") == ChannelStatus.ENABLED
    assert (await channels_repo.get(main, broken) or {}).get("status") == ChannelStatus.AUTO_DISABLED
    async with gateway.state.dbs.logs.connect() as conn:
        testers = (await conn.execute(select(logs.c.user_id).where(logs.c.token_name == probe.TEST_TOKEN_NAME))).all()
    assert {row.user_id for row in testers} == {gateway.root.user_id}


async def test_scheduled_channel_test_skips_while_a_manual_run_is_going(gateway: Gateway, mock: MockProvider) -> None:
    mock.slow_seconds = 1.0
    slow = await gateway.add_channel("slow", mock.base_url, "gpt-4o-mini", test_model="mock-slow")
    assert (await gateway.root.get("/api/channel/test")).json()["success"] is True
    started = time.monotonic()
    await _job(gateway, "channel tests").run()  # returns at once: the manual run holds the runner
    assert time.monotonic() - started < 0.5
    await channel_test_runner(gateway.app).wait()
    assert (await channels_repo.get(gateway.state.dbs.main, slow) or {}).get("response_time", 0) >= 1000


async def test_scheduled_balance_refresh_writes_balances(gateway: Gateway, mock: MockProvider) -> None:
    job = _job(gateway, "balance refresh")
    assert job.every() == 30 * 60
    channel_id = await gateway.add_channel("billed", mock.base_url, "gpt-4o-mini")
    await job.run()
    row = await channels_repo.get(gateway.state.dbs.main, channel_id)
    assert row is not None and row["balance"] == 75.0 and row["balance_updated_time"]
