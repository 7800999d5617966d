"""Relay traffic moves the metrics: requests by endpoint and status class, durations, the gateway's overhead,
time to first token for streams, upstream errors per channel, quota charged and refunded, cache lookups."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import orjson

from clinx.relay.endpoints import Endpoint
from clinx.relay.metrics import UPSTREAM_STATUSES
from tests.integration.relay.conftest import HELLO, RATIOS, RelayEnv
from tests.support.prometheus import Exposition, parse


async def _scrape(env: RelayEnv) -> Exposition:
    r = await env.gateway.root.get("/metrics")
    assert r.status_code == 200, r.text
    return parse(r.text)


async def _chat(env: RelayEnv, model: str, *, stream: bool = False) -> httpx.Response:
    body = {"model": model, "messages": HELLO, "stream": stream}
    return await env.gateway.client.post(
        "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {env.key}"}
    )


async def _until(env: RelayEnv, check: str, name: str, want: float, **labels: str) -> Exposition:
    """Scrape until ``name`` reaches ``want`` (a stream is recorded just after its last byte is sent)."""
    deadline = time.monotonic() + 5
    while True:
        exposition = await _scrape(env)
        if exposition.total(name, **labels) >= want:
            return exposition
        assert time.monotonic() < deadline, f"{check}: {name}{labels} stayed at {exposition.total(name, **labels)}"
        await asyncio.sleep(0.02)


async def test_a_successful_call_is_counted_timed_and_charged(relay_env: RelayEnv) -> None:
    assert (await _chat(relay_env, "gpt-4o-mini")).status_code == 200
    await relay_env.gateway.settle()
    m = await _scrape(relay_env)
    assert m.value("clinx_relay_requests_total", endpoint="chat", status_class="2xx") == 1
    assert m.value("clinx_relay_request_duration_seconds_count", endpoint="chat") == 1
    assert m.value("clinx_relay_request_duration_seconds_bucket", endpoint="chat", le="+Inf") == 1
    assert m.value("clinx_relay_request_duration_seconds_sum", endpoint="chat") > 0
    assert m.value("clinx_relay_overhead_seconds_count") == 1
    assert m.value("clinx_relay_time_to_first_token_seconds_count", endpoint="chat") == 0  # not a stream
    logs = (await relay_env.gateway.root.get("/api/log/", params={"type": 2})).json()["data"]["items"]
    assert m.value("clinx_quota_charged_total") == logs[0]["quota"] > 0
    assert m.value("clinx_quota_refunded_total") == 0
    assert m.total("clinx_upstream_errors_total") == 0


async def test_the_key_cache_misses_once_then_hits(relay_env: RelayEnv) -> None:
    before = await _scrape(relay_env)
    await _chat(relay_env, "gpt-4o-mini")
    first = await _scrape(relay_env)
    await _chat(relay_env, "gpt-4o-mini")
    second = await _scrape(relay_env)

    def moved(a: Exposition, b: Exposition, cache: str, result: str) -> float:
        return b.value("clinx_cache_requests_total", cache=cache, result=result) - a.value(
            "clinx_cache_requests_total", cache=cache, result=result
        )

    assert moved(before, first, "token", "miss") == 1 and moved(before, first, "user", "miss") == 1
    assert moved(first, second, "token", "hit") == 1 and moved(first, second, "user", "hit") == 1
    assert moved(first, second, "token", "miss") == 0


async def test_an_upstream_500_counts_against_the_channel_and_refunds(relay_env: RelayEnv) -> None:
    r = await _chat(relay_env, "mock-error-500")
    assert r.status_code == 500
    await relay_env.gateway.settle()
    m = await _scrape(relay_env)
    channel = str(relay_env.channel_id)
    assert m.value("clinx_upstream_errors_total", channel=channel, status="500") == 1
    assert m.value("clinx_relay_requests_total", endpoint="chat", status_class="5xx") == 1
    assert m.value("clinx_relay_requests_total", endpoint="chat", status_class="2xx") == 0
    assert m.value("clinx_quota_refunded_total") > 0
    assert m.value("clinx_quota_charged_total") == 0


async def test_a_refused_request_is_a_4xx_and_touches_no_channel(relay_env: RelayEnv) -> None:
    r = await relay_env.gateway.client.post(
        "/v1/embeddings", content=b"{oops", headers={"Authorization": f"Bearer {relay_env.key}"}
    )
    assert r.status_code == 400
    m = await _scrape(relay_env)
    assert m.value("clinx_relay_requests_total", endpoint="embeddings", status_class="4xx") == 1
    assert m.total("clinx_upstream_errors_total") == 0


async def test_a_stream_records_time_to_first_token_when_it_ends(relay_env: RelayEnv) -> None:
    r = await _chat(relay_env, "gpt-4o-mini", stream=True)
    assert r.status_code == 200 and "[DONE]" in r.text
    m = await _until(relay_env, "stream", "clinx_relay_requests_total", 1, endpoint="chat", status_class="2xx")
    assert m.value("clinx_relay_time_to_first_token_seconds_count", endpoint="chat") == 1
    ttft = m.value("clinx_relay_time_to_first_token_seconds_sum", endpoint="chat")
    whole = m.value("clinx_relay_request_duration_seconds_sum", endpoint="chat")
    assert 0 < ttft <= whole
    assert m.value("clinx_relay_overhead_seconds_count") == 1
    await _until(relay_env, "stream settlement", "clinx_quota_charged_total", 1)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_a_channel_that_does_not_answer_is_a_transport_error(relay_env: RelayEnv) -> None:
    await relay_env.gateway.set_option("ModelRatio", orjson.dumps({**RATIOS, "nowhere-model": 1.0}).decode())
    dead = await relay_env.gateway.add_channel("dead", f"http://127.0.0.1:{_closed_port()}", "nowhere-model")
    r = await _chat(relay_env, "nowhere-model")
    assert r.status_code >= 500
    m = await _scrape(relay_env)
    assert m.value("clinx_upstream_errors_total", channel=str(dead), status="transport") == 1
    assert m.value("clinx_upstream_errors_total", channel=str(relay_env.channel_id), status="transport") == 0


async def test_labels_take_only_bounded_values(relay_env: RelayEnv) -> None:
    await _chat(relay_env, "gpt-4o-mini")
    await _chat(relay_env, "mock-error-400")
    await _chat(relay_env, "gpt-4o-mini", stream=True)
    text = (await relay_env.gateway.root.get("/metrics")).text
    assert relay_env.key.removeprefix("sk-") not in text
    assert "alice" not in text and "gpt-4o-mini" not in text
    allowed = {
        "endpoint": {e.value for e in Endpoint},
        "status_class": {"2xx", "4xx", "5xx"},
        "cache": {"token", "user"},
        "result": {"hit", "miss"},
        "channel": {str(relay_env.channel_id)},
        "status": {*(str(s) for s in UPSTREAM_STATUSES), "other", "transport"},
    }
    seen: set[str] = set()
    for _, labels in parse(text).samples:
        for name, value in labels:
            if name != "le":
                assert value in allowed[name], (name, value)
                seen.add(name)
    assert seen == set(allowed)
