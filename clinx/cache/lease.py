"""In-process leases: the reference implementation of the lease contract (one holder per name until its time
runs out), used by single-process setups' tests and as the model the Redis and database leases must match.

The contract, for every backend: ``acquire(name, holder, ttl)`` takes the lease when it is free or expired, or
extends it when ``holder`` already has it, and answers who holds it afterwards; ``release`` gives it up only if
``holder`` has it; ``holder`` answers the current, unexpired holder.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class MemoryLeases:
    def __init__(self, *, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._held: dict[str, tuple[str, float]] = {}

    def _current(self, name: str) -> str | None:
        entry = self._held.get(name)
        if entry is None or entry[1] <= self._now():
            return None
        return entry[0]

    async def acquire(self, name: str, holder: str, ttl: float) -> str | None:
        current = self._current(name)
        if current is None or current == holder:
            self._held[name] = (holder, self._now() + ttl)
            return holder
        return current

    async def release(self, name: str, holder: str) -> None:
        if self._current(name) == holder:
            del self._held[name]

    async def holder(self, name: str) -> str | None:
        return self._current(name)
