"""The relay pipeline: admit (key, group, price, reservation) → pick a channel → send → answer → settle.

Failover: an upstream failure that qualifies is retried on a newly selected channel (attempt *i* uses
priority tier *i*), up to ``RetryTimes`` extra attempts; a request that finally fails is refunded whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response

from clinx.billing.ledger import QuotaLedger
from clinx.billing.usage_log import UsageLogWriter
from clinx.cache.base import Cache
from clinx.cache.notify import Notifier
from clinx.config.live import LiveOptions
from clinx.config.settings import Settings
from clinx.core.clock import Clock
from clinx.core.errors import ClinxError, UpstreamError
from clinx.core.types import ChannelInfo, Usage
from clinx.relay import estimate, think_content
from clinx.relay.adaptors.base import Adaptor
from clinx.relay.adaptors.registry import AdaptorRegistry
from clinx.relay.admission import admit
from clinx.relay.context import RelayContext, RelayRequest
from clinx.relay.convert.base import Bridge, StreamBridge
from clinx.relay.endpoints import SPECS, Endpoint
from clinx.relay.errors import RelayUpstreamError, parse_upstream_error, render_error
from clinx.relay.health import should_disable, should_retry
from clinx.relay.metrics import RelayMetrics
from clinx.relay.outbound import build
from clinx.relay.settlement import refund, settle
from clinx.relay.shaping import client_wants_usage
from clinx.relay.sse import EventParser, SSEParser
from clinx.relay.stream import StreamRelay
from clinx.relay.streaming import EventStreamResponse
from clinx.relay.upstream import TransportError, Upstream, UpstreamResponse
from clinx.routing.changes import channels_changed
from clinx.routing.index import ChannelIndex
from clinx.routing.selector import select
from clinx.store.engine import Engine
from clinx.store.repos import channels as channels_repo

log = logging.getLogger(__name__)
OVERHEAD_HEADER = "X-Clinx-Overhead-Duration-Ms"  # the gateway's own added time (cf. LiteLLM's header)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass
class Relay:
    settings: Settings
    main: Engine
    cache: Cache
    options: LiveOptions
    clock: Clock
    index: ChannelIndex
    writer: UsageLogWriter
    ledger: QuotaLedger
    upstream: Upstream
    adaptors: AdaptorRegistry
    notifier: Notifier  # tells the other nodes when this one disables a channel
    rng: random.Random = field(default_factory=random.Random)
    metrics: RelayMetrics = field(default_factory=RelayMetrics)
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    open_streams: int = 0  # streamed answers not yet ended: shutdown waits for them to settle
    streams_ended: asyncio.Event = field(default_factory=asyncio.Event)  # set whenever open_streams drops to 0

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run work that must finish even if the client goes away (settlement); drained at shutdown."""
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background relay task failed", exc_info=task.exception())

    async def drain(self, *, streams_deadline: float = 10.0) -> None:
        """Let streams cut by the server's shutdown reach their end (where they settle), finish every settlement
        in flight, then write spend counters and give back every lease."""
        if self.open_streams:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.streams_ended.wait(), streams_deadline)
        while self.background:
            await asyncio.gather(*list(self.background), return_exceptions=True)
        await self.ledger.flush(return_all=True)

    async def handle(self, request: RelayRequest) -> Response:
        try:
            ctx, tiers = await admit(self, request)
        except ClinxError as error:
            return self._error(error, request)
        return await self._dispatch(ctx, tiers)

    def _error(self, error: ClinxError, request: RelayRequest) -> Response:
        response = render_error(error, request.request_id, request.dialect)
        response.headers["X-Oneapi-Request-Id"] = request.request_id
        return response

    async def _dispatch(self, ctx: RelayContext, tiers: tuple[tuple[ChannelInfo, ...], ...]) -> Response:
        o = self.options.current
        retries = 0 if ctx.pinned else max(0, o.get_int("RetryTimes"))
        attempt = 0
        while True:
            channel = select(tiers, attempt, self.rng, exclude=ctx.tried)
            assert channel is not None  # admit() guarantees at least one tier
            ctx.channel = channel
            ctx.tried.append(channel.id)
            try:
                upstream = await self._send(ctx, channel)
                if ctx.request.stream:
                    return self._stream(ctx, upstream)
                return await self._complete(ctx, upstream)
            except ClinxError as error:
                self.metrics.upstream_failed(channel.id, error)
                self._maybe_disable(channel, error)
                if attempt < retries and should_retry(error, o.get_str("AutomaticRetryStatusCodes")):
                    attempt += 1
                    continue
                self.metrics.quota_refunded.inc((), ctx.reserved)
                refund(ctx, self.ledger)
                return self._error(_mapped(error, channel), ctx.request)
            except asyncio.CancelledError:  # the server stopped before the answer settled: return the reservation
                self.metrics.quota_refunded.inc((), ctx.reserved)
                refund(ctx, self.ledger)
                raise

    async def _send(self, ctx: RelayContext, channel: ChannelInfo) -> UpstreamResponse:
        adaptor = self.adaptors.for_type(channel.type)
        outbound = build(ctx, channel, adaptor, ask_usage=self.settings.force_stream_option, rng=self.rng)
        ctx.upstream_dialect, ctx.bridge, ctx.upstream_stream = (
            outbound.upstream_dialect,
            outbound.bridge,
            outbound.stream,
        )
        call = outbound.call
        authorize = getattr(adaptor, "authorize", None)
        if authorize is not None:  # request signing (AWS) or token exchange (Google) at send time
            await authorize(call, outbound.key, self.upstream)
        total = float(self.settings.relay_timeout) or None
        idle = float(self.settings.streaming_timeout) if ctx.upstream_stream else total
        ctx.upstream_started = time.monotonic()
        response = await self.upstream.send(call, total=None if ctx.upstream_stream else total, idle=idle)
        if response.status >= 400:
            try:
                body = await response.read()
            except (TransportError, TimeoutError):
                body = b""
            finally:
                response.release()
            raise parse_upstream_error(response.status, body, _upstream_id(response))
        return response

    async def _complete(self, ctx: RelayContext, response: UpstreamResponse) -> Response:
        try:
            body = await response.read()
        except (TransportError, TimeoutError) as exc:
            raise UpstreamError(
                "上游响应读取失败 (the upstream answer was cut)", code="read_response_body_failed", status=500
            ) from exc
        finally:
            response.release()
        ctx.first_byte = ctx.first_byte or time.monotonic()
        upstream_seconds = ctx.first_byte - ctx.upstream_started
        spec = SPECS[ctx.request.endpoint]
        if ctx.upstream_stream:
            payload: dict[str, Any] | None = self._gather(ctx, body)
        else:
            payload = None if spec.binary_response else _json_object(body)
        reported, text = self._reported(ctx, payload)
        self.spawn(self._settle(ctx, reported, lambda: text, _upstream_id(response), "ok"))
        overhead = time.monotonic() - ctx.request.received - upstream_seconds
        self.metrics.overhead.observe((), overhead)
        headers = {"X-Oneapi-Request-Id": ctx.request.request_id, OVERHEAD_HEADER: _ms(overhead)}
        rewrite = _thinking_to_content(ctx)
        if ctx.bridge is not None or rewrite:
            if payload is None:
                message = "上游响应不是有效的 JSON (the upstream answer is not JSON)"
                raise UpstreamError(message, code="bad_response_body", status=500)
            answer = ctx.bridge.response(payload) if ctx.bridge else payload
            if rewrite:
                answer = think_content.answer(answer)
            return Response(orjson.dumps(answer), media_type="application/json", headers=headers)
        media_type = response.headers.get("Content-Type", "application/json")
        return Response(body, status_code=response.status, media_type=media_type, headers=headers)

    def _gather(self, ctx: RelayContext, body: bytes) -> dict[str, Any]:
        """A whole upstream stream, read for a non-stream client, folded into one answer by the adaptor."""
        adaptor = self.adaptors.for_type(ctx.channel.type if ctx.channel else 0)
        parser = _parser_for(adaptor)
        events = parser.feed(body) + parser.close()
        aggregate = getattr(adaptor, "aggregate", None)
        if aggregate is None:
            raise UpstreamError("this channel answered a stream the gateway cannot fold", code="bad_response_body")
        payload: dict[str, Any] = aggregate(events)
        return payload

    def _reported(self, ctx: RelayContext, payload: dict[str, Any] | None) -> tuple[Usage | None, str]:
        """The provider's usage when it reported one, else None and the reply's text to count locally."""
        if payload is None:
            return None, ""
        reported = self.adaptors.for_type(ctx.channel.type if ctx.channel else 0).usage(payload)
        if reported is not None and (reported.prompt_tokens or reported.completion_tokens):
            return reported, ""
        return None, _reply_text(payload)

    def _stream(self, ctx: RelayContext, response: UpstreamResponse) -> Response:
        client = ctx.request.dialect
        adaptor = self.adaptors.for_type(ctx.channel.type if ctx.channel else 0)
        relay = StreamRelay(
            adaptor=adaptor,
            upstream=ctx.upstream_dialect or client,
            client=client,
            bridge=_stream_bridge(adaptor, ctx.bridge) if ctx.bridge else None,
            forward_usage=client_wants_usage(ctx.request.body or {}),
            post=think_content.StreamThinkToContent() if _thinking_to_content(ctx) else None,
        )
        relay.use_parser(_parser_for(relay.adaptor))
        upstream_id = _upstream_id(response)

        ended: dict[str, str] = {}  # how the stream ended, once the body knows

        async def body() -> AsyncIterator[bytes]:
            status = "upstream_cut"
            try:
                try:
                    async for chunk in response.iter_any():
                        if not ctx.first_byte:
                            ctx.first_byte = time.monotonic()
                        out = relay.feed(chunk)
                        if out:
                            yield out
                    status = "ok" if relay.done else "upstream_cut"
                except TimeoutError:
                    status = "timeout"
                except (TransportError, UpstreamError):  # cut, or a frame that fails its checksum
                    status = "upstream_cut"
                # However the upstream ended, close the client's stream properly in its dialect.
                closing = relay.finish()
                if closing:
                    yield closing
            except BaseException:
                status = ""  # cancelled: on_end tells a client that hung up from a server that is stopping
                raise
            finally:
                response.close()
                if status:
                    ended["status"] = status

        def on_end() -> None:
            """Settle exactly once, however the stream ended — even one cancelled before its first chunk."""
            response.close()
            status = ended.get("status") or ("client_gone" if answer.client_gone else "shutdown")
            self.spawn(self._settle(ctx, _stream_reported(relay), relay.delivered_text, upstream_id, status))
            self.metrics.stream_ended(ctx, status, time.monotonic())
            self.open_streams -= 1
            if not self.open_streams:
                self.streams_ended.set()

        # For a stream, the gateway's part before the first byte: everything up to sending upstream.
        overhead = ctx.upstream_started - ctx.request.received
        self.metrics.overhead.observe((), overhead)
        headers = {**SSE_HEADERS, "X-Oneapi-Request-Id": ctx.request.request_id, OVERHEAD_HEADER: _ms(overhead)}
        answer = EventStreamResponse(body(), headers=headers, on_end=on_end)
        self.open_streams += 1
        self.streams_ended.clear()
        return answer

    async def _settle(
        self,
        ctx: RelayContext,
        usage: Usage | None,
        reply_text: Callable[[], str],
        upstream_id: str,
        stream_status: str,
    ) -> None:
        if usage is None:  # no usage from the provider: count locally (loading the encoding off the loop)
            await estimate.prepare(ctx.model)
            usage = Usage(
                prompt_tokens=_exact_prompt(ctx),
                completion_tokens=estimate.completion_tokens(ctx.model, reply_text()),
                estimated=True,
            )
        charged = await settle(
            ctx,
            usage,
            ledger=self.ledger,
            writer=self.writer,
            now=self.clock.now(),
            upstream_request_id=upstream_id,
            stream_status=stream_status,
            log_consume=self.options.current.get_bool("LogConsumeEnabled"),
        )
        self.metrics.quota_charged.inc((), charged)

    def _maybe_disable(self, channel: ChannelInfo, error: ClinxError) -> None:
        o = self.options.current
        if not (o.get_bool("AutomaticDisableChannelEnabled") and channel.auto_ban):
            return
        if should_disable(error, o.get_str("AutomaticDisableStatusCodes"), o.get_str("AutomaticDisableKeywords")):
            self.spawn(self._disable(channel, error.message))

    async def _disable(self, channel: ChannelInfo, reason: str) -> None:
        await channels_repo.auto_disable(self.main, channel.id, reason[:500], self.clock.now())
        await channels_changed(self.index, self.main, self.notifier)
        log.warning("channel #%d %s disabled automatically: %s", channel.id, channel.name, reason)


def _stream_reported(relay: StreamRelay) -> Usage | None:
    usage = relay.usage
    return usage if usage is not None and (usage.prompt_tokens or usage.completion_tokens) else None


def _ms(seconds: float) -> str:
    return f"{max(0.0, seconds) * 1000:.3f}"


def _stream_bridge(adaptor: Adaptor, bridge: Bridge) -> StreamBridge:
    """The bridge's stream machine, or the adaptor's own variant of it (one that knows a channel setting)."""
    custom = getattr(adaptor, "stream_bridge", None)
    machine: StreamBridge = custom(bridge) if custom is not None else bridge.stream()
    return machine


def _parser_for(adaptor: Adaptor) -> EventParser:
    """SSE for nearly everyone; a provider with a binary framing (AWS event streams) brings its decoder."""
    factory = getattr(adaptor, "stream_decoder", None)
    decoder: EventParser = factory() if factory is not None else SSEParser()
    return decoder


def _thinking_to_content(ctx: RelayContext) -> bool:
    return bool(ctx.channel and ctx.channel.thinking_to_content and ctx.request.endpoint == Endpoint.CHAT)


def _upstream_id(response: UpstreamResponse) -> str:
    return response.headers.get("x-request-id") or response.headers.get("request-id") or ""


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def _exact_prompt(ctx: RelayContext) -> int:
    """Counted locally only when the provider reported no usage (the reservation used a quick estimate)."""
    request = ctx.request
    return estimate.prompt_tokens(request.endpoint, request.model, request.body)


def _mapped(error: ClinxError, channel: ChannelInfo) -> ClinxError:
    """Apply the channel's status_code_mapping to an upstream error's status."""
    if isinstance(error, RelayUpstreamError) and channel.status_code_mapping:
        mapped = dict(channel.status_code_mapping).get(error.status)
        if mapped:
            error.status = mapped
    return error


def _reply_text(payload: dict[str, Any]) -> str:
    parts: list[str] = []
    for choice in payload.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        message = choice.get("message") or {}
        for key in ("content", "reasoning_content"):
            if isinstance(message.get(key), str):
                parts.append(message[key])
        if isinstance(choice.get("text"), str):
            parts.append(choice["text"])
    for key in ("text", "answer"):  # audio transcription; Dify's blocking answer
        if isinstance(payload.get(key), str):
            parts.append(payload[key])
    return "".join(parts)
