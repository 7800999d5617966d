"""Change notifications between nodes: after a write that every node holds in memory (the channel index, the
options snapshot), the writer publishes a tiny message naming what changed, and every other node reloads it.

This module holds the interface and the in-process implementation (one process, or several apps in one test
process sharing a ``LocalBus``); the Redis pub/sub implementation is in ``redis_notify.py``. Messages carry no
data, only a kind: the database stays the single source of truth, so a lost message costs at most one
``SYNC_FREQUENCY`` period of staleness (the polling fallback), never a wrong value.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from typing import Final, Protocol

import orjson

CHANNELS: Final = "channels"
OPTIONS: Final = "options"
ALL_KINDS: Final = frozenset({CHANNELS, OPTIONS})

# Receives the kinds that changed on another node. Called from the notifier's own task: it must only record
# the work (and wake whoever does it), never block.
ChangeHandler = Callable[[Collection[str]], None]

# Subscription states, reported by /api/health.
STATE_OFF: Final = "off"  # nothing to subscribe to (no Redis): other nodes are reached by polling only
STATE_OK: Final = "ok"
STATE_DOWN: Final = "down"  # reconnecting; polling covers the gap and a full reload follows the reconnect


def new_node_id() -> str:
    """A random id per process: tells a node's own messages from the others' (host names may repeat)."""
    return secrets.token_hex(6)


def encode(kind: str, node: str) -> bytes:
    return orjson.dumps({"kind": kind, "node": node})


def decode(raw: bytes | str) -> tuple[str, str] | None:
    """(kind, node) of a message, or None for anything malformed or of an unknown kind."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    kind, node = data.get("kind"), data.get("node")
    if kind not in ALL_KINDS or not isinstance(node, str):
        return None
    return str(kind), node


class Notifier(Protocol):
    """Publishes this node's changes and delivers the other nodes' changes to one handler."""

    node_id: str

    @property
    def state(self) -> str:
        """``off``, ``ok`` or ``down`` (see the STATE_ constants)."""
        ...

    async def publish(self, kind: str) -> None:
        """Tell the other nodes that ``kind`` changed. Never raises: the write it follows has already
        committed, and the other nodes' polling still catches up if the message is lost."""
        ...

    async def start(self, on_change: ChangeHandler) -> None:
        """Begin delivering other nodes' changes to ``on_change`` (returns once the first subscription is
        attempted; a failed one keeps retrying in the background)."""
        ...

    async def close(self) -> None: ...


class LocalBus:
    """Connects the LocalNotifiers of one process: a loopback stand-in for Redis pub/sub."""

    def __init__(self) -> None:
        self._members: list[LocalNotifier] = []

    def join(self, member: LocalNotifier) -> None:
        self._members.append(member)

    def leave(self, member: LocalNotifier) -> None:
        if member in self._members:
            self._members.remove(member)

    def send(self, kind: str, sender: str) -> None:
        for member in list(self._members):
            if member.node_id != sender:
                member.deliver(kind)


class LocalNotifier:
    """In-process notifier. Alone on its bus (the default) it is a no-op: a single node has nobody to tell."""

    def __init__(self, node_id: str | None = None, bus: LocalBus | None = None) -> None:
        self.node_id = node_id or new_node_id()
        self._bus = bus or LocalBus()
        self._shared = bus is not None
        self._handler: ChangeHandler | None = None

    @property
    def state(self) -> str:
        return STATE_OK if self._shared else STATE_OFF

    async def publish(self, kind: str) -> None:
        self._bus.send(kind, self.node_id)

    def deliver(self, kind: str) -> None:
        if self._handler is not None:
            self._handler((kind,))

    async def start(self, on_change: ChangeHandler) -> None:
        self._handler = on_change
        self._bus.join(self)

    async def close(self) -> None:
        self._bus.leave(self)
        self._handler = None
