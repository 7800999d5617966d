"""Jina AI (type 38): embeddings (``/v1/embeddings``, OpenAI-shaped) and rerank (``/v1/rerank``, answered with
``usage.total_tokens``, billed as input) with a Bearer key. Jina serves no chat: a channel of this type offers
no conversational dialect, so the relay refuses chat requests routed to it."""

from __future__ import annotations

from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors.openai_compat import openai_stream_done, openai_stream_usage, usage_from_openai
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.endpoints import SPECS, Endpoint

DEFAULT_BASE_URL = "https://api.jina.ai"


class Jina:
    name = "jina"
    endpoints = frozenset({Endpoint.EMBEDDINGS, Endpoint.RERANK})

    def dialects(self, channel: ChannelInfo) -> tuple[Dialect, ...]:
        return ()

    def default_base_url(self, channel_type: int) -> str:
        return DEFAULT_BASE_URL

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str, stream: bool) -> str:
        return (channel.base_url or DEFAULT_BASE_URL).rstrip("/") + SPECS[endpoint].path

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def prepare(self, body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
        body["model"] = upstream_model  # never reached for chat (no dialects); kept for the protocol
        return body

    def usage(self, payload: Json) -> Usage | None:
        return usage_from_openai(payload)

    def stream_usage(self, event: Event, current: Usage | None) -> Usage | None:
        return openai_stream_usage(event, current)

    def stream_done(self, event: Event) -> bool:
        return openai_stream_done(event)
