"""The adaptor protocol: build the upstream request for a channel, read usage from what comes back.

Adaptors do no I/O; ``clinx.relay.upstream`` sends what they build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from clinx.core.types import ChannelInfo, Usage
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
    endpoints: frozenset[Endpoint]
    stream_usage_option: bool  # honours OpenAI's stream_options.include_usage

    def default_base_url(self, channel_type: int) -> str: ...

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str) -> str: ...

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]: ...

    def usage(self, payload: dict[str, Any]) -> Usage | None:
        """Usage from a response body or a stream chunk, None when it carries none."""
        ...
