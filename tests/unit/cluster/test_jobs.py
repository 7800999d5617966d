"""The leader's job runner and schedule: start-up runs, switched-off jobs, repeated runs, failures that do not
end the schedule, cancellation on stop; and the intervals and log cleanup the leader runs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from clinx.cluster.jobs import Job, JobRunner
from clinx.cluster.schedule import channel_test_seconds, delete_old_logs
from clinx.config.option_keys import build_registry
from clinx.config.settings import Settings
from clinx.store.engine import open_databases
from clinx.store.migrate import upgrade_all
from clinx.store.repos import logs as logs_repo
from tests.support.backends import sqlite_dsn_parts, temporary_database


async def poll(condition: object, *, within: float = 5.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_jobs_run_at_start_repeat_and_survive_failures() -> None:
    runs = {"start": 0, "often": 0, "off": 0, "failing": 0}

    def counter(name: str, fail: bool = False) -> Job:
        async def run() -> None:
            runs[name] += 1
            if fail:
                raise RuntimeError("boom")

        every = {"start": 3600.0, "often": 0.02, "off": 0.0, "failing": 0.02}[name]
        return Job(name, lambda: every, run, at_start=name == "start")

    runner = JobRunner(
        [counter("start"), counter("often"), counter("off"), counter("failing", fail=True)], recheck=0.05
    )
    runner.start()
    await poll(lambda: runs["often"] >= 3 and runs["failing"] >= 3)
    await runner.stop()
    assert runs["start"] == 1  # at start, then not again within the hour
    assert runs["off"] == 0
    assert not runner.running


async def test_a_job_not_at_start_waits_one_interval() -> None:
    ran: list[float] = []
    started = time.monotonic()

    async def run() -> None:
        ran.append(time.monotonic() - started)

    runner = JobRunner([Job("later", lambda: 0.2, run)])
    runner.start()
    await poll(lambda: bool(ran))
    await runner.stop()
    assert ran[0] >= 0.19


async def test_stop_cancels_a_running_job() -> None:
    entered = asyncio.Event()
    cancelled: list[bool] = []

    async def run() -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    runner = JobRunner([Job("long", lambda: 1.0, run, at_start=True)])
    runner.start()
    await entered.wait()
    await runner.stop()
    assert cancelled == [True]


def test_channel_test_interval_from_env_or_monitor_options() -> None:
    registry = build_registry()
    off = registry.snapshot({}, version=1)
    on = registry.snapshot(
        {"monitor_setting.auto_test_channel_enabled": "true", "monitor_setting.auto_test_channel_minutes": "3"},
        version=2,
    )
    plain = Settings.from_env({})
    assert channel_test_seconds(plain, off) == 0
    assert channel_test_seconds(plain, on) == 180
    forced = Settings.from_env({"CHANNEL_TEST_FREQUENCY": "7"})
    assert channel_test_seconds(forced, off) == channel_test_seconds(forced, on) == 420


async def test_log_cleanup_deletes_only_rows_older_than_the_retention(tmp_path: Path) -> None:
    now = 1_800_000_000
    async with temporary_database("sqlite", tmp_path) as dsn:
        dbs = open_databases(*sqlite_dsn_parts(dsn))
        try:
            await upgrade_all(dbs.main, dbs.logs)
            for n, age_days in enumerate((40, 31, 29, 0)):
                await logs_repo.insert_log(
                    dbs.logs,
                    {"user_id": 1, "created_at": now - age_days * 86_400 - 1, "type": 2, "content": f"row {n}"},
                )
            assert await delete_old_logs(dbs.logs, 30, now=lambda: now) == 2
            page = await logs_repo.list_page(dbs.logs, logs_repo.LogFilter(), 1, 10)
            assert sorted(item["content"] for item in page.items) == ["row 2", "row 3"]
        finally:
            await dbs.dispose()
