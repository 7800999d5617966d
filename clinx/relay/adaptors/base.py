"""The adaptor protocol: build the upstream request for a channel, read usage from what comes back.

Adaptors do no I/O; ``clinx.relay.upstream`` sends what they build. For conversational endpoints an adaptor
names the dialects its channel speaks natively (the first is the one bridges convert into).

Optional hooks, looked up with ``getattr`` by the pipeline (only the providers that need them have them):
``authorize(call, key, upstream)`` (async: AWS request signing, Google token exchange), ``stream_decoder()``
(a parser for a non-SSE stream framing), ``always_stream`` + ``aggregate(events)`` (upstreams that only stream),
``dialect_for_model(model)`` (one channel type, several dialects), ``stream_bridge(bridge)`` (a stream machine
that knows a channel-type setting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from clinx.core.types import ChannelInfo, Usage
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.endpoints import Endpoint


@dataclass
class UpstreamCall:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None
    form: list[tuple[str, Any]] | None = None  # multipart fields (name, value or (filename, bytes, content_type))
    extra: dict[str, Any] = field(default_factory=dict)


class Adaptor(Protocol):
    """One provider's wire format."""

    name: str
    endpoints: frozenset[Endpoint]  # the non-conversational endpoints it serves

    def dialects(self, channel: ChannelInfo) -> tuple[Dialect, ...]:
        """Conversational dialects the channel speaks natively, preferred first."""
        ...

    def default_base_url(self, channel_type: int) -> str: ...

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str, stream: bool) -> str: ...

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]: ...

    def prepare(self, body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
        """Last touches on a conversational body in the channel's dialect (model, stream flags, defaults)."""
        ...

    def usage(self, payload: Json) -> Usage | None:
        """Usage from a non-stream answer, None when it carries none."""
        ...

    def stream_usage(self, event: Event, current: Usage | None) -> Usage | None:
        """Usage so far after one stream event (providers report it in pieces or at the end)."""
        ...

    def stream_done(self, event: Event) -> bool:
        """Whether this event is the provider's normal end of stream."""
        ...
