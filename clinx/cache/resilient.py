"""A shared cache that keeps the node serving when it fails: on the first connection error or timeout, every
operation moves to an in-process MemoryCache (key and user entries are then read from the database and kept
only briefly; rate-limit windows count per node) while a background probe pings the shared cache; when it
answers again, the invalidations made meanwhile are replayed on it, the local entries are dropped (they may be
stale) and operations go back to it.

Money never depends on this cache (the quota ledger reserves in the database), so the fallback costs database
reads and per-node rate limits, never billing accuracy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from clinx.cache.base import Cache
from clinx.cache.memory import MemoryCache

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_EVERY = 1.0  # seconds between pings of the failed cache
FALLBACK_TTL = 2.0  # longest life of a cached entry while serving from memory: other nodes' edits stay visible
MAX_FORGOTTEN = 10_000  # invalidations remembered for replay; beyond that, entries age out by their TTL


class ResilientCache:
    def __init__(
        self,
        primary: Cache,
        *,
        errors: tuple[type[BaseException], ...],
        fallback: MemoryCache | None = None,
        probe_every: float = PROBE_EVERY,
        fallback_ttl: float = FALLBACK_TTL,
        max_forgotten: int = MAX_FORGOTTEN,
    ) -> None:
        self.name = primary.name
        self.primary = primary
        self._errors = errors
        self._fallback = fallback or MemoryCache()
        self._probe_every = probe_every
        self._fallback_ttl = fallback_ttl
        self._max_forgotten = max_forgotten
        self._forgotten: set[str] = set()
        self._forgotten_overflow = False
        self._degraded = False
        self._probe: asyncio.Task[None] | None = None

    @property
    def degraded(self) -> bool:
        """True while operations are served from the in-process fallback."""
        return self._degraded

    async def _run(self, op: Callable[[Cache], Awaitable[T]]) -> T:
        if not self._degraded:
            try:
                return await op(self.primary)
            except self._errors as exc:
                self._degrade(exc)
        return await op(self._fallback)

    def _degrade(self, reason: object) -> None:
        if self._degraded:
            return
        self._degraded = True
        log.warning(
            "%s cache unreachable (%s): serving from the database with a per-node cache until it answers again",
            self.name,
            reason,
        )
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._probe_until_back(), name="clinx-cache-probe")

    async def _probe_until_back(self) -> None:
        while True:
            await asyncio.sleep(self._probe_every)
            if await self.primary.ping() and await self._replay_forgotten():
                break
        await self._fallback.close()  # entries filled from the database meanwhile may be stale: drop them all
        self._degraded = False
        log.info("%s cache answers again: back to the shared cache", self.name)

    async def _replay_forgotten(self) -> bool:
        """Apply on the shared cache the invalidations made while it was away (a key edited on this node
        must not be served from a stale shared entry)."""
        keys = sorted(self._forgotten)
        try:
            for start in range(0, len(keys), 500):
                await self.primary.delete(*keys[start : start + 500])
        except self._errors:
            return False
        if self._forgotten_overflow:
            log.warning(
                "more than %d cache entries changed during the outage: some may be stale until their TTL",
                self._max_forgotten,
            )
        self._forgotten.clear()
        self._forgotten_overflow = False
        return True

    def _short(self, ttl: float | None) -> float:
        return self._fallback_ttl if ttl is None else min(ttl, self._fallback_ttl)

    async def get(self, key: str) -> bytes | None:
        return await self._run(lambda c: c.get(key))

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        if self._degraded:
            await self._fallback.set(key, value, self._short(ttl))
            return
        try:
            await self.primary.set(key, value, ttl)
        except self._errors as exc:
            self._degrade(exc)
            await self._fallback.set(key, value, self._short(ttl))

    async def delete(self, *keys: str) -> int:
        removed = await self._run(lambda c: c.delete(*keys))
        if self._degraded:
            self._remember(keys)
        return removed

    def _remember(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            if len(self._forgotten) >= self._max_forgotten:
                self._forgotten_overflow = True
                return
            self._forgotten.add(key)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        return await self._run(lambda c: c.incr(key, amount, ttl))

    async def decr_if_enough(self, key: str, amount: int) -> int | None:
        return await self._run(lambda c: c.decr_if_enough(key, amount))

    async def hit_window(self, key: str, now: float, limit: int, window: float, *, record: bool = True) -> bool:
        return await self._run(lambda c: c.hit_window(key, now, limit, window, record=record))

    async def ping(self) -> bool:
        """Whether the shared cache answers (the node serves either way). A failed ping starts the fallback."""
        if self._degraded:
            return False
        if await self.primary.ping():
            return True
        self._degrade("no answer to PING")
        return False

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        await self.primary.close()
        await self._fallback.close()
