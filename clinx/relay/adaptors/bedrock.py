"""AWS Bedrock (type 33), Claude models: ``POST /model/{modelId}/invoke`` and ``/invoke-with-response-stream``
on ``bedrock-runtime.{region}.amazonaws.com`` (the channel's base_url replaces that host).

Channel key, as New API stores it: ``AK|SK|REGION`` (signed with SigV4, service "bedrock"; a fourth part is
a session token) or ``APIKEY|REGION`` (a Bedrock API key sent as a bearer token). A bare key without ``|`` is
a Bedrock API key too, in the region named by the channel's ``other`` field (else us-east-1).

Bodies are Claude Messages bodies without ``model`` and ``stream`` (Bedrock rejects unknown keys), with
``anthropic_version: bedrock-2023-05-31``; friendly Claude names map to Bedrock ids and, where AWS offers
it for the key's region, to the cross-region inference profile (``us.``/``eu.``/``apac.``) as New API does.
Streams are AWS event streams (see ``bedrock_eventstream``); usage is Claude's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

import orjson

from clinx.core.errors import ChannelError
from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors import sigv4
from clinx.relay.adaptors.anthropic import DEFAULT_MAX_TOKENS, Anthropic
from clinx.relay.adaptors.base import UpstreamCall
from clinx.relay.adaptors.bedrock_eventstream import EventStreamDecoder
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.endpoints import Endpoint

ANTHROPIC_VERSION = "bedrock-2023-05-31"
DEFAULT_REGION = "us-east-1"
SERVICE = "bedrock"
# What Bedrock's Claude schema accepts; anything else is an "extraneous key" error upstream.
BODY_FIELDS = (
    "anthropic_version",
    "anthropic_beta",
    "system",
    "messages",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tools",
    "tool_choice",
    "thinking",
    "output_config",
)
_ALL = ("us", "eu", "ap")
# Friendly name → (Bedrock model id, region prefixes with a cross-region inference profile).
MODELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "claude-3-sonnet-20240229": ("anthropic.claude-3-sonnet-20240229-v1:0", _ALL),
    "claude-3-opus-20240229": ("anthropic.claude-3-opus-20240229-v1:0", ("us",)),
    "claude-3-haiku-20240307": ("anthropic.claude-3-haiku-20240307-v1:0", _ALL),
    "claude-3-5-sonnet-20240620": ("anthropic.claude-3-5-sonnet-20240620-v1:0", _ALL),
    "claude-3-5-sonnet-20241022": ("anthropic.claude-3-5-sonnet-20241022-v2:0", ("us", "ap")),
    "claude-3-5-haiku-20241022": ("anthropic.claude-3-5-haiku-20241022-v1:0", ("us",)),
    "claude-3-7-sonnet-20250219": ("anthropic.claude-3-7-sonnet-20250219-v1:0", _ALL),
    "claude-sonnet-4-20250514": ("anthropic.claude-sonnet-4-20250514-v1:0", _ALL),
    "claude-opus-4-20250514": ("anthropic.claude-opus-4-20250514-v1:0", ("us",)),
    "claude-opus-4-1-20250805": ("anthropic.claude-opus-4-1-20250805-v1:0", ("us",)),
    "claude-sonnet-4-5-20250929": ("anthropic.claude-sonnet-4-5-20250929-v1:0", _ALL),
    "claude-haiku-4-5-20251001": ("anthropic.claude-haiku-4-5-20251001-v1:0", _ALL),
    "claude-opus-4-5-20251101": ("anthropic.claude-opus-4-5-20251101-v1:0", _ALL),
}
CROSS_REGION = {model_id: regions for model_id, regions in MODELS.values()}
PROFILE_PREFIX = {"us": "us", "eu": "eu", "ap": "apac"}
AWS_HOST = re.compile(r"^bedrock-runtime\.([a-z0-9-]+)\.amazonaws\.com$")


@dataclass(frozen=True)
class BedrockKey:
    region: str
    credentials: sigv4.AwsCredentials | None = None  # None: a Bedrock API key (bearer token)
    token: str = ""


def parse_key(key: str, default_region: str = DEFAULT_REGION) -> BedrockKey:
    parts = [part.strip() for part in key.strip().split("|")]
    if all(parts):
        if len(parts) == 1:
            return BedrockKey(default_region, token=parts[0])
        if len(parts) == 2:
            return BedrockKey(parts[1], token=parts[0])
        if len(parts) in (3, 4):
            session = parts[3] if len(parts) == 4 else ""
            return BedrockKey(parts[2], sigv4.AwsCredentials(parts[0], parts[1], session))
    raise ChannelError(
        "AWS 渠道密钥格式应为 AK|SK|REGION 或 APIKEY|REGION (the AWS channel key must be AK|SK|REGION or "
        "APIKEY|REGION)",
        code="channel:invalid_key",
    )


def model_id(name: str, region: str) -> str:
    """The Bedrock id for a friendly Claude name (unknown names pass through), with the cross-region
    inference-profile prefix when AWS offers one in the region's geography."""
    mapped = MODELS[name][0] if name in MODELS else name
    geography = region.split("-")[0]
    if geography in CROSS_REGION.get(mapped, ()):
        return f"{PROFILE_PREFIX[geography]}.{mapped}"
    return mapped


def _base_model(segment: str) -> str:
    prefix, _, rest = segment.partition(".")
    return rest if prefix in PROFILE_PREFIX.values() and rest in CROSS_REGION else segment


def invoke_url(base: str, model: str, stream: bool) -> str:
    action = "invoke-with-response-stream" if stream else "invoke"
    return f"{base.rstrip('/')}/model/{quote(model, safe=':')}/{action}"


def retarget(url: str, region: str) -> str:
    """An AWS-hosted invoke URL moved to ``region`` (host and inference profile); other hosts are kept."""
    parts = urlsplit(url)
    found = AWS_HOST.match(parts.hostname or "")
    if found is None or found.group(1) == region:
        return url
    _, _, segment, action = parts.path.split("/", 3)
    model = model_id(_base_model(unquote(segment)), region)
    return invoke_url(f"https://bedrock-runtime.{region}.amazonaws.com", model, action.endswith("stream"))


class Bedrock:
    name = "aws"
    endpoints: frozenset[Endpoint] = frozenset()

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._claude = Anthropic()
        self._now = now or (lambda: datetime.now(UTC))

    def dialects(self, channel: ChannelInfo) -> tuple[Dialect, ...]:
        return (Dialect.CLAUDE,)

    def default_base_url(self, channel_type: int) -> str:
        return f"https://bedrock-runtime.{DEFAULT_REGION}.amazonaws.com"

    def url(self, channel: ChannelInfo, endpoint: Endpoint, upstream_model: str, stream: bool) -> str:
        key = parse_key(channel.keys()[0], channel.other.strip() or DEFAULT_REGION)
        base = channel.base_url or f"https://bedrock-runtime.{key.region}.amazonaws.com"
        return invoke_url(base, model_id(upstream_model, key.region), stream)

    def headers(self, channel: ChannelInfo, key: str) -> dict[str, str]:
        parsed = parse_key(key, channel.other.strip() or DEFAULT_REGION)
        return {"Authorization": f"Bearer {parsed.token}"} if parsed.credentials is None else {}

    def prepare(self, body: Json, upstream_model: str, *, stream: bool, ask_usage: bool) -> Json:
        body.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        body["anthropic_version"] = ANTHROPIC_VERSION
        return {name: body[name] for name in BODY_FIELDS if name in body}

    def usage(self, payload: Json) -> Usage | None:
        return self._claude.usage(payload)

    def stream_usage(self, event: Event, current: Usage | None) -> Usage | None:
        return self._claude.stream_usage(event, current)

    def stream_done(self, event: Event) -> bool:
        return self._claude.stream_done(event)

    def stream_decoder(self) -> EventStreamDecoder:
        return EventStreamDecoder()

    def sign(self, call: UpstreamCall, key: str, now: datetime) -> None:
        """Finish the call for ``key``: move ``anthropic-beta`` into the body (where Bedrock reads it), point an
        AWS-hosted URL at the key's region, then sign with SigV4 (API keys need only their bearer header)."""
        host_region = AWS_HOST.match(urlsplit(call.url).hostname or "")
        parsed = parse_key(key, host_region.group(1) if host_region else DEFAULT_REGION)
        call.url = retarget(call.url, parsed.region)
        _move_beta(call)
        if parsed.credentials is None:
            call.headers["Authorization"] = f"Bearer {parsed.token}"
            return
        signed = sigv4.sign(
            call.method,
            call.url,
            call.headers,
            call.body or b"",
            parsed.credentials,
            region=parsed.region,
            service=SERVICE,
            now=now,
        )
        call.headers.update(signed)

    async def authorize(self, call: UpstreamCall, key: str, upstream: object) -> None:
        """The pipeline's send-time hook (``upstream`` unused: signing needs no I/O)."""
        self.sign(call, key, self._now())


def _move_beta(call: UpstreamCall) -> None:
    name = next((h for h in call.headers if h.lower() == "anthropic-beta"), None)
    if name is None or call.body is None:
        return
    betas = [b.strip() for b in call.headers.pop(name).split(",") if b.strip()]
    body = orjson.loads(call.body)
    if betas and isinstance(body, dict):
        body["anthropic_beta"] = betas
        call.body = orjson.dumps(body)
