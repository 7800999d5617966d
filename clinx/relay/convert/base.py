"""The vocabulary of bridges: dialects, SSE events, and the three conversions a bridge provides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import orjson

Json = dict[str, Any]


class Dialect(StrEnum):
    OPENAI_CHAT = "openai_chat"
    CLAUDE = "claude"
    GEMINI = "gemini"
    OPENAI_RESPONSES = "openai_responses"
    DIFY = "dify"  # upstream only: Dify apps (chat-messages, completion-messages, workflows/run)


@dataclass(frozen=True)
class Event:
    """One server-sent event. ``data`` is a JSON object, or the literal ``"[DONE]"`` (OpenAI's end marker).
    ``name`` is the SSE ``event:`` field (Claude and Responses name every event; OpenAI and Gemini none)."""

    data: Json | str
    name: str | None = None

    def encode(self) -> bytes:
        payload = self.data.encode() if isinstance(self.data, str) else orjson.dumps(self.data)
        head = b"event: " + self.name.encode() + b"\n" if self.name else b""
        return head + b"data: " + payload + b"\n\n"


class StreamBridge(Protocol):
    """Incremental converter of an upstream stream into the client's dialect.

    ``feed`` takes one upstream event and returns the client events it produces now (possibly none);
    ``finish`` is called once when the upstream stream ends (normally or not) and returns the closing events
    the client's dialect requires (e.g. Claude's ``message_stop``) that have not been sent yet.
    """

    def feed(self, event: Event) -> list[Event]: ...

    def finish(self) -> list[Event]: ...


@dataclass(frozen=True)
class Bridge:
    """Client dialect ⇄ upstream dialect."""

    client: Dialect
    upstream: Dialect
    request: Callable[[Json], Json]  # client request → upstream request (the model field is set by the caller)
    response: Callable[[Json], Json]  # upstream non-stream answer → client answer
    stream: Callable[[], StreamBridge]  # a fresh state machine per request
    fidelity: str = "full"  # "full", "high" or "partial", as published in docs/conversions.md
    lossy: tuple[str, ...] = field(default=())  # what does not survive, in a few words each
