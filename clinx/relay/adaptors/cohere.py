"""Cohere (type 34): chat and embeddings through Cohere's OpenAI compatibility API (``/compatibility/v1/...``),
rerank through the native ``/v2/rerank``; Bearer key everywhere. A rerank answer carries no token counts, only
``meta.billed_units.search_units``: the relay then bills the request's own query and documents, counted locally."""

from __future__ import annotations

from typing import Any

from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors.openai_compat import (
    openai_stream_done,
    openai_stream_usage,
    prepare_openai,
    usage_from_meta,
    usage_from_openai,
)
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.endpoints import Endpoint

DEFAULT_BASE_URL = "https://api.cohere.ai"
PATHS: dict[Endpoint, str] = {
    Endpoint.CHAT: "/compatibility/v1/chat/completions",
    Endpoint.EMBEDDINGS: "/compatibility/v1/embeddings",
    Endpoint.RERANK: "/v2/rerank",
}
# Rerank v1 fields that v2 no longer takes (v2 never returns the documents).
_V1_ONLY_RERANK_FIELDS = ("return_documents", "rank_fields", "max_chunks_per_doc")


def rerank_v2_body(body: Json) -> Json:
    """A Cohere/Jina-shaped rerank body as ``/v2/rerank`` takes it: documents as plain strings."""
    documents = body.get("documents")
    if isinstance(documents, list):
        body["documents"] = [_document_text(doc) for doc in documents]
    for name in _V1_ONLY_RERANK_FIELDS:
        body.pop(name, None)
    return body


def _document_text(doc: Any) -> Any:
    if isinstance(doc, dict) and isinstance(doc.get("text"), str):
        return doc["text"]
    return doc


class Cohere:
    name = "cohere"
    endpoints = frozenset({Endpoint.EMBEDDINGS, Endpoint.RERANK})

    def dialects(self, channel: ChannelInfo) -> tuple[Dialect, ...]:
        return (Dialect.OPENAI_CHAT,)

    def default_base_url(self, channel_type: int) -> str:
        return DEFAULT_BASE_URL

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str, stream: bool) -> str:
        base = (channel.base_url or DEFAULT_BASE_URL).rstrip("/")
        return base + PATHS.get(endpoint, PATHS[Endpoint.CHAT])

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def prepare(self, body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
        # The compatibility API refuses `stream_options`; without it a stream's usage is counted locally.
        body = prepare_openai(body, upstream_model, stream=stream, ask_usage=False)
        body.pop("stream_options", None)
        return body

    def prepare_plain(self, endpoint: Endpoint, body: Json) -> Json:
        """Last touches on a non-conversational body (hook for the plain path; rerank only needs it)."""
        return rerank_v2_body(body) if endpoint == Endpoint.RERANK else body

    def usage(self, payload: Json) -> Usage | None:
        return usage_from_openai(payload) or usage_from_meta(payload)

    def stream_usage(self, event: Event, current: Usage | None) -> Usage | None:
        return openai_stream_usage(event, current)

    def stream_done(self, event: Event) -> bool:
        return openai_stream_done(event)
