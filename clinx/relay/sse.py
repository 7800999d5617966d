"""Incremental server-sent-events parsing: feed raw bytes as they arrive, get complete events back."""

from __future__ import annotations

from typing import Protocol

import orjson

from clinx.relay.convert.base import Event


class EventParser(Protocol):
    """Bytes in as they arrive, complete events out; ``close`` flushes what is pending at the end."""

    def feed(self, chunk: bytes) -> list[Event]: ...

    def close(self) -> list[Event]: ...


class SSEParser:
    """Splits on lines, joins ``data:`` lines of one event, remembers its ``event:`` name. Events end at a blank
    line; a ``data:`` line arriving while one is pending also ends it (some providers omit blank lines)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._name: str | None = None
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[Event]:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        events: list[Event] = []
        for raw in lines:
            line = raw.rstrip(b"\r")
            if not line:
                self._emit(events)
            elif line.startswith(b"data:"):
                self._data.append(line[5:].lstrip())
            elif line.startswith(b"event:"):
                self._emit(events)
                self._name = line[6:].strip().decode("utf-8", "replace")
        return events

    def close(self) -> list[Event]:
        """Whatever complete event is pending when the stream ends."""
        events: list[Event] = []
        if self._buffer.strip():
            events += self.feed(b"\n")
        self._emit(events)
        return events

    def _emit(self, events: list[Event]) -> None:
        if not self._data:
            self._name = None
            return
        payload = b"\n".join(self._data)
        self._data = []
        name, self._name = self._name, None
        if payload == b"[DONE]":
            events.append(Event("[DONE]", name))
            return
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return  # not JSON: nothing a client of any dialect could use
        if isinstance(data, dict):
            events.append(Event(data, name))
