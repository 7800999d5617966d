"""open_links without Redis: the worker bus when the workers share a directory (``clinx serve --workers N``),
the lone in-process cache and notifier otherwise."""

from __future__ import annotations

from pathlib import Path

from clinx.cache.broadcasting import BroadcastingCache
from clinx.cache.memory import MemoryCache
from clinx.cache.notify import LocalNotifier
from clinx.cache.worker_notify import WorkerNotifier
from clinx.cluster.node import open_links
from clinx.config.settings import Settings
from clinx.store.engine import open_databases


async def test_workers_sharing_a_directory_get_the_worker_bus(tmp_path: Path) -> None:
    dbs = open_databases("", str(tmp_path / "links.db"))
    try:
        shared = open_links(Settings.from_env({"CLINX_WORKERS_DIR": str(tmp_path / "workers")}), dbs.main)
        assert isinstance(shared.cache, BroadcastingCache) and isinstance(shared.notifier, WorkerNotifier)
        assert shared.notifier.node_id == shared.node_id
        alone = open_links(Settings.from_env({}), dbs.main)
        assert isinstance(alone.cache, MemoryCache) and isinstance(alone.notifier, LocalNotifier)
    finally:
        await dbs.dispose()
