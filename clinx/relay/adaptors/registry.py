"""Channel type → adaptor. Adding a provider is one module and one line here; unknown types are treated as
OpenAI-compatible, as New API does."""

from __future__ import annotations

from clinx.core.enums import ChannelType
from clinx.relay.adaptors.anthropic import Anthropic
from clinx.relay.adaptors.azure import Azure
from clinx.relay.adaptors.base import Adaptor
from clinx.relay.adaptors.bedrock import Bedrock
from clinx.relay.adaptors.cohere import Cohere
from clinx.relay.adaptors.dify import Dify
from clinx.relay.adaptors.gemini import Gemini
from clinx.relay.adaptors.jina import Jina
from clinx.relay.adaptors.openai_compat import OpenAICompatible
from clinx.relay.adaptors.vertex import Vertex


class AdaptorRegistry:
    def __init__(self, azure_api_version: str, *, dify_debug: bool = True) -> None:
        self._default: Adaptor = OpenAICompatible()
        self._by_type: dict[int, Adaptor] = {
            ChannelType.AZURE: Azure(azure_api_version),
            ChannelType.ANTHROPIC: Anthropic(),
            ChannelType.GEMINI: Gemini(),
            ChannelType.AWS: Bedrock(),
            ChannelType.VERTEX_AI: Vertex(),
            ChannelType.DIFY: Dify(debug=dify_debug),
            ChannelType.COHERE: Cohere(),
            ChannelType.JINA: Jina(),
        }

    def for_type(self, channel_type: int) -> Adaptor:
        return self._by_type.get(channel_type, self._default)
