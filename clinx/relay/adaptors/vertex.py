"""Vertex AI (type 41): Gemini models at ``…/publishers/google/models/{model}:generateContent`` (and
``:streamGenerateContent?alt=sse``), Claude models at ``…/publishers/anthropic/models/{model}:rawPredict`` (and
``:streamRawPredict?alt=sse``) under ``/v1/projects/{project}/locations/{region}``.

Channel key: a service-account JSON (New API's format; a JSON array holds several) whose access token comes
from Google's token endpoint at send time (``authorize``), or a plain API key (Vertex "express mode", Gemini
only), sent as ``x-goog-api-key`` on the project-less ``/v1/publishers/google/…`` path. Region: the channel's
``other`` field, a region or a JSON object ``{"model": "region", "default": "region"}``; "global" (the default)
is served by ``aiplatform.googleapis.com``, region R by ``R-aiplatform.googleapis.com``. The channel's
base_url replaces the host.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import orjson

from clinx.core.errors import ChannelError
from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors.anthropic import DEFAULT_MAX_TOKENS, Anthropic
from clinx.relay.adaptors.base import UpstreamCall
from clinx.relay.adaptors.gemini import Gemini
from clinx.relay.adaptors.google_auth import Sender, TokenCache, parse_service_account, split_keys
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.endpoints import Endpoint

ANTHROPIC_VERSION = "vertex-2023-10-16"
API_VERSION = "v1"
DEFAULT_REGION = "global"
# Fields of a Claude body Vertex accepts (New API copies exactly these).
CLAUDE_FIELDS = (
    "anthropic_version",
    "messages",
    "system",
    "max_tokens",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
    "output_config",
)
# Friendly Claude names → Vertex's publisher model ids; other names pass through.
CLAUDE_MODELS = {
    "claude-3-sonnet-20240229": "claude-3-sonnet@20240229",
    "claude-3-opus-20240229": "claude-3-opus@20240229",
    "claude-3-haiku-20240307": "claude-3-haiku@20240307",
    "claude-3-5-sonnet-20240620": "claude-3-5-sonnet@20240620",
    "claude-3-5-sonnet-20241022": "claude-3-5-sonnet-v2@20241022",
    "claude-3-7-sonnet-20250219": "claude-3-7-sonnet@20250219",
    "claude-sonnet-4-20250514": "claude-sonnet-4@20250514",
    "claude-opus-4-20250514": "claude-opus-4@20250514",
    "claude-opus-4-1-20250805": "claude-opus-4-1@20250805",
    "claude-sonnet-4-5-20250929": "claude-sonnet-4-5@20250929",
    "claude-haiku-4-5-20251001": "claude-haiku-4-5@20251001",
    "claude-opus-4-5-20251101": "claude-opus-4-5@20251101",
}
PROJECT_SEGMENT = re.compile(r"/projects/[^/]+/")


def is_claude(model: str) -> bool:
    return model.startswith("claude")


def is_api_key(key: str) -> bool:
    return not key.lstrip().startswith("{")


def region_for(other: str, model: str) -> str:
    text = other.strip()
    if text.startswith("{"):
        try:
            mapping: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
        if isinstance(mapping, dict):
            return str(mapping.get(model) or mapping.get("default") or DEFAULT_REGION)
    return text or DEFAULT_REGION


def api_base(base_url: str, project: str, region: str) -> str:
    if base_url:
        base = base_url.rstrip("/")
        base = base if base.endswith("/" + API_VERSION) else f"{base}/{API_VERSION}"
    elif region == DEFAULT_REGION:
        base = f"https://aiplatform.googleapis.com/{API_VERSION}"
    else:
        base = f"https://{region}-aiplatform.googleapis.com/{API_VERSION}"
    return f"{base}/projects/{project}/locations/{region}" if project else base


def model_url(base_url: str, project: str, region: str, publisher: str, model: str, action: str) -> str:
    return f"{api_base(base_url, project, region)}/publishers/{publisher}/models/{model}:{action}"


def _strip_function_response_ids(body: Json) -> None:
    # Vertex refuses functionResponse.id, which the Gemini API accepts.
    for content in body.get("contents") or []:
        for part in (content.get("parts") or []) if isinstance(content, dict) else []:
            response = part.get("functionResponse") if isinstance(part, dict) else None
            if isinstance(response, dict):
                response.pop("id", None)


def _is_claude_event(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("type"), str)


class Vertex:
    name = "vertex_ai"
    endpoints: frozenset[Endpoint] = frozenset()

    def __init__(self, gemini: Gemini | None = None, clock: Callable[[], float] = time.time) -> None:
        self._gemini = gemini or Gemini()
        self._claude = Anthropic()
        self._tokens = TokenCache(clock)

    def dialects(self, channel: ChannelInfo) -> tuple[Dialect, ...]:
        return (Dialect.GEMINI, Dialect.CLAUDE)

    def dialect_for_model(self, model: str) -> Dialect:
        """The one dialect a model speaks on Vertex: Anthropic's publisher for claude-*, Google's for the rest."""
        return Dialect.CLAUDE if is_claude(model) else Dialect.GEMINI

    def default_base_url(self, channel_type: int) -> str:
        return ""

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str, stream: bool) -> str:
        key = split_keys(channel.key)[0]
        project = "" if is_api_key(key) else parse_service_account(key).project_id
        region = region_for(channel.other, upstream_model)
        if not is_claude(upstream_model):
            action = "streamGenerateContent?alt=sse" if stream else "generateContent"
            return model_url(channel.base_url, project, region, "google", upstream_model, action)
        if not project:
            raise ChannelError(
                "Vertex AI API 密钥只能调用 Gemini 模型 (Vertex API keys serve Gemini models only; use a "
                "service-account key for Claude)",
                code="channel:unsupported",
            )
        action = "streamRawPredict?alt=sse" if stream else "rawPredict"
        model = CLAUDE_MODELS.get(upstream_model, upstream_model)
        return model_url(channel.base_url, project, region, "anthropic", model, action)

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]:
        if is_api_key(key):
            return {"x-goog-api-key": key.strip()}
        return {"x-goog-user-project": parse_service_account(key).project_id}

    def prepare(self, body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
        if not is_claude(upstream_model):
            _strip_function_response_ids(body)
            return self._gemini.prepare(body, upstream_model, stream=stream, ask_usage=ask_usage)
        body.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        body["anthropic_version"] = ANTHROPIC_VERSION
        body.pop("stream", None)
        if stream:
            body["stream"] = True
        return {name: body[name] for name in CLAUDE_FIELDS if name in body}

    def usage(self, payload: Json) -> Usage | None:
        if "usageMetadata" in payload:
            return self._gemini.usage(payload)
        return self._claude.usage(payload)

    def stream_usage(self, event: Event, current: Usage | None) -> Usage | None:
        if _is_claude_event(event.data):
            return self._claude.stream_usage(event, current)
        return self._gemini.stream_usage(event, current)

    def stream_done(self, event: Event) -> bool:
        if _is_claude_event(event.data):
            return self._claude.stream_done(event)
        return self._gemini.stream_done(event)

    async def credentials(self, key: str, send: Sender) -> str:
        """An access token for a service-account key (cached until shortly before it expires)."""
        return await self._tokens.get(key, parse_service_account(key), send)

    async def authorize(self, call: UpstreamCall, key: str, upstream: Sender) -> None:
        """The pipeline's send-time hook: a bearer token for service-account keys, and the key's own project in
        the URL (keys of one channel may belong to different projects). API keys are already in the headers."""
        if is_api_key(key):
            return
        account = parse_service_account(key)
        call.headers["Authorization"] = "Bearer " + await self.credentials(key, upstream)
        call.headers["x-goog-user-project"] = account.project_id
        call.url = PROJECT_SEGMENT.sub(f"/projects/{account.project_id}/", call.url, count=1)
