"""The relay's metric labels stay bounded: status classes, a fixed set of upstream statuses, "transport"."""

from __future__ import annotations

import pytest

from clinx.core.errors import ClinxError, UpstreamError, ValidationError
from clinx.relay.errors import RelayUpstreamError
from clinx.relay.metrics import RelayMetrics, status_class, upstream_status_label


@pytest.mark.parametrize(("status", "label"), [(200, "2xx"), (201, "2xx"), (404, "4xx"), (499, "4xx"), (503, "5xx")])
def test_status_class(status: int, label: str) -> None:
    assert status_class(status) == label


@pytest.mark.parametrize(
    ("error", "label"),
    [
        (RelayUpstreamError(429, "slow down"), "429"),
        (RelayUpstreamError(524, "cloudflare timeout"), "524"),
        (RelayUpstreamError(418, "teapot"), "other"),
        (RelayUpstreamError(599, "odd"), "other"),
        (UpstreamError("refused", code="do_request_failed", status=502), "transport"),
        (UpstreamError("cut", code="read_response_body_failed", status=500), "transport"),
        (UpstreamError("not JSON", code="bad_response_body", status=500), None),
        (ValidationError("bad request"), None),
    ],
)
def test_upstream_status_label(error: ClinxError, label: str | None) -> None:
    assert upstream_status_label(error) == label


def test_only_upstream_failures_are_counted_per_channel() -> None:
    metrics = RelayMetrics()
    metrics.upstream_failed(7, RelayUpstreamError(500, "boom"))
    metrics.upstream_failed(7, RelayUpstreamError(500, "boom"))
    metrics.upstream_failed(7, ValidationError("the caller's fault"))
    assert metrics.upstream_errors.values == {("7", "500"): 2}


def test_two_relays_do_not_share_figures() -> None:
    first, second = RelayMetrics(), RelayMetrics()
    first.finished("chat", 200, 0.1)
    assert second.requests.values == {}
    assert first.requests.values == {("chat", "2xx"): 1}
