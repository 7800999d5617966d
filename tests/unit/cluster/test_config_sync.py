"""What a node reloads when another announces a change, and the polling fallback when nobody announces."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from clinx.cache.notify import CHANNELS, OPTIONS, LocalBus, LocalNotifier
from clinx.cluster.sync import ConfigSync
from clinx.config.live import LiveOptions
from clinx.config.option_keys import build_registry
from clinx.routing.index import ChannelIndex
from clinx.store.engine import Engine, open_databases
from clinx.store.migrate import upgrade_all
from clinx.store.repos import options as options_repo
from tests.support.backends import sqlite_dsn_parts, temporary_database


@dataclass
class Node:
    options: LiveOptions
    sync: ConfigSync
    notifier: LocalNotifier


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with temporary_database("sqlite", tmp_path) as dsn:
        dbs = open_databases(*sqlite_dsn_parts(dsn))
        await upgrade_all(dbs.main, dbs.logs)
        try:
            yield dbs.main
        finally:
            await dbs.dispose()


@contextlib.asynccontextmanager
async def running(engine: Engine, bus: LocalBus | None, *, every: float) -> AsyncIterator[Node]:
    options = LiveOptions(build_registry())
    sync = ConfigSync(engine, options, ChannelIndex(), every=every)
    notifier = LocalNotifier(bus=bus)
    await notifier.start(sync.notify)
    task = asyncio.create_task(sync.run())
    try:
        yield Node(options, sync, notifier)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await notifier.close()


async def poll(condition: Callable[[], bool], within: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, "not applied in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_an_announced_option_change_is_reloaded_by_the_other_nodes_only(engine: Engine) -> None:
    bus = LocalBus()
    async with running(engine, bus, every=600) as a, running(engine, bus, every=600) as b:
        await options_repo.save(engine, {"SystemName": "Renamed on A"})
        a.options.apply({"SystemName": "Renamed on A"})  # the writer applies its own change directly
        await a.notifier.publish(OPTIONS)
        await poll(lambda: b.options.current.get_str("SystemName") == "Renamed on A", within=1.0)
        assert b.sync.reloads == 1
        assert a.sync.reloads == 0  # a node ignores its own announcements


async def test_a_burst_of_announcements_coalesces(engine: Engine) -> None:
    bus = LocalBus()
    async with running(engine, bus, every=600) as a, running(engine, bus, every=600) as b:
        for _ in range(50):
            await a.notifier.publish(CHANNELS)
            await a.notifier.publish(OPTIONS)
        await poll(lambda: b.sync.reloads >= 1, within=1.0)
        assert b.sync.reloads < 50


async def test_without_announcements_polling_applies_the_change(engine: Engine) -> None:
    async with running(engine, None, every=0.05) as lonely:
        assert lonely.notifier.state == "off"
        await options_repo.save(engine, {"SystemName": "Changed behind its back"})
        await poll(lambda: lonely.options.current.get_str("SystemName") == "Changed behind its back", within=2.0)
