"""Keeps this node's in-memory copies of shared data (the options snapshot, the channel index) in step with the
database: reloads what another node announced at once, and everything every SYNC_FREQUENCY seconds anyway (the
fallback when there is no pub/sub or a message was lost)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection

from clinx.cache.notify import ALL_KINDS, CHANNELS, OPTIONS
from clinx.config.live import LiveOptions
from clinx.routing.index import ChannelIndex
from clinx.store.engine import Engine
from clinx.store.repos import options as options_repo

log = logging.getLogger(__name__)
RETRY_AFTER = 1.0  # seconds before a failed reload (database hiccup) is tried again


class ConfigSync:
    def __init__(self, engine: Engine, options: LiveOptions, index: ChannelIndex, *, every: float) -> None:
        self._engine = engine
        self._options = options
        self._index = index
        self._every = every
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self.reloads = 0  # completed reload rounds, for tests and diagnostics

    def notify(self, kinds: Collection[str]) -> None:
        """Another node changed ``kinds``: reload them soon (bursts of messages coalesce into one reload)."""
        self._pending.update(kinds)
        self._wake.set()

    async def reload(self, kinds: Collection[str]) -> None:
        if OPTIONS in kinds:
            self._options.replace(await options_repo.load_all(self._engine))
        if CHANNELS in kinds:
            await self._index.reload(self._engine)
        self.reloads += 1

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_poll = loop.time() + self._every
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, next_poll - loop.time()))
            self._wake.clear()
            if loop.time() >= next_poll:
                self._pending.update(ALL_KINDS)
                next_poll = loop.time() + self._every
            kinds, self._pending = self._pending, set()
            if not kinds:
                continue
            try:
                await self.reload(kinds)
            except Exception:  # a transient DB error must not end the loop: keep the work and try again shortly
                log.exception("reloading %s from the database failed", ", ".join(sorted(kinds)))
                self._pending.update(kinds)
                await asyncio.sleep(RETRY_AFTER)
                self._wake.set()
