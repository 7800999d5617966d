"""In-process cache backend: a dict with expiry times, for single-process deployments and tests."""

from __future__ import annotations

import time
from collections.abc import Callable


class MemoryCache:
    """Single event loop, no awaits inside operations, so each one is atomic with respect to others."""

    name = "memory"

    def __init__(self, *, now: Callable[[], float] = time.monotonic, max_entries: int = 100_000) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._now = now
        self._max_entries = max_entries

    def _live(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= self._now():
            del self._data[key]
            return None
        return value

    def _expiry(self, ttl: float | None) -> float | None:
        return None if ttl is None else self._now() + ttl

    def _evict_if_full(self) -> None:
        if len(self._data) < self._max_entries:
            return
        now = self._now()
        expired = [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]
        for key in expired:
            del self._data[key]
        while len(self._data) >= self._max_entries:
            # Oldest insertion first: dicts keep insertion order.
            del self._data[next(iter(self._data))]

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._evict_if_full()
        self._data[key] = (value, self._expiry(ttl))

    async def delete(self, *keys: str) -> int:
        return self.discard(*keys)

    def discard(self, *keys: str) -> int:
        """``delete`` without a coroutine: what another worker's invalidation calls straight from its socket
        callback, so it applies before the next request is served."""
        removed = 0
        for key in keys:
            if self._live(key) is not None:
                removed += 1
            self._data.pop(key, None)
        return removed

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        current = self._live(key)
        if current is None:
            self._evict_if_full()
            value = amount
            expires = self._expiry(ttl)
        else:
            value = int(current) + amount
            expires = self._data[key][1]
        self._data[key] = (str(value).encode(), expires)
        return value

    async def decr_if_enough(self, key: str, amount: int) -> int | None:
        current = self._live(key)
        if current is None or int(current) < amount:
            return None
        value = int(current) - amount
        self._data[key] = (str(value).encode(), self._data[key][1])
        return value

    async def hit_window(self, key: str, now: float, limit: int, window: float, *, record: bool = True) -> bool:
        raw = self._live(key)
        # Newest first, as the Redis list; at most ``limit`` entries, so parsing stays bounded.
        times = [float(t) for t in raw.split()] if raw else []
        if len(times) >= limit and now - times[limit - 1] < window:
            return False
        if record:
            if raw is None:
                self._evict_if_full()
            kept = [now, *times[: limit - 1]]
            self._data[key] = (" ".join(map(repr, kept)).encode(), self._expiry(window))
        return True

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()
