"""The cache interface every backend implements. Values are bytes; callers own serialisation."""

from __future__ import annotations

from typing import Protocol


class Cache(Protocol):
    """Key/value cache with TTLs and atomic counters, shared by all workers when backed by Redis."""

    name: str

    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` in seconds (None = no expiry)."""
        ...

    async def delete(self, *keys: str) -> int:
        """Remove keys; the number that existed."""
        ...

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Atomically add ``amount`` (absent = 0) and return the new value; ``ttl`` set when the key is new."""
        ...

    async def decr_if_enough(self, key: str, amount: int) -> int | None:
        """Atomically subtract ``amount`` when the stored value is at least ``amount``.

        Returns the new value, or None when the key is absent or holds less (nothing changes then).
        """
        ...

    async def hit_window(self, key: str, now: float, limit: int, window: float, *, record: bool = True) -> bool:
        """Sliding-window log of event times: True when fewer than ``limit`` (≥ 1) events were logged in the
        ``window`` seconds before ``now`` (an event at ``now - window`` no longer counts).

        When True and ``record``, an event is logged at ``now`` (atomically with the check); a False answer changes
        nothing. Only the newest ``limit`` times are kept, and the key expires ``window`` seconds after the last one.
        """
        ...

    async def ping(self) -> bool:
        """True when the backend answers."""
        ...

    async def close(self) -> None: ...
