"""Change notifiers: the in-process loopback and Redis pub/sub deliver other nodes' changes (never a node's
own), ignore junk, and the Redis subscriber comes back after Redis does, asking for a full reload."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from clinx.cache.notify import ALL_KINDS, CHANNELS, OPTIONS, LocalBus, LocalNotifier, decode, encode
from clinx.cache.redis_notify import RedisNotifier
from tests.support.backends import REDIS_URL, skip_unless_reachable
from tests.support.tcp_proxy import redis_proxy


class Inbox:
    def __init__(self) -> None:
        self.received: list[frozenset[str]] = []

    def __call__(self, kinds: Collection[str]) -> None:
        self.received.append(frozenset(kinds))


async def poll(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not delivered in time"
        await asyncio.sleep(0.01)


def test_messages_round_trip_and_junk_is_refused() -> None:
    assert decode(encode(CHANNELS, "n1")) == (CHANNELS, "n1")
    for junk in (b"", b"[]", b"not json", b'{"kind": "users", "node": "n1"}', b'{"kind": "options", "node": 5}'):
        assert decode(junk) is None


async def test_local_bus_delivers_to_the_other_members_only() -> None:
    bus = LocalBus()
    inbox_a, inbox_b = Inbox(), Inbox()
    a, b = LocalNotifier(bus=bus), LocalNotifier(bus=bus)
    await a.start(inbox_a)
    await b.start(inbox_b)
    await a.publish(OPTIONS)
    assert inbox_b.received == [frozenset({OPTIONS})] and inbox_a.received == []
    await b.close()
    await a.publish(CHANNELS)
    assert inbox_b.received == [frozenset({OPTIONS})]
    await a.close()


async def test_a_lone_local_notifier_is_a_no_op() -> None:
    inbox = Inbox()
    alone = LocalNotifier()
    await alone.start(inbox)
    await alone.publish(CHANNELS)
    assert inbox.received == [] and alone.state == "off"
    await alone.close()


@asynccontextmanager
async def redis_notifier(url: str, prefix: str, inbox: Inbox) -> AsyncIterator[RedisNotifier]:
    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    notifier = RedisNotifier(client, uuid.uuid4().hex[:8], prefix=prefix, backoff_first=0.05, backoff_max=0.2)
    await notifier.start(inbox)
    try:
        yield notifier
    finally:
        await notifier.close()
        await client.aclose()


async def test_redis_delivers_other_nodes_changes_and_skips_its_own() -> None:
    skip_unless_reachable("redis")
    prefix = f"clinx-test:{uuid.uuid4().hex}:"
    inbox_a, inbox_b = Inbox(), Inbox()
    async with redis_notifier(REDIS_URL, prefix, inbox_a) as a, redis_notifier(REDIS_URL, prefix, inbox_b) as b:
        assert a.state == b.state == "ok"
        assert a.channel == prefix + "clinx:changes"
        raw = Redis.from_url(REDIS_URL)
        await raw.publish(a.channel, b"garbage")  # ignored, and does not break the subscriber
        await raw.aclose()
        await a.publish(CHANNELS)
        await b.publish(OPTIONS)
        await poll(lambda: bool(inbox_a.received) and bool(inbox_b.received))
        assert inbox_b.received == [frozenset({CHANNELS})]
        assert inbox_a.received == [frozenset({OPTIONS})]


async def test_redis_subscriber_reconnects_and_asks_for_a_full_reload() -> None:
    skip_unless_reachable("redis")
    prefix = f"clinx-test:{uuid.uuid4().hex}:"
    inbox_far, inbox_near = Inbox(), Inbox()
    async with (
        redis_proxy() as (proxy, proxied_url),
        redis_notifier(REDIS_URL, prefix, inbox_far) as far,
        redis_notifier(proxied_url, prefix, inbox_near) as near,
    ):
        await proxy.cut()
        await poll(lambda: near.state == "down")
        await near.publish(OPTIONS)  # swallowed (logged): the write it follows has committed anyway
        await proxy.restore()
        await poll(lambda: near.state == "ok")
        assert inbox_near.received == [ALL_KINDS]  # catch up on anything missed while deaf
        await far.publish(CHANNELS)
        await poll(lambda: len(inbox_near.received) == 2)
        assert inbox_near.received[1] == frozenset({CHANNELS})
        assert inbox_far.received == []
