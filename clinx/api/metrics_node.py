"""Metrics for the whole node. ``clinx serve --workers N`` runs N processes on one port, so a scrape reaches only
one of them: each worker writes its snapshot as JSON into a shared directory (``CLINX_METRICS_DIR``) once a
second, in a thread so the event loop never waits on the disk; the worker that answers a scrape adds the other
workers' fresh snapshots to its own live figures. Without a directory, a scrape shows this process alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from pathlib import Path

import orjson

from clinx.api.process_stats import process_families
from clinx.core.metrics import Family, Registry, from_json, merge, to_json

log = logging.getLogger(__name__)

SNAPSHOT_INTERVAL = 1.0
# A snapshot not rewritten for this long belongs to a worker that has gone (crashed, or replaced).
STALE_AFTER = 10.0
PREFIX, SUFFIX = "worker-", ".json"


def snapshot_path(directory: Path, pid: int) -> Path:
    return directory / f"{PREFIX}{pid}{SUFFIX}"


def write_snapshot(path: Path, families: list[Family]) -> None:
    """Write then rename, so a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(orjson.dumps(to_json(families)))
    os.replace(partial, path)


def read_snapshots(
    directory: Path, *, exclude: Path, now: float, stale_after: float = STALE_AFTER
) -> list[list[Family]]:
    """Every other worker's recent snapshot; unreadable or stale files are skipped, never fatal to a scrape."""
    groups: list[list[Family]] = []
    for path in sorted(directory.glob(f"{PREFIX}*{SUFFIX}")):
        if path == exclude:
            continue
        try:
            if now - path.stat().st_mtime > stale_after:
                continue
            groups.append(from_json(orjson.loads(path.read_bytes())))
        except (OSError, orjson.JSONDecodeError, ValueError, KeyError, TypeError):
            continue  # removed between listing and reading, or written by an incompatible version
    return groups


def node_view(live: list[Family], directory: str, pid: int) -> list[Family]:
    """This process (live registry + process metrics) merged with the other workers' snapshots. Blocking."""
    own = live + process_families()
    if not directory:
        return own
    folder = Path(directory)
    others = read_snapshots(folder, exclude=snapshot_path(folder, pid), now=time.time())
    return merge([own, *others]) if others else own


async def scrape(registry: Registry, directory: str) -> list[Family]:
    # Collected on the loop (a consistent copy, no locks), read and merged in a thread (file I/O).
    live = registry.collect()
    return await asyncio.to_thread(node_view, live, directory, os.getpid())


class SnapshotPublisher:
    """The background task that keeps this worker's snapshot fresh; does nothing without a directory."""

    def __init__(self, registry: Registry, directory: str, *, interval: float = SNAPSHOT_INTERVAL) -> None:
        self._registry = registry
        self._path = snapshot_path(Path(directory), os.getpid()) if directory else None
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    @property
    def path(self) -> Path | None:
        return self._path

    def start(self) -> None:
        if self._path is not None and self._task is None:
            self._task = asyncio.create_task(self._run(self._path), name="metrics-snapshot")

    async def _run(self, path: Path) -> None:
        while True:
            live = self._registry.collect()
            try:
                await asyncio.to_thread(_publish, path, live)
            except OSError:  # a full disk or a removed directory must not stop the worker; the next round retries
                log.warning("cannot write the metrics snapshot %s", path, exc_info=True)
            await asyncio.sleep(self._interval)

    async def close(self) -> None:
        """Stop, and remove the snapshot: a worker that has stopped no longer counts in the node's figures."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._path is not None:
            await asyncio.to_thread(self._path.unlink, missing_ok=True)


def _publish(path: Path, live: list[Family]) -> None:
    write_snapshot(path, live + process_families())
