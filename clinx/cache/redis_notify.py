"""Change notifications over Redis pub/sub (see ``notify.py`` for the contract).

One channel per deployment (``<prefix>clinx:changes``). Pub/sub delivers at most once and only to connected
subscribers, so after any break the subscriber reconnects with growing backoff and, once back, reports every
kind as changed: the node reloads everything and catches up on whatever it missed while deaf.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from clinx.cache.notify import ALL_KINDS, STATE_DOWN, STATE_OK, ChangeHandler, decode, encode
from clinx.core.tasks import cancel_and_wait

log = logging.getLogger(__name__)

CHANNEL = "clinx:changes"
BACKOFF_FIRST = 0.1  # seconds before the first reconnect attempt, doubled up to BACKOFF_MAX
BACKOFF_MAX = 2.0
LISTEN_POLL = 1.0  # seconds one read waits for a message before looping (keeps cancellation prompt)


async def _close(pubsub: PubSub) -> None:
    """Give the subscription's connection back (redis-py leaves ``aclose`` unannotated)."""
    aclose: Callable[[], Awaitable[None]] = pubsub.aclose
    with contextlib.suppress(RedisError, OSError):
        await aclose()


class RedisNotifier:
    def __init__(
        self,
        client: Redis,
        node_id: str,
        *,
        prefix: str = "",
        backoff_first: float = BACKOFF_FIRST,
        backoff_max: float = BACKOFF_MAX,
    ) -> None:
        self.node_id = node_id
        self.channel = prefix + CHANNEL
        self._client = client
        self._backoff = (backoff_first, backoff_max)
        self._state = STATE_DOWN
        self._handler: ChangeHandler | None = None
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def state(self) -> str:
        return self._state

    async def publish(self, kind: str) -> None:
        try:
            await self._client.publish(self.channel, encode(kind, self.node_id))
        except (RedisError, OSError) as exc:
            log.warning("could not announce a %s change (other nodes catch up by polling): %s", kind, exc)

    async def start(self, on_change: ChangeHandler) -> None:
        self._handler = on_change
        if await self._subscribe():
            self._state = STATE_OK
        self._task = asyncio.create_task(self._run(), name="clinx-change-subscriber")

    async def close(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._drop()

    async def _subscribe(self) -> bool:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
        except (RedisError, OSError) as exc:
            log.debug("subscription to %s failed: %s", self.channel, exc)
            await _close(pubsub)
            return False
        self._pubsub = pubsub
        return True

    async def _drop(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await _close(pubsub)

    async def _run(self) -> None:
        delay = self._backoff[0]
        while True:
            if self._pubsub is None:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff[1])
                if not await self._subscribe():
                    continue
                delay = self._backoff[0]
                self._state = STATE_OK
                log.info("change subscription restored; reloading everything this node may have missed")
                self._deliver(ALL_KINDS)
            try:
                await self._listen()
            except (RedisError, OSError) as exc:
                if self._state == STATE_OK:
                    log.warning("change subscription lost (%s); polling covers the gap while reconnecting", exc)
                self._state = STATE_DOWN
                await self._drop()

    async def _listen(self) -> None:
        while self._pubsub is not None:
            message: Any = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=LISTEN_POLL)
            if not message or message.get("type") != "message":
                continue
            parsed = decode(message["data"])
            if parsed is not None and parsed[1] != self.node_id:
                self._deliver((parsed[0],))

    def _deliver(self, kinds: frozenset[str] | tuple[str, ...]) -> None:
        if self._handler is not None:
            self._handler(kinds)
