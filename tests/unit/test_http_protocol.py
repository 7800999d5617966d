"""The served protocol's coalesced writes: what one loop step writes leaves in one send, in order, and
nothing written before close() is lost."""

from __future__ import annotations

import asyncio
from typing import Any

from clinx.http_protocol import CoalescingTransport


class FakeTransport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1234) if name == "peername" else default


async def _next_step() -> None:
    await asyncio.sleep(0)


async def test_writes_of_one_step_leave_in_one_send() -> None:
    real = FakeTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert real.sent == []  # nothing yet: the step is not over
    await _next_step()
    assert real.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    transport.write(b"data: 1\n\n")
    await _next_step()
    assert real.sent[-1] == b"data: 1\n\n"  # a later chunk goes on its own, in order
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1234)  # everything else is the real transport's


async def test_close_sends_what_was_written_first() -> None:
    real = FakeTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    transport.close()
    assert real.sent == [b"HTTP/1.1 400 Bad Request\r\n\r\n"] and real.closed
    await _next_step()  # the scheduled flush finds nothing left and sends nothing twice
    assert len(real.sent) == 1
