"""Azure OpenAI (type 3): deployment URLs, ``api-version`` from the channel's ``other`` field (else
AZURE_DEFAULT_API_VERSION), and the ``api-key`` header. Bodies and answers are OpenAI's."""

from __future__ import annotations

from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors.openai_compat import (
    ALL_ENDPOINTS,
    openai_stream_done,
    openai_stream_usage,
    prepare_openai,
    usage_from_openai,
)
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.endpoints import SPECS, Endpoint

DEFAULT_API_VERSION = "2025-04-01-preview"


class Azure:
    name = "azure"
    endpoints = ALL_ENDPOINTS

    def __init__(self, default_api_version: str = DEFAULT_API_VERSION) -> None:
        self.default_api_version = default_api_version

    def default_base_url(self, channel_type: int) -> str:
        return ""

    def dialects(self, channel: ChannelInfo) -> tuple[Dialect, ...]:
        return (Dialect.OPENAI_CHAT,)

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str, stream: bool) -> str:
        version = channel.other.strip() or self.default_api_version
        # Azure deployment names cannot contain dots: gpt-3.5-turbo is deployed as gpt-35-turbo.
        deployment = upstream_model.replace(".", "")
        tail = SPECS[endpoint].path.removeprefix("/v1")
        return f"{channel.base_url}/openai/deployments/{deployment}{tail}?api-version={version}"

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]:
        return {"api-key": key}

    def prepare(self, body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
        return prepare_openai(body, upstream_model, stream=stream, ask_usage=ask_usage)

    def usage(self, payload: Json) -> Usage | None:
        return usage_from_openai(payload)

    def stream_usage(self, event: Event, current: Usage | None) -> Usage | None:
        return openai_stream_usage(event, current)

    def stream_done(self, event: Event) -> bool:
        return openai_stream_done(event)
