"""Relay an upstream SSE stream to the client, chunk by chunk as it arrives: parse the upstream's events,
track usage from them, convert them to the client's dialect when it differs (a bridge's state machine), and
encode. OpenAI Chat passes through without re-encoding. The provider's usage-only chunk reaches an OpenAI
client only when it asked for usage."""

from __future__ import annotations

from dataclasses import dataclass, field

from clinx.core.types import Usage
from clinx.relay.adaptors.base import Adaptor
from clinx.relay.convert.base import Dialect, Event, StreamBridge
from clinx.relay.sse import EventParser, SSEParser
from clinx.relay.think_content import StreamThinkToContent

DONE = b"data: [DONE]\n\n"


@dataclass
class StreamRelay:
    adaptor: Adaptor
    upstream: Dialect
    client: Dialect
    bridge: StreamBridge | None
    forward_usage: bool
    post: StreamThinkToContent | None = None  # the channel's thinking_to_content, for OpenAI Chat clients
    usage: Usage | None = None
    done: bool = False
    upstream_events: list[Event] = field(default_factory=list)
    _parser: EventParser = field(default_factory=SSEParser)

    def use_parser(self, parser: EventParser) -> None:
        self._parser = parser

    def feed(self, chunk: bytes) -> bytes:
        return self._relay(self._parser.feed(chunk))

    def finish(self) -> bytes:
        """Closing bytes once the upstream stream has ended (normally or not)."""
        out = self._relay(self._parser.close())
        if self.bridge is not None:
            out += self._encode(self.bridge.finish())
        return out

    def _relay(self, events: list[Event]) -> bytes:
        if not events:
            return b""
        client_events: list[Event] = []
        for event in events:
            self.usage = self.adaptor.stream_usage(event, self.usage)
            if self.adaptor.stream_done(event):
                self.done = True
            self.upstream_events.append(event)
            if self.bridge is None:
                client_events.append(event)
            else:
                client_events.extend(self.bridge.feed(event))
        return self._encode(client_events)

    def _encode(self, events: list[Event]) -> bytes:
        if self.post is not None:
            events = [out for event in events for out in self.post.feed(event)]
        out: list[bytes] = []
        for event in events:
            data = event.data
            if (
                self.client == Dialect.OPENAI_CHAT
                and not self.forward_usage
                and isinstance(data, dict)
                and data.get("choices") == []
                and data.get("usage")
            ):
                continue  # the usage-only chunk the gateway asked for on its own behalf
            out.append(event.encode())
        return b"".join(out)

    def delivered_text(self) -> str:
        """Text the upstream produced (any dialect), for local counting when no usage came."""
        return "".join(_text_of(event) for event in self.upstream_events)


def _text_of(event: Event) -> str:
    data = event.data
    if not isinstance(data, dict):
        return ""
    parts: list[str] = []
    for choice in data.get("choices") or []:  # OpenAI Chat / Completions
        delta = choice.get("delta") or {}
        parts.extend(str(delta[k]) for k in ("content", "reasoning_content") if isinstance(delta.get(k), str))
        if isinstance(choice.get("text"), str):
            parts.append(choice["text"])
        for call in delta.get("tool_calls") or []:
            function = call.get("function") or {}
            parts.append(str(function.get("name") or "") + str(function.get("arguments") or ""))
    delta = data.get("delta")  # Claude content_block_delta, Responses *.delta
    if isinstance(delta, dict):
        parts.extend(str(delta[k]) for k in ("text", "thinking", "partial_json") if isinstance(delta.get(k), str))
    elif isinstance(delta, str):
        parts.append(delta)
    if data.get("event") in {"message", "agent_message"} and isinstance(data.get("answer"), str):  # Dify
        parts.append(data["answer"])
    for candidate in data.get("candidates") or []:  # Gemini
        for part in (candidate.get("content") or {}).get("parts") or []:
            if isinstance(part.get("text"), str):
                parts.append(part["text"])
    return "".join(parts)
