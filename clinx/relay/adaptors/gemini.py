"""Gemini (type 24): ``/{version}/models/{model}:generateContent`` and ``:streamGenerateContent?alt=sse`` with
the ``x-goog-api-key`` header. API version per model from the ``gemini.version_settings`` option (v1beta by
default); the model lives in the URL, not the body. ``cachedContentTokenCount`` is part of
``promptTokenCount``; thinking tokens (``thoughtsTokenCount``) are billed as output."""

from __future__ import annotations

from typing import Any

from clinx.core.types import ChannelInfo, Usage
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.endpoints import Endpoint

SAFETY_CATEGORIES = (
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
)


def usage_from_gemini(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt = int(raw.get("promptTokenCount") or 0)
    output = int(raw.get("candidatesTokenCount") or 0) + int(raw.get("thoughtsTokenCount") or 0)
    return Usage(
        prompt_tokens=prompt, completion_tokens=output, cached_tokens=int(raw.get("cachedContentTokenCount") or 0)
    )


class Gemini:
    name = "gemini"
    endpoints: frozenset[Endpoint] = frozenset()

    def __init__(self, versions: dict[str, str] | None = None, safety: dict[str, str] | None = None) -> None:
        self.versions = versions or {"default": "v1beta"}
        self.safety = safety or {"default": "OFF", "HARM_CATEGORY_CIVIC_INTEGRITY": "BLOCK_NONE"}

    def dialects(self, channel: ChannelInfo) -> tuple[Dialect, ...]:
        return (Dialect.GEMINI,)

    def default_base_url(self, channel_type: int) -> str:
        return "https://generativelanguage.googleapis.com"

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str, stream: bool) -> str:
        version = self.versions.get(upstream_model) or self.versions.get("default") or "v1beta"
        base = channel.base_url or self.default_base_url(channel.type)
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"{base}/{version}/models/{upstream_model}:{action}"

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    def prepare(self, body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
        body.pop("model", None)
        body.pop("stream", None)
        if "safetySettings" not in body:
            default = self.safety.get("default", "OFF")
            body["safetySettings"] = [
                {"category": category, "threshold": self.safety.get(category, default)}
                for category in SAFETY_CATEGORIES
            ]
        return body

    def usage(self, payload: Json) -> Usage | None:
        return usage_from_gemini(payload.get("usageMetadata"))

    def stream_usage(self, event: Event, current: Usage | None) -> Usage | None:
        data = event.data
        if not isinstance(data, dict):
            return current
        # Gemini repeats running totals on every chunk: the latest one is the truth.
        return usage_from_gemini(data.get("usageMetadata")) or current

    def stream_done(self, event: Event) -> bool:
        data = event.data
        if not isinstance(data, dict):
            return False
        return any(isinstance(c, dict) and c.get("finishReason") for c in data.get("candidates") or [])
