"""The broadcasting cache: a key deleted here or by another worker is not cached again for a moment (a request
that read the old row before the change must not bring it back for a whole TTL), then caching resumes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clinx.cache.broadcasting import BroadcastingCache
from clinx.cache.memory import MemoryCache
from clinx.cache.worker_bus import WorkerBus, encode_forget


@dataclass
class ManualTime:
    current: float = 1_000.0

    def __call__(self) -> float:
        return self.current


def _cache(tmp_path: Path, clock: ManualTime) -> tuple[BroadcastingCache, WorkerBus]:
    bus = WorkerBus(tmp_path, "here")  # never started: the other worker is played by bus.receive
    return BroadcastingCache(MemoryCache(now=clock), bus, hold_off=2.0, now=clock), bus


async def test_a_deleted_key_is_not_cached_again_during_the_hold_off(tmp_path: Path) -> None:
    clock = ManualTime()
    cache, _ = _cache(tmp_path, clock)
    await cache.set("token:k", b"old", ttl=600)
    assert await cache.delete("token:k") == 1
    await cache.set("token:k", b"read before the change", ttl=600)
    assert await cache.get("token:k") is None
    await cache.set("token:other", b"v", ttl=600)
    assert await cache.get("token:other") == b"v"  # other keys are cached as usual
    clock.current += 2.01
    await cache.set("token:k", b"new", ttl=600)
    assert await cache.get("token:k") == b"new"


async def test_another_workers_delete_removes_the_key_and_holds_it_off(tmp_path: Path) -> None:
    clock = ManualTime()
    cache, bus = _cache(tmp_path, clock)
    await cache.set("user:7", b"active", ttl=600)
    await cache.set("user:8", b"active", ttl=600)
    bus.receive(encode_forget("there", ["user:7"])[0])
    assert await cache.get("user:7") is None and await cache.get("user:8") == b"active"
    await cache.set("user:7", b"stale", ttl=600)
    assert await cache.get("user:7") is None
    bus.receive(encode_forget("here", ["user:8"])[0])  # its own message, echoed: ignored
    assert await cache.get("user:8") == b"active"
