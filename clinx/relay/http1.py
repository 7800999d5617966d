"""The upstream HTTP/1.1 client: a keep-alive pool per (scheme, host, port) over ``http1_conn.Connection``, the
response the relay reads or streams, and multipart encoding. Lean on purpose: no task, stream reader or timeout
object per request — aiohttp's per-request machinery was a quarter of the gateway's CPU per request."""

from __future__ import annotations

import asyncio
import secrets
import ssl
import zlib
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar, overload
from urllib.parse import urlsplit

from clinx.relay.http1_conn import Connection, StaleConnectionError, TransportError

__all__ = ["Headers", "Http1Client", "Http1Response", "TransportError", "encode_multipart"]

_T = TypeVar("_T")
_DEFAULT_PORT = {"http": 80, "https": 443}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_FRAMING = frozenset({"content-length", "transfer-encoding"})  # the body is framed here, never by the caller
_DECODED = frozenset({"gzip", "x-gzip", "deflate"})
_TARGET_CACHE_SIZE = 512  # upstream URLs repeat (one per channel and endpoint): parse each once


class Http1Client:
    """Pooled HTTP/1.1 client. Idle connections are reused newest first and expire lazily at checkout; at most
    ``max_per_host`` connections per (scheme, host, port) are in use, further requests queue for a free one."""

    def __init__(self, *, max_per_host: int = 100, idle_timeout: float = 90.0, connect_timeout: float = 30.0) -> None:
        self._limit = max_per_host
        self._idle_timeout = idle_timeout
        self._connect_timeout = connect_timeout
        self._pools: dict[tuple[str, str, int], _HostPool] = {}
        self._targets: dict[str, _Target] = {}
        self._closed = False
        # Built here, once: loading the CA bundle reads files, which must not happen on a request's path.
        self._ssl = ssl.create_default_context()

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        total: float | None = None,
        idle: float | None = None,
    ) -> Http1Response:
        """Send the request and return once the status line and headers are in, the body unread.

        ``total`` bounds the whole exchange including the body, ``idle`` the silence between received bytes; either
        raises TimeoutError (from here, ``read()`` or iteration) and closes the connection."""
        if self._closed:
            raise TransportError("the HTTP client is closed")
        target = self._targets.get(url) or self._parse(url)
        pool = self._pools.get(target.key) or self._new_pool(target)
        payload = _encode_request(method, target, headers, body)
        deadline = None if total is None else pool.loop.time() + total
        conn, reused = await pool.checkout(deadline)
        while True:
            try:
                conn.start(payload, head=method == "HEAD", deadline=deadline, idle=idle)
                await conn.wait_headers()
            except StaleConnectionError:
                if not reused:
                    pool.give_back(conn, reuse=False)
                    raise
                # The server dropped the idle connection as we picked it: nothing was answered, so send once more.
                conn = await pool.reconnect(conn, deadline)
                reused = False
                continue
            except BaseException:
                pool.give_back(conn, reuse=False)
                raise
            return Http1Response(conn, pool)

    async def close(self) -> None:
        """Close every pooled and in-use connection; requests still waiting for one fail with TransportError."""
        self._closed = True
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        await asyncio.sleep(0)  # one loop turn, so the aborted transports report connection_lost before we return

    def _parse(self, url: str) -> _Target:
        if len(self._targets) >= _TARGET_CACHE_SIZE:
            self._targets.clear()
        target = self._targets[url] = _parse_url(url)
        return target

    def _new_pool(self, target: _Target) -> _HostPool:
        tls = self._ssl if target.tls else None
        pool = _HostPool(target.host, target.port, tls, self._limit, self._idle_timeout, self._connect_timeout)
        self._pools[target.key] = pool
        return pool


class _HostPool:
    """Connections to one (scheme, host, port). A slot is taken at checkout and handed straight to the next waiter
    at give-back, so queued requests are served in order."""

    def __init__(
        self, host: str, port: int, tls: ssl.SSLContext | None, limit: int, idle_timeout: float, connect_timeout: float
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self._host, self._port, self._tls = host, port, tls
        self._limit, self._idle_timeout, self._connect_timeout = limit, idle_timeout, connect_timeout
        self._idle: list[Connection] = []  # oldest first: reuse pops the newest, expiry trims the oldest
        self._conns: set[Connection] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._in_use = 0
        self._closed = False

    async def checkout(self, deadline: float | None) -> tuple[Connection, bool]:
        """A connection for one exchange and whether it was reused from the idle list."""
        if self._in_use < self._limit:
            self._in_use += 1
        else:
            await self._wait_for_slot(deadline)
        try:
            conn = self._pop_idle()
            if conn is not None:
                return conn, True
            return await self._connect(deadline), False
        except BaseException:
            self._free_slot()
            raise

    async def reconnect(self, stale: Connection, deadline: float | None) -> Connection:
        """Replace a connection that died unanswered, keeping its slot."""
        stale.end_exchange()
        stale.close()
        try:
            return await self._connect(deadline)
        except BaseException:
            self._free_slot()
            raise

    def give_back(self, conn: Connection, *, reuse: bool) -> None:
        conn.end_exchange()
        if reuse and not self._closed:
            conn.idle_since = self.loop.time()
            self._idle.append(conn)
        else:
            conn.close()
        self._free_slot()

    def close(self) -> None:
        self._closed = True
        for conn in list(self._conns):
            conn.close()
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(TransportError("the HTTP client is closed"))

    def _pop_idle(self) -> Connection | None:
        idle = self._idle
        if not idle:
            return None
        oldest_allowed = self.loop.time() - self._idle_timeout
        while idle and idle[0].idle_since <= oldest_allowed:
            idle.pop(0).close()
        while idle:
            conn = idle.pop()
            if conn.alive:
                return conn
            conn.close()
        return None

    async def _connect(self, deadline: float | None) -> Connection:
        if self._closed:
            raise TransportError("the HTTP client is closed")
        loop = self.loop
        when = loop.time() + self._connect_timeout
        if deadline is not None:
            when = min(when, deadline)
        server_hostname = self._host if self._tls is not None else None
        try:
            async with asyncio.timeout_at(when):
                _, conn = await loop.create_connection(
                    lambda: Connection(loop), self._host, self._port, ssl=self._tls, server_hostname=server_hostname
                )
        except TimeoutError as exc:  # before OSError, whose subclass it is
            raise TimeoutError(f"connecting to {self._host}:{self._port} timed out") from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS handshake (ssl.SSLError)
            raise TransportError(f"cannot connect to {self._host}:{self._port}: {exc}") from exc
        if self._closed:
            conn.close()
            raise TransportError("the HTTP client is closed")
        conn.on_lost = self._lost
        self._conns.add(conn)
        return conn

    def _lost(self, conn: Connection) -> None:
        self._conns.discard(conn)
        if conn in self._idle:
            self._idle.remove(conn)

    async def _wait_for_slot(self, deadline: float | None) -> None:
        waiter = self.loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._free_slot()  # the slot was handed over just as we gave up: pass it on
            else:
                waiter.cancel()  # stays in the queue; _free_slot skips it
            raise

    def _free_slot(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._in_use -= 1


class Headers(Mapping[str, str]):
    """Response headers: case-insensitive, read-only; a repeated header reads as its values joined with ", "."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, str]) -> None:
        self._items = items  # names already lower-cased by the connection

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, default: str, /) -> str: ...
    @overload
    def get(self, name: str, default: _T, /) -> str | _T: ...
    def get(self, name: str, default: object = None, /) -> object:
        return self._items.get(name.lower(), default)


class Http1Response:
    """An upstream answer, body unread. Reading the body to its end returns the connection to the pool by itself;
    ``release()`` (idempotent) does it otherwise — pooling only a fully read keep-alive connection, closing any
    other. A failure while reading raises TransportError or TimeoutError and closes the connection."""

    __slots__ = ("_conn", "_decoder", "_finished", "_pool", "headers", "reason", "status")

    def __init__(self, conn: Connection, pool: _HostPool) -> None:
        self._conn: Connection | None = conn
        self._pool = pool
        self._finished = False
        self.status = conn.status
        self.reason = conn.reason
        self.headers = Headers(conn.headers)
        encoding = conn.headers.get("content-encoding", "").strip().lower()
        self._decoder = _Decoder(encoding) if encoding in _DECODED else None

    async def read(self) -> bytes:
        """The whole remaining body, decoded."""
        parts: list[bytes] = []
        while (chunk := await self._next()) is not None:
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def iter_any(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive (what one network read brought, decoded), for event streams."""
        return _BodyIterator(self)

    def release(self) -> None:
        conn = self._conn
        if conn is None:
            return
        self._conn = None
        self._finished = conn.drained
        self._pool.give_back(conn, reuse=conn.clean)

    def close(self) -> None:
        """Drop the connection now, e.g. when the client went away mid-stream."""
        conn = self._conn
        if conn is None:
            return
        self._conn = None
        self._pool.give_back(conn, reuse=False)

    async def _next(self) -> bytes | None:
        """The next piece of decoded body, or None at its end."""
        while True:
            conn = self._conn
            if conn is None:
                if self._finished:
                    return None
                raise TransportError("the response was closed before its body was read")
            data = conn.take()
            try:
                if data:
                    if self._decoder is None:
                        return data
                    data = self._decoder.feed(data)
                    if data:
                        return data
                elif conn.error is not None:
                    raise conn.error
                elif conn.body_done:
                    self.release()
                    return (self._decoder.flush() if self._decoder else b"") or None
                else:
                    await conn.wait()
            except BaseException:  # failure, timeout or cancellation mid-body: the connection is unusable
                self.close()
                raise


class _BodyIterator(AsyncIterator[bytes]):
    __slots__ = ("_response",)

    def __init__(self, response: Http1Response) -> None:
        self._response = response

    async def __anext__(self) -> bytes:
        chunk = await self._response._next()
        if chunk is None:
            raise StopAsyncIteration
        return chunk


class _Decoder:
    """Incremental gzip/deflate decoding. "deflate" comes zlib-wrapped or raw depending on the server, so its
    framing is decided from the first byte."""

    __slots__ = ("_encoding", "_zlib")

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._zlib: zlib._Decompress | None = None

    def feed(self, data: bytes) -> bytes:
        decompressor = self._zlib
        if decompressor is None:
            raw = self._encoding == "deflate" and data[0] & 0x0F != 8  # 8 = the deflate method in a zlib header
            decompressor = self._zlib = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS | 32)
        try:
            return decompressor.decompress(data)
        except zlib.error as exc:
            raise TransportError(f"the upstream sent an undecodable {self._encoding} body: {exc}") from exc

    def flush(self) -> bytes:
        return self._zlib.flush() if self._zlib is not None else b""


@dataclass(frozen=True, slots=True)
class _Target:
    key: tuple[str, str, int]
    host: str
    port: int
    tls: bool
    path: str  # the request target: path and query, percent-encoding kept as given
    authority: str  # the Host header


def _parse_url(url: str) -> _Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORT or not host:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or _DEFAULT_PORT[scheme]
    path = f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
    if " " in path:
        raise ValueError(f"a space in the URL path must be percent-encoded: {url!r}")
    authority = f"[{host}]" if ":" in host else host
    if port != _DEFAULT_PORT[scheme]:
        authority = f"{authority}:{port}"
    return _Target((scheme, host, port), host, port, scheme == "https", path, authority)


def _encode_request(method: str, target: _Target, headers: Mapping[str, str], body: bytes | None) -> bytes:
    """Request line, headers and body as one buffer, for one transport write."""
    lines = [f"{method} {target.path} HTTP/1.1\r\n"]
    needs_host = True
    for name, value in headers.items():
        lower = name.lower()
        if lower in _FRAMING:
            continue
        if lower == "host":
            needs_host = False
        lines.append(f"{name}: {value}\r\n")
    if needs_host:
        lines.insert(1, f"Host: {target.authority}\r\n")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}\r\n")
    elif method in _BODY_METHODS:
        lines.append("Content-Length: 0\r\n")
    lines.append("\r\n")
    head = "".join(lines)
    # One CR and one LF per line, no more: a stray one in a header would let it inject headers or a second request.
    if head.count("\n") != len(lines) or head.count("\r") != len(lines):
        raise ValueError("CR or LF inside a request header")
    data = head.encode()
    return data + body if body else data


def encode_multipart(fields: list[tuple[str, object]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type. A field is (name, value) with a str value, or (name,
    (filename, content bytes, content type)) for a file."""
    boundary = f"clinx-{secrets.token_hex(16)}"
    delimiter = f"--{boundary}\r\n".encode()
    parts: list[bytes] = []
    for name, value in fields:
        if isinstance(value, tuple):
            filename, content, content_type = value
            if "\r" in str(content_type) or "\n" in str(content_type):
                raise ValueError("CR or LF inside a multipart content type")
            head = (
                f'Content-Disposition: form-data; name="{_quote(name)}"; filename="{_quote(str(filename))}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            )
            data = bytes(content) if isinstance(content, bytes | bytearray | memoryview) else str(content).encode()
        else:
            head = f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
            data = str(value).encode()
        parts += (delimiter, head.encode(), data, b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _quote(value: str) -> str:
    """Escape a form-data name or filename the way browsers do (WHATWG): quote, CR and LF percent-encoded."""
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
