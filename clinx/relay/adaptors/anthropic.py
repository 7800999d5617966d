"""Anthropic (type 14): the Messages API at ``/v1/messages`` with ``x-api-key`` and ``anthropic-version``.

Usage: Claude's ``input_tokens`` excludes cache reads and writes, so the prompt is their sum, cache reads are
the cached tokens and cache writes are billed at the create-cache ratio. Streams report input tokens in
``message_start`` and the running output count in ``message_delta``.
"""

from __future__ import annotations

from typing import Any

from clinx.core.types import ChannelInfo, Usage
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.endpoints import Endpoint

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 8192


def usage_from_claude(raw: Any, current: Usage | None = None) -> Usage | None:
    if not isinstance(raw, dict):
        return current
    base = current or Usage()
    read = int(raw.get("cache_read_input_tokens") or 0) if "cache_read_input_tokens" in raw else base.cached_tokens
    write = (
        int(raw.get("cache_creation_input_tokens") or 0)
        if "cache_creation_input_tokens" in raw
        else base.cache_write_tokens
    )
    prompt = base.prompt_tokens
    if "input_tokens" in raw:
        prompt = int(raw.get("input_tokens") or 0) + read + write
    completion = int(raw["output_tokens"]) if raw.get("output_tokens") is not None else base.completion_tokens
    return Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=read, cache_write_tokens=write)


class Anthropic:
    name = "anthropic"
    endpoints: frozenset[Endpoint] = frozenset()

    def __init__(self, default_max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        self.default_max_tokens = default_max_tokens

    def dialects(self, channel: ChannelInfo) -> tuple[Dialect, ...]:
        return (Dialect.CLAUDE,)

    def default_base_url(self, channel_type: int) -> str:
        return "https://api.anthropic.com"

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str, stream: bool) -> str:
        return (channel.base_url or self.default_base_url(channel.type)) + "/v1/messages"

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]:
        return {"x-api-key": key, "anthropic-version": API_VERSION}

    def prepare(self, body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
        body["model"] = upstream_model
        body.setdefault("max_tokens", self.default_max_tokens)
        if stream:
            body["stream"] = True
        else:
            body.pop("stream", None)
        return body

    def usage(self, payload: Json) -> Usage | None:
        return usage_from_claude(payload.get("usage"))

    def stream_usage(self, event: Event, current: Usage | None) -> Usage | None:
        data = event.data
        if not isinstance(data, dict):
            return current
        if data.get("type") == "message_start" and isinstance(data.get("message"), dict):
            return usage_from_claude(data["message"].get("usage"), current)
        if data.get("type") == "message_delta":
            return usage_from_claude(data.get("usage"), current)
        return current

    def stream_done(self, event: Event) -> bool:
        return isinstance(event.data, dict) and event.data.get("type") == "message_stop"
