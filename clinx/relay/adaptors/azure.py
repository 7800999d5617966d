"""Azure OpenAI (type 3): deployment URLs, ``api-version`` from the channel's ``other`` field (else
AZURE_DEFAULT_API_VERSION), and the ``api-key`` header. Bodies and answers are OpenAI's."""

from __future__ import annotations

from typing import Any

from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors.openai_compat import ALL_ENDPOINTS, usage_from_openai
from clinx.relay.endpoints import SPECS, Endpoint

DEFAULT_API_VERSION = "2025-04-01-preview"


class Azure:
    name = "azure"
    endpoints = ALL_ENDPOINTS
    stream_usage_option = True

    def __init__(self, default_api_version: str = DEFAULT_API_VERSION) -> None:
        self.default_api_version = default_api_version

    def default_base_url(self, channel_type: int) -> str:
        return ""

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str) -> str:
        version = channel.other.strip() or self.default_api_version
        # Azure deployment names cannot contain dots: gpt-3.5-turbo is deployed as gpt-35-turbo.
        deployment = upstream_model.replace(".", "")
        tail = SPECS[endpoint].path.removeprefix("/v1")
        return f"{channel.base_url}/openai/deployments/{deployment}{tail}?api-version={version}"

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]:
        return {"api-key": key}

    def usage(self, payload: dict[str, Any]) -> Usage | None:
        return usage_from_openai(payload)
