"""A worker's in-process cache whose deletions reach the other workers of the machine (over the ``WorkerBus``):
without Redis each worker caches keys and users itself, and a key disabled or a user banned through one worker
must be refused by all of them at once, not after the cache TTL (SYNC_FREQUENCY). A lost datagram falls back
to that TTL."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from clinx.cache.memory import MemoryCache
from clinx.cache.worker_bus import WorkerBus

# Seconds after a delete during which the key is not cached again. A request that missed the cache just before
# the change may still be reading the old row; storing it after the delete would bring the stale value back for
# a whole TTL. Meanwhile those keys are read from the database.
HOLD_OFF = 2.0
MAX_HELD = 10_000  # beyond that many recent deletes, the oldest lose their hold-off (the TTL still bounds them)


class BroadcastingCache:
    def __init__(
        self,
        local: MemoryCache,
        bus: WorkerBus,
        *,
        hold_off: float = HOLD_OFF,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = local.name
        self.local = local
        self._bus = bus
        self._hold_off = hold_off
        self._now = now
        self._held: dict[str, float] = {}  # key -> end of its hold-off, oldest first
        bus.on_forget = self._forget

    async def get(self, key: str) -> bytes | None:
        return await self.local.get(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        if self._held and self._holding(key):
            return
        await self.local.set(key, value, ttl)

    async def delete(self, *keys: str) -> int:
        removed = self._forget(keys)
        await self._bus.publish_forget(keys)
        return removed

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        return await self.local.incr(key, amount, ttl)

    async def decr_if_enough(self, key: str, amount: int) -> int | None:
        return await self.local.decr_if_enough(key, amount)

    async def hit_window(self, key: str, now: float, limit: int, window: float, *, record: bool = True) -> bool:
        return await self.local.hit_window(key, now, limit, window, record=record)

    async def ping(self) -> bool:
        return await self.local.ping()

    async def close(self) -> None:
        self._bus.on_forget = None
        await self.local.close()

    def _forget(self, keys: Sequence[str]) -> int:
        """Drop ``keys`` here (a local delete, or another worker's) and hold them off for a moment."""
        now = self._now()
        for key in keys:
            self._held.pop(key, None)  # re-inserted last: the dict stays ordered by hold-off end
            self._held[key] = now + self._hold_off
        while self._held:  # drop the expired (and the excess) from the front
            oldest = next(iter(self._held))
            if self._held[oldest] > now and len(self._held) <= MAX_HELD:
                break
            del self._held[oldest]
        return self.local.discard(*keys)

    def _holding(self, key: str) -> bool:
        until = self._held.get(key)
        if until is None:
            return False
        if until > self._now():
            return True
        del self._held[key]
        return False
