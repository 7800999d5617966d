"""Build the upstream call for a chosen channel: the body in the channel's dialect (through a bridge when the
client speaks another), the channel's settings applied, the adaptor's URL and headers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import orjson

from clinx.core.errors import ChannelError
from clinx.core.types import ChannelInfo
from clinx.relay.adaptors.base import Adaptor, UpstreamCall
from clinx.relay.context import RelayContext
from clinx.relay.convert.base import Bridge, Dialect
from clinx.relay.convert.registry import bridge as find_bridge
from clinx.relay.endpoints import CLIENT_DIALECT, DIALECT_ENDPOINT
from clinx.relay.reasoning import apply_suffix
from clinx.relay.shaping import apply_channel, map_model

# Client headers that carry meaning to an upstream of the same dialect.
FORWARDED_HEADERS = {Dialect.CLAUDE: ("anthropic-beta",)}


@dataclass(frozen=True)
class Outbound:
    call: UpstreamCall
    upstream_dialect: Dialect | None  # None for non-conversational endpoints (OpenAI wire both ways)
    bridge: Bridge | None
    key: str = ""  # the channel key chosen (adaptors that sign requests need it)
    stream: bool = False  # whether the upstream is asked for a stream (some always are)


def native_dialects(adaptor: Adaptor, channel: ChannelInfo, upstream_model: str) -> tuple[Dialect, ...]:
    """The channel's dialects, the one its adaptor prefers for this model first (e.g. Claude models on Vertex)."""
    chooser = getattr(adaptor, "dialect_for_model", None)
    if chooser is not None:
        only: Dialect = chooser(upstream_model)  # e.g. Vertex: Claude models speak Claude, the rest Gemini
        return (only,)
    return adaptor.dialects(channel)


def build(
    ctx: RelayContext, channel: ChannelInfo, adaptor: Adaptor, *, ask_usage: bool, rng: random.Random
) -> Outbound:
    request = ctx.request
    ctx.upstream_model = map_model(ctx.model, channel.model_mapping)
    key = rng.choice(channel.keys())
    headers = adaptor.headers(channel, key)
    client = CLIENT_DIALECT.get(request.endpoint)
    if client is None:
        return _plain(ctx, channel, adaptor, headers, key=key, ask_usage=ask_usage)
    native = native_dialects(adaptor, channel, ctx.upstream_model)
    if not native:
        raise ChannelError(
            f"渠道不支持对话接口 (channel #{channel.id} serves no chat dialect)", code="channel:unsupported"
        )
    upstream = client if client in native else native[0]
    bridge = find_bridge(client, upstream)
    if upstream != client and bridge is None:
        raise ChannelError(
            f"渠道不支持此接口 (channel #{channel.id} cannot serve {client} requests)", code="channel:unsupported"
        )
    body: dict[str, Any] = bridge.request(request.body or {}) if bridge else dict(request.body or {})
    body = apply_channel(body, channel, upstream)
    ctx.upstream_model = apply_suffix(body, ctx.upstream_model, upstream)
    # Some upstreams answer only as a stream (Dify agents): ask for one and let the pipeline gather it.
    stream = request.stream or bool(getattr(adaptor, "always_stream", False))
    body = adaptor.prepare(body, ctx.upstream_model, stream=stream, ask_usage=ask_usage)
    if upstream == client:
        for name in FORWARDED_HEADERS.get(client, ()):
            if name in request.headers:
                headers[name] = request.headers[name]
    headers.update(channel.header_override)
    headers["Content-Type"] = "application/json"
    # Upstream-only dialects (Dify) have no inbound endpoint of their own: the adaptor routes by channel.
    url = adaptor.url(channel, DIALECT_ENDPOINT.get(upstream, request.endpoint), ctx.upstream_model, stream)
    call = UpstreamCall("POST", url, headers, body=orjson.dumps(body))
    return Outbound(call, upstream, bridge, key=key, stream=stream)


def _plain(
    ctx: RelayContext, channel: ChannelInfo, adaptor: Adaptor, headers: dict[str, str], *, key: str, ask_usage: bool
) -> Outbound:
    request = ctx.request
    if request.endpoint not in adaptor.endpoints:
        raise ChannelError(
            f"渠道不支持此接口 (channel #{channel.id} does not serve {request.endpoint})", code="channel:unsupported"
        )
    headers.update(channel.header_override)
    url = adaptor.url(channel, request.endpoint, ctx.upstream_model, False)
    if request.form is not None:
        form = [(n, ctx.upstream_model if n == "model" else v) for n, v in request.form]
        return Outbound(UpstreamCall("POST", url, headers, form=form), None, None, key=key)
    body = apply_channel(dict(request.body or {}), channel, Dialect.OPENAI_CHAT)
    body["model"] = ctx.upstream_model
    reshape = getattr(adaptor, "prepare_plain", None)  # a provider's own spelling (e.g. Cohere's rerank)
    if reshape is not None:
        body = reshape(request.endpoint, body)
    if request.stream and ask_usage:
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    headers["Content-Type"] = "application/json"
    call = UpstreamCall("POST", url, headers, body=orjson.dumps(body))
    return Outbound(call, None, None, key=key, stream=request.stream)
