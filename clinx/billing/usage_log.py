"""The batched usage-log writer: consume logs and hourly ``quota_data`` buckets are queued by the relay and
written in short transactions every ``interval`` seconds (or sooner when ``batch`` rows wait). A graceful
shutdown drains everything; a hard crash loses at most one interval of log rows — never quota, which the
wallet operations change synchronously."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from clinx.store.engine import Engine
from clinx.store.repos import logs as logs_repo
from clinx.store.repos import quota_data as quota_data_repo

log = logging.getLogger(__name__)


class UsageLogWriter:
    def __init__(
        self,
        logs_engine: Engine,
        main_engine: Engine,
        *,
        interval: float = 0.1,
        batch: int = 200,
        export_buckets: bool = True,
    ) -> None:
        self._logs_engine = logs_engine
        self._main_engine = main_engine
        self._interval = interval
        self._batch = batch
        self._export = export_buckets
        self._logs: list[Mapping[str, Any]] = []
        self._buckets: list[Mapping[str, Any]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._flush_lock = asyncio.Lock()
        self.written = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="usage-log-writer")

    def add(self, row: Mapping[str, Any], bucket: Mapping[str, Any] | None = None) -> None:
        """Queue one log row (and its usage for the hourly bucket); never blocks, never awaits."""
        self._logs.append(row)
        if bucket is not None and self._export:
            self._buckets.append(bucket)
        if len(self._logs) >= self._batch:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._logs) + len(self._buckets)

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # keep the writer alive through a transient DB error; rows stay queued
                log.exception("usage log flush failed; will retry")

    async def flush(self) -> None:
        """Write everything queued so far. Rows are put back if the write fails, so none is lost."""
        async with self._flush_lock:
            rows, self._logs = self._logs, []
            buckets, self._buckets = self._buckets, []
            try:
                if rows:
                    await logs_repo.insert_many(self._logs_engine, rows)
                    self.written += len(rows)
            except Exception:
                self._logs[:0] = rows
                self._buckets[:0] = buckets
                raise
            try:
                if buckets:
                    await quota_data_repo.add_buckets(self._main_engine, buckets)
            except Exception:
                self._buckets[:0] = buckets
                raise

    async def close(self) -> None:
        """Stop the loop and drain every queued row. The loop is asked to stop, never cancelled: a write cut by a
        cancellation would lose its rows (or, put back, write them twice)."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        await self.flush()
