"""The worker bus: messages round-trip and junk is dropped, peers are found through the shared directory (dead
ones cleaned up), and two workers' notifiers and caches on one directory reach each other — a change kind is
delivered, a deleted cache key disappears from the other worker's cache."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from pathlib import Path

import orjson

from clinx.cache.broadcasting import BroadcastingCache
from clinx.cache.memory import MemoryCache
from clinx.cache.notify import CHANNELS, OPTIONS, STATE_DOWN, STATE_OK
from clinx.cache.worker_bus import (
    Message,
    WorkerBus,
    decode,
    encode_change,
    encode_forget,
    encode_hello,
    peer_ports,
    register,
)
from clinx.cache.worker_notify import WorkerNotifier


class Inbox:
    def __init__(self) -> None:
        self.received: list[frozenset[str]] = []

    def __call__(self, kinds: Collection[str]) -> None:
        self.received.append(frozenset(kinds))


async def poll(condition: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "not delivered in time"
        await asyncio.sleep(0.01)


def test_messages_round_trip_and_junk_is_dropped() -> None:
    assert decode(encode_change("n1", CHANNELS)) == Message("n1", change=CHANNELS)
    assert decode(encode_hello("n1")) == Message("n1", hello=True)
    assert decode(encode_forget("n1", ["token:a", "user:7"])[0]) == Message("n1", forget=("token:a", "user:7"))
    junk = [b"", b"not json", b"[]", b'{"node": 5, "change": "channels"}', b'{"node": "n", "change": "users"}']
    junk += [b'{"node": "n", "forget": []}', b'{"node": "n", "forget": ["a", 1]}', b'{"node": "n"}']
    for raw in junk:
        assert decode(raw) is None, raw


def test_many_keys_are_split_over_datagrams_under_the_limit() -> None:
    keys = [f"token:{i:040d}" for i in range(1000)]
    datagrams = encode_forget("n1", keys, limit=1024)
    assert len(datagrams) > 1 and all(len(d) <= 1024 for d in datagrams)
    assert [k for d in datagrams for k in orjson.loads(d)["forget"]] == keys


def test_peers_are_the_other_live_workers_and_dead_ones_are_removed(tmp_path: Path) -> None:
    own = register(tmp_path, 40001)
    (tmp_path / "1-40002.peer").touch()  # pid 1 (init) always exists
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / f"{gone.pid}-40003.peer").touch()
    (tmp_path / "notes.txt").touch()
    assert peer_ports(tmp_path, own) == [40002]
    assert not (tmp_path / f"{gone.pid}-40003.peer").exists()


@asynccontextmanager
async def worker(directory: Path, node_id: str) -> AsyncIterator[tuple[WorkerNotifier, BroadcastingCache, Inbox]]:
    """One worker's links as open_links builds them: a notifier and a cache sharing one bus (re-listing the
    directory on every send, so a worker started just before is never missed)."""
    bus = WorkerBus(directory, node_id, relist_every=0.0)
    notifier, cache, inbox = WorkerNotifier(bus), BroadcastingCache(MemoryCache(), bus), Inbox()
    await notifier.start(inbox)
    try:
        yield notifier, cache, inbox
    finally:
        await notifier.close()
        await cache.close()


async def test_a_change_reaches_the_other_worker_and_not_the_sender(tmp_path: Path) -> None:
    async with worker(tmp_path, "a") as (notifier_a, _, inbox_a), worker(tmp_path, "b") as (notifier_b, _, inbox_b):
        assert notifier_a.state == notifier_b.state == STATE_OK
        await notifier_a.publish(CHANNELS)

        async def b_heard() -> bool:
            return inbox_b.received == [frozenset({CHANNELS})]

        await poll(b_heard)
        await notifier_b.publish(OPTIONS)

        async def a_heard() -> bool:
            return inbox_a.received == [frozenset({OPTIONS})]

        await poll(a_heard)
        assert inbox_b.received == [frozenset({CHANNELS})]  # nobody hears its own message
    assert notifier_a.state == STATE_DOWN
    assert not await asyncio.to_thread(os.listdir, tmp_path)  # both unregistered


async def test_a_key_deleted_on_one_worker_leaves_the_other_workers_cache(tmp_path: Path) -> None:
    async with worker(tmp_path, "a") as (_, cache_a, _), worker(tmp_path, "b") as (_, cache_b, _):
        for cache in (cache_a, cache_b):
            await cache.set("token:abc", b"enabled", ttl=600)
            await cache.set("user:7", b"active", ttl=600)
        assert await cache_a.delete("token:abc") == 1

        async def b_forgot() -> bool:
            return await cache_b.get("token:abc") is None

        await poll(b_forgot)
        assert await cache_a.get("token:abc") is None
        assert await cache_b.get("user:7") == b"active"  # only what was deleted


async def test_a_worker_that_joins_is_reached_before_the_next_relisting(tmp_path: Path) -> None:
    """A lists the directory once and would trust that list forever (frozen clock); B's greeting on joining is
    the only thing that can make A find it."""
    bus_a = WorkerBus(tmp_path, "a", clock=lambda: 0.0)
    bus_b = WorkerBus(tmp_path, "b")
    inbox_b = Inbox()
    bus_b.on_change = inbox_b
    await bus_a.start()
    assert bus_a.peers == []
    await bus_b.start()
    try:

        async def b_reached() -> bool:
            await bus_a.publish_change(CHANNELS)
            return bool(inbox_b.received)

        await poll(b_reached)
        assert bus_a.peers == [bus_b.port]
    finally:
        await bus_a.close()
        await bus_b.close()


async def test_an_inert_bus_publishes_to_nobody_without_failing(tmp_path: Path) -> None:
    bus = WorkerBus(tmp_path / "never-made", "a")
    cache = BroadcastingCache(MemoryCache(), bus)
    await cache.set("k", b"v")
    assert await cache.delete("k") == 1
    await WorkerNotifier(bus).publish(CHANNELS)
    assert not (tmp_path / "never-made").exists()
