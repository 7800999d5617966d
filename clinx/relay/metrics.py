"""The relay's metrics: the named instruments, the bounded label values they take (endpoint short names, status
classes, channel ids, a fixed set of upstream statuses) and the few recording calls the routes and the pipeline
make. Queue lengths are read only at scrape time."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from clinx.billing.ledger import QuotaLedger
from clinx.billing.usage_log import UsageLogWriter
from clinx.core.errors import ClinxError, UpstreamError
from clinx.core.metrics import Registry
from clinx.relay.context import RelayContext
from clinx.relay.endpoints import Endpoint
from clinx.relay.errors import RelayUpstreamError
from clinx.relay.streaming import EventStreamResponse


class _Measured(Protocol):
    """What a relay handler receives besides the request: anything carrying the metrics (the Relay)."""

    @property
    def metrics(self) -> RelayMetrics: ...


R = TypeVar("R", bound=_Measured)
Handler = Callable[[Request, R], Awaitable[Response]]

# Whole requests: from a few milliseconds (cached refusals) to the default five-minute streaming timeout.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# The gateway's own time: tens of microseconds to a second under heavy load.
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)
# Upstream statuses worth their own series; the rest are "other", so a misbehaving provider cannot grow the set.
UPSTREAM_STATUSES = frozenset({400, 401, 403, 404, 408, 429, 500, 502, 503, 504, 524})
TRANSPORT = "transport"
# UpstreamError codes raised when no HTTP answer arrived (connect failure, timeout, cut body).
TRANSPORT_CODES = frozenset({"do_request_failed", "read_response_body_failed"})


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def upstream_status_label(error: ClinxError) -> str | None:
    """The ``status`` label of a failed upstream attempt; None when the failure was not the upstream's."""
    if isinstance(error, RelayUpstreamError):
        return str(error.status) if error.status in UPSTREAM_STATUSES else "other"
    if isinstance(error, UpstreamError) and error.code in TRANSPORT_CODES:
        return TRANSPORT
    return None


class RelayMetrics:
    """One app's relay instruments on their own registry (the app's, not a global)."""

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry = registry or Registry()
        self.requests = registry.counter(
            "clinx_relay_requests_total",
            "Relay requests answered, by endpoint and status class.",
            ("endpoint", "status_class"),
        )
        self.duration = registry.histogram(
            "clinx_relay_request_duration_seconds",
            "Whole relay request time as the client saw it (to the last byte for streams).",
            REQUEST_BUCKETS,
            ("endpoint",),
        )
        self.overhead = registry.histogram(
            "clinx_relay_overhead_seconds",
            "Time the gateway itself added to a relay request (the X-Clinx-Overhead-Duration-Ms header).",
            OVERHEAD_BUCKETS,
        )
        self.ttft = registry.histogram(
            "clinx_relay_time_to_first_token_seconds",
            "Streams: time from the request to the first upstream chunk.",
            TTFT_BUCKETS,
            ("endpoint",),
        )
        self.upstream_errors = registry.counter(
            "clinx_upstream_errors_total",
            "Failed upstream attempts by channel id and status (transport: no HTTP answer, or a stream timeout).",
            ("channel", "status"),
        )
        self.quota_charged = registry.counter("clinx_quota_charged_total", "Quota charged by settled relay requests.")
        self.quota_refunded = registry.counter(
            "clinx_quota_refunded_total", "Quota reserved for relay requests that failed, returned whole."
        )
        self.cache_lookups = registry.counter(
            "clinx_cache_requests_total",
            "Relay key and key-owner cache lookups, by cache and result.",
            ("cache", "result"),
        )

    def watch(self, writer: UsageLogWriter, ledger: QuotaLedger) -> None:
        """Gauges read at scrape time, so they cost nothing per request."""
        self.registry.gauge_callback(
            "clinx_usage_log_pending",
            "Usage log rows and hourly buckets waiting to be written.",
            lambda: writer.pending,
        )
        self.registry.gauge_callback(
            "clinx_ledger_leases", "Quota leases (keys and wallets) this process holds.", lambda: ledger.lease_count
        )

    def finished(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.inc((endpoint, status_class(status)))
        self.duration.observe((endpoint,), seconds)

    def stream_ended(self, ctx: RelayContext, stream_status: str, now: float) -> None:
        endpoint = ctx.request.endpoint.value
        received = ctx.request.received
        self.finished(endpoint, 200, now - received)
        if ctx.first_byte:
            self.ttft.observe((endpoint,), ctx.first_byte - received)
        if stream_status == "timeout" and ctx.channel is not None:
            self.upstream_errors.inc((str(ctx.channel.id), TRANSPORT))

    def upstream_failed(self, channel_id: int, error: ClinxError) -> None:
        label = upstream_status_label(error)
        if label is not None:
            self.upstream_errors.inc((str(channel_id), label))


def measured(endpoint: Endpoint, handler: Handler[R]) -> Handler[R]:
    """Count and time every answer of a relay route except streams, which the pipeline records when they end."""
    label = endpoint.value

    async def wrapper(request: Request, relay: R) -> Response:
        started = time.monotonic()
        try:
            response = await handler(request, relay)
        except Exception:  # counted as the 500 the caller is answered with, then handled above as before
            relay.metrics.finished(label, 500, time.monotonic() - started)
            raise
        if not isinstance(response, EventStreamResponse):
            relay.metrics.finished(label, response.status_code, time.monotonic() - started)
        return response

    return wrapper
