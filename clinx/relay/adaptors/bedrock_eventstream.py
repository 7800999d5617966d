"""Incremental decoder of AWS event streams (``application/vnd.amazon.eventstream``) as Bedrock's
invoke-with-response-stream answers them: bytes in as they arrive, Claude stream events out. No I/O.

A message is a 12-byte prelude (total length, headers length, CRC32 of the first 8 bytes), typed headers,
the payload and a CRC32 of everything before it. A ``chunk`` event's payload is ``{"bytes": base64(event)}``
holding one Claude stream event; an exception message becomes Claude's own mid-stream ``error`` event.
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib
from typing import Any

import orjson

from clinx.core.errors import UpstreamError
from clinx.relay.convert.base import Event, Json

PRELUDE = 12
CRC = 4
MAX_MESSAGE = 16 * 1024 * 1024  # AWS's own limit on one event-stream message
# Fixed-size header value types: 0/1 booleans, byte, short, int, long, timestamp, uuid.
FIXED_SIZES = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
VARIABLE_TYPES = (6, 7)  # bytes and string: a 2-byte length, then the value
# Bedrock's exception names → Claude's error types.
EXCEPTION_TYPES = {
    "throttlingException": "rate_limit_error",
    "serviceUnavailableException": "overloaded_error",
    "validationException": "invalid_request_error",
    "modelTimeoutException": "timeout_error",
}

Headers = dict[str, Any]


def _corrupt(what: str) -> UpstreamError:
    return UpstreamError(f"上游事件流损坏 (the Bedrock event stream is corrupt: {what})", code="bad_response_body")


def parse_headers(raw: bytes) -> Headers:
    headers: Headers = {}
    at = 0
    while at < len(raw):
        size = raw[at]
        name = raw[at + 1 : at + 1 + size].decode("utf-8", "replace")
        at += 1 + size
        if at >= len(raw):
            raise _corrupt("truncated header")
        kind = raw[at]
        at += 1
        if kind in VARIABLE_TYPES:
            (length,) = struct.unpack_from(">H", raw, at)
            value: Any = raw[at + 2 : at + 2 + length]
            headers[name] = value.decode("utf-8", "replace") if kind == 7 else value
            at += 2 + length
        elif kind in FIXED_SIZES:
            headers[name] = kind == 0 if kind in (0, 1) else raw[at : at + FIXED_SIZES[kind]]
            at += FIXED_SIZES[kind]
        else:
            raise _corrupt(f"unknown header type {kind}")
    if at != len(raw):
        raise _corrupt("header overrun")
    return headers


class EventStreamDecoder:
    """``feed`` returns the Claude events completed by this chunk; a frame split across chunks waits for the rest.
    A bad CRC or impossible length raises UpstreamError: nothing after it can be trusted."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[Event]:
        self._buffer += chunk
        events: list[Event] = []
        while len(self._buffer) >= PRELUDE:
            total, header_length, prelude_crc = struct.unpack_from(">III", self._buffer)
            if zlib.crc32(self._buffer[:8]) != prelude_crc:
                raise _corrupt("prelude checksum mismatch")
            if total > MAX_MESSAGE or total < PRELUDE + CRC + header_length:
                raise _corrupt(f"impossible message length {total}")
            if len(self._buffer) < total:
                break
            message = bytes(self._buffer[:total])
            del self._buffer[:total]
            (message_crc,) = struct.unpack_from(">I", message, total - CRC)
            if zlib.crc32(message[: total - CRC]) != message_crc:
                raise _corrupt("message checksum mismatch")
            try:
                headers = parse_headers(message[PRELUDE : PRELUDE + header_length])
            except (struct.error, IndexError) as exc:
                raise _corrupt("truncated header") from exc
            event = self._event(headers, message[PRELUDE + header_length : total - CRC])
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[Event]:
        """A partial frame left at the end is a cut stream; the pipeline tells that by the missing final event."""
        self._buffer.clear()
        return []

    @staticmethod
    def _event(headers: Headers, payload: bytes) -> Event | None:
        kind = headers.get(":message-type", "event")
        if kind == "exception":
            name = str(headers.get(":exception-type", "internalServerException"))
            return _error_event(EXCEPTION_TYPES.get(name, "api_error"), _message_of(payload) or name)
        if kind == "error":
            code = str(headers.get(":error-code", "InternalError"))
            return _error_event("api_error", str(headers.get(":error-message") or code))
        if headers.get(":event-type") != "chunk":
            return None
        return _chunk(payload)


def _chunk(payload: bytes) -> Event | None:
    try:
        wrapper = orjson.loads(payload)
        inner = orjson.loads(base64.b64decode(wrapper["bytes"], validate=True))
    except (orjson.JSONDecodeError, binascii.Error, KeyError, TypeError) as exc:
        raise _corrupt("a chunk without a base64 JSON event") from exc
    if not isinstance(inner, dict):
        return None
    name = inner.get("type")
    return Event(inner, name if isinstance(name, str) else None)


def _message_of(payload: bytes) -> str:
    try:
        body = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return payload[:200].decode("utf-8", "replace")
    if isinstance(body, dict):
        return str(body.get("message") or body.get("Message") or "")
    return ""


def _error_event(error_type: str, message: str) -> Event:
    data: Json = {"type": "error", "error": {"type": error_type, "message": message}}
    return Event(data, "error")
