"""The workers of one machine telling each other of changes without Redis: each worker binds a UDP socket on
127.0.0.1 and registers it as an empty file ``<pid>-<port>.peer`` in a directory the workers share
(``CLINX_WORKERS_DIR``, made by ``clinx serve --workers N``); publishing sends one small datagram to each peer.

Best effort, like Redis pub/sub: loopback datagrams are practically never lost, but a full receive buffer or a
worker not yet listed can miss one. What travels is only ever a hint (reload a kind, drop some cache keys) and
the database stays the source of truth, so a miss costs at most one SYNC_FREQUENCY period — the polling loop and
the cache TTL remain the safety net — never a wrong value. Anyone on the machine can send to the port; the worst
a forged datagram does is force reloads from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from clinx.cache.notify import ALL_KINDS, ChangeHandler

log = logging.getLogger(__name__)

HOST: Final = "127.0.0.1"
SUFFIX: Final = ".peer"
RELIST_EVERY: Final = 1.0  # seconds a peer list is trusted before the directory is read again
# Far below the loopback limit (64 KiB), so a burst of invalidations stays small in the receive buffers.
MAX_DATAGRAM: Final = 8192

# Receives the cache keys another worker deleted. Called from the socket's callback: must not block.
ForgetHandler = Callable[[Sequence[str]], object]  # any result is ignored


@dataclass(frozen=True)
class Message:
    node: str
    change: str | None = None  # a kind (channels, options) that changed
    forget: tuple[str, ...] = ()  # cache keys deleted
    hello: bool = False  # a worker joined: the receiver re-reads the directory before its next send


def encode_change(node: str, kind: str) -> bytes:
    return orjson.dumps({"node": node, "change": kind})


def encode_hello(node: str) -> bytes:
    return orjson.dumps({"node": node, "hello": True})


def _forget_datagram(node: str, keys: Sequence[str]) -> bytes:
    return orjson.dumps({"node": node, "forget": list(keys)})


def encode_forget(node: str, keys: Sequence[str], *, limit: int = MAX_DATAGRAM) -> list[bytes]:
    """The keys spread over as few datagrams as keep each under ``limit`` bytes (cache keys are short)."""
    overhead = len(_forget_datagram(node, []))
    datagrams: list[bytes] = []
    batch: list[str] = []
    size = overhead
    for key in keys:
        cost = len(key.encode()) + 3  # quotes and a comma; cache keys need no escapes
        if batch and size + cost > limit:
            datagrams.append(_forget_datagram(node, batch))
            batch, size = [], overhead
        batch.append(key)
        size += cost
    if batch:
        datagrams.append(_forget_datagram(node, batch))
    return datagrams


def decode(raw: bytes) -> Message | None:
    """The message, or None for anything malformed (a stray or forged datagram is dropped, never fatal)."""
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("node"), str):
        return None
    node: str = data["node"]
    if data.get("hello") is True:
        return Message(node, hello=True)
    change = data.get("change")
    if change in ALL_KINDS:
        return Message(node, change=str(change))
    keys = data.get("forget")
    if isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys):
        return Message(node, forget=tuple(keys))
    return None


def register(directory: Path, port: int) -> Path:
    """Announce this worker's port; the directory is made when the operator named one that does not exist."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{os.getpid()}-{port}{SUFFIX}"
    path.touch()
    return path


def unregister(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def peer_ports(directory: Path, own: Path) -> list[int]:
    """Ports of the other registered workers. A file left by a process that no longer exists (a killed worker)
    is removed: its port may be reused by anything."""
    ports: list[int] = []
    with os.scandir(directory) as entries:
        names = [entry.name for entry in entries if entry.name != own.name]
    for name in names:
        pid_port = _parse_name(name)
        if pid_port is None:
            continue
        if not _alive(pid_port[0]):
            unregister(directory / name)
            continue
        ports.append(pid_port[1])
    return ports


def _parse_name(name: str) -> tuple[int, int] | None:
    pid, sep, port = name.removesuffix(SUFFIX).partition("-")
    if not name.endswith(SUFFIX) or not sep or not pid.isdigit() or not port.isdigit():
        return None
    return int(pid), int(port)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, run by another user
        return True
    return True


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, bus: WorkerBus) -> None:
        self._bus = bus

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if addr[0] == HOST:
            self._bus.receive(data)

    def error_received(self, exc: Exception) -> None:
        log.debug("worker bus send failed: %s", exc)
        self._bus.peers_changed()


class WorkerBus:
    """This worker's end of the bus: publishes to the registered peers and hands what they send to ``on_change``
    and ``on_forget``. Inert until ``start`` (and after ``close``): publishing then reaches nobody."""

    def __init__(
        self,
        directory: Path,
        node_id: str,
        *,
        relist_every: float = RELIST_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.node_id = node_id
        self.on_change: ChangeHandler | None = None
        self.on_forget: ForgetHandler | None = None
        self._relist_every = relist_every
        self._clock = clock
        self._transport: asyncio.DatagramTransport | None = None
        self._file: Path | None = None
        self._peers: list[int] = []
        self._listed_at = -math.inf
        self._stale = True

    @property
    def bound(self) -> bool:
        return self._transport is not None

    @property
    def port(self) -> int | None:
        """The UDP port this worker listens on, once started."""
        if self._transport is None:
            return None
        port: int = self._transport.get_extra_info("sockname")[1]
        return port

    @property
    def peers(self) -> list[int]:
        """The peer ports as last listed (for diagnostics and tests)."""
        return list(self._peers)

    async def start(self) -> None:
        """Bind, register, and greet the workers already there so they list this one before their next send.
        Raises OSError when the socket or the file cannot be made (the caller falls back to polling)."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Endpoint(self), local_addr=(HOST, 0))
        port: int = transport.get_extra_info("sockname")[1]
        try:
            self._file = await asyncio.to_thread(register, self.directory, port)
        except OSError:
            transport.close()
            raise
        self._transport = transport
        await self._send([encode_hello(self.node_id)])

    async def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
        path, self._file = self._file, None
        if path is not None:
            await asyncio.to_thread(unregister, path)

    async def publish_change(self, kind: str) -> None:
        await self._send([encode_change(self.node_id, kind)])

    async def publish_forget(self, keys: Sequence[str]) -> None:
        if keys:
            await self._send(encode_forget(self.node_id, keys))

    def peers_changed(self) -> None:
        """Re-read the directory before the next send (a worker joined, or a send failed)."""
        self._stale = True

    def receive(self, data: bytes) -> None:
        message = decode(data)
        if message is None or message.node == self.node_id:
            return
        if message.hello:
            self.peers_changed()
        elif message.change is not None and self.on_change is not None:
            self.on_change((message.change,))
        elif message.forget and self.on_forget is not None:
            self.on_forget(message.forget)

    async def _send(self, datagrams: Sequence[bytes]) -> None:
        """Never raises: the change it reports has already been made, and polling covers a lost message."""
        await self._refresh_peers()
        transport = self._transport
        if transport is None or transport.is_closing():  # not started, or closed while the directory was read
            return
        for port in self._peers:
            for datagram in datagrams:
                transport.sendto(datagram, (HOST, port))

    async def _refresh_peers(self) -> None:
        own = self._file
        now = self._clock()
        if own is None or (not self._stale and now - self._listed_at < self._relist_every):
            return
        self._stale, self._listed_at = False, now
        try:
            self._peers = await asyncio.to_thread(peer_ports, self.directory, own)
        except OSError as exc:
            log.warning("cannot list the other workers in %s (they catch up by polling): %s", self.directory, exc)
            self._stale = True
