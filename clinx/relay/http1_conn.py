"""One upstream HTTP/1.1 connection: an asyncio Protocol that writes a request, parses the answer with httptools and
buffers the body for a single reader. Pooling and the public API live in ``http1.py``."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import cast

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

# Past this many unread body bytes the socket stops being read, so a slow client cannot make the gateway buffer a
# whole upstream answer in memory; reading resumes as soon as the reader drains the buffer.
HIGH_WATER = 1 << 20
# A timer may fire this early (clock granularity); an idle check inside this margin counts as expired.
_TIMER_SLACK = 0.001


class TransportError(Exception):
    """No usable HTTP answer: connect failure, connection reset/closed mid-response, malformed response."""


class StaleConnectionError(TransportError):
    """The server closed the connection before sending a single byte. On a reused keep-alive connection this is the
    race with the server's idle timeout, the one case where sending the request again is safe."""


class _UnexpectedBytesError(Exception):
    """Raised from a parser callback to stop parsing bytes that arrive after the answer was complete."""


class Connection(asyncio.Protocol):
    """A keep-alive connection carrying one exchange at a time. Protocol callbacks set flags and wake the single
    waiting reader through one future, so an exchange costs no task and no stream-reader machinery."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.on_lost: Callable[[Connection], None] | None = None  # tells the pool the socket is gone
        self.alive = False  # connected and no EOF seen: a candidate for reuse
        self.idle_since = 0.0
        self._parser: HttpResponseParser | None = None
        self._head = False
        self._informational = False
        self._got_bytes = False
        self._until_close = False
        self._paused = False
        self._reason = b""
        self._raw: list[tuple[bytes, bytes]] = []
        self._chunks: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._total_handle: asyncio.TimerHandle | None = None
        self._idle_handle: asyncio.TimerHandle | None = None
        self._idle = 0.0
        self._last_recv = 0.0
        self._buffered = 0
        self.status = 0
        self.reason = ""
        self.headers: dict[str, str] = {}
        self.keep_alive = False
        self.headers_done = False
        self.body_done = False
        self.error: BaseException | None = None

    # -- the exchange, driven by the pool and the response ---------------------------------------------------------

    def start(self, payload: bytes, *, head: bool, deadline: float | None, idle: float | None) -> None:
        """Reset the exchange state, arm the timers and write the whole request in one call."""
        transport = self.transport
        if transport is None or not self.alive or transport.is_closing():
            raise StaleConnectionError("the server closed the idle connection")
        self._parser = HttpResponseParser(self)  # fresh per exchange: a HEAD answer leaves the parser mid-message
        self._head = head
        self._informational = self._got_bytes = self._until_close = False
        self._reason = b""
        self._raw = []
        self.status, self.reason, self.headers = 0, "", {}
        self.keep_alive = self.headers_done = self.body_done = False
        self.error = None
        if deadline is not None:
            self._total_handle = self._loop.call_at(deadline, self._on_total_timeout)
        if idle is not None:
            self._idle = idle
            self._last_recv = self._loop.time()
            self._idle_handle = self._loop.call_at(self._last_recv + idle, self._on_idle_timeout)
        transport.write(payload)

    def end_exchange(self) -> None:
        """The response is released: drop what is left of the exchange so the connection can idle in the pool."""
        self._parser = None
        self._chunks.clear()
        self._buffered = 0
        self._paused = False  # only ever set with bytes left unread, and such a connection is closed, not reused
        self._cancel_timers()

    @property
    def drained(self) -> bool:
        """The answer arrived whole and the reader took all of it."""
        return self.body_done and not self._chunks and self.error is None

    @property
    def clean(self) -> bool:
        """Reusable for another request: drained, keep-alive allowed, socket still open."""
        transport = self.transport
        return self.drained and self.keep_alive and self.alive and transport is not None and not transport.is_closing()

    def take(self) -> bytes:
        """All body bytes received so far and not yet taken (b"" when none)."""
        chunks = self._chunks
        if not chunks:
            return b""
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self._last_recv = self._loop.time()  # the silence while paused was ours, not the server's
            self.transport.resume_reading()
        return data

    async def wait_headers(self) -> None:
        while not self.headers_done:
            if self.error is not None:
                raise self.error
            await self.wait()

    async def wait(self) -> None:
        """Until something new happens: body bytes, the end of the body, or a failure."""
        if self._chunks or self.body_done or self.error is not None:
            return
        waiter = self._loop.create_future()
        self._waiter = waiter
        try:
            await waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        self.alive = False
        self._cancel_timers()
        if self.transport is not None:
            self.transport.abort()  # nothing worth flushing: either idle or abandoning a half-read answer

    # -- asyncio.Protocol ------------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not registered subclasses
        self.alive = True

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:  # bytes while idle: the stream is out of step with our requests
            self.close()
            return
        self._got_bytes = True
        if self._idle_handle is not None:
            self._last_recv = self._loop.time()
        try:
            parser.feed_data(data)
        except HttpParserUpgrade:
            self._fail(TransportError("the upstream switched protocols unasked"))
        except HttpParserError as exc:
            if self.body_done:
                self.keep_alive = False  # trailing garbage after a complete answer: keep the answer, drop the socket
            else:
                self._fail(TransportError(f"malformed upstream response: {exc}"))
        self._wake()

    def eof_received(self) -> bool | None:
        self.alive = False
        self._end(None)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        self._end(exc)
        if self.on_lost is not None:
            self.on_lost(self)

    # -- httptools callbacks ---------------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.body_done:
            raise _UnexpectedBytesError

    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw.append((name, value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        status = self._parser.get_status_code()
        if status < 200:  # 1xx informational: skip it, the real answer follows on the same connection
            self._informational = True
            self._raw.clear()
            self._reason = b""
            return
        headers: dict[str, str] = {}
        for raw_name, raw_value in self._raw:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.status, self.reason, self.headers = status, self._reason.decode("latin-1"), headers
        self.keep_alive = self._parser.should_keep_alive()
        self.headers_done = True
        if self._head:  # httptools cannot be told to skip a HEAD answer's announced body: the answer ends here
            self._finish()
        elif status not in (204, 304):
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            self._until_close = not chunked and "content-length" not in headers

    def on_body(self, body: bytes) -> None:
        if self.body_done:
            raise _UnexpectedBytesError
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self._finish()

    # -- internals -------------------------------------------------------------------------------------------------

    def _finish(self) -> None:
        if not self.body_done:
            self.body_done = True
            self._cancel_timers()
            self._wake()

    def _end(self, exc: Exception | None) -> None:
        """The socket ended (EOF or lost): complete a read-until-close body, or fail the exchange in flight."""
        if self._parser is None or self.body_done or self.error is not None:
            return
        if not self._got_bytes:
            error: TransportError = StaleConnectionError("the server closed the connection without answering")
        elif self.headers_done and self._until_close:
            self.keep_alive = False
            self._finish()
            return
        else:
            error = TransportError("the upstream closed the connection mid-response")
        error.__cause__ = exc
        self._fail(error)

    def _fail(self, error: BaseException) -> None:
        if self.error is None and not self.body_done:
            self.error = error
        self.close()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_total_timeout(self) -> None:
        self._total_handle = None
        self._fail(TimeoutError("the upstream exchange passed its total deadline"))

    def _on_idle_timeout(self) -> None:
        now = self._loop.time()
        due = self._last_recv + self._idle
        if self._paused:  # our reader is slow, not the server: restart the clock
            due = now + self._idle
        if due - now > _TIMER_SLACK:
            self._idle_handle = self._loop.call_at(due, self._on_idle_timeout)
            return
        self._idle_handle = None
        self._fail(TimeoutError(f"the upstream sent nothing for {self._idle:g} s"))

    def _cancel_timers(self) -> None:
        if self._total_handle is not None:
            self._total_handle.cancel()
            self._total_handle = None
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None
