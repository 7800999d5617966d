"""Smoke test of the benchmark's load generator (bench/loadgen.py) against an in-process mock provider: it sends
requests, counts them and records latencies (no timing assertions)."""

from __future__ import annotations

import orjson

from bench.loadgen import Request, percentile_ms, run_load
from tests.support.mock_provider import MockProvider

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}


async def test_loadgen_runs_non_stream_requests_without_errors() -> None:
    async with MockProvider(record=False) as mock:
        request = Request(mock.base_url + "/v1/chat/completions", orjson.dumps(CHAT), HEADERS)
        result = await run_load(request, concurrency=4, duration=0.5, warmup=0.1)
    assert result.errors == 0, result.error_samples
    assert result.ok > 0
    assert result.warmup_ok > 0
    assert len(result.latencies) == result.ok
    assert result.ttfb == []
    assert result.rps > 0
    assert 0 < percentile_ms(result.latencies, 50) <= percentile_ms(result.latencies, 99)


async def test_loadgen_streams_record_time_to_first_byte() -> None:
    async with MockProvider(record=False, chunks=5) as mock:
        request = Request(mock.base_url + "/v1/chat/completions", orjson.dumps({**CHAT, "stream": True}), HEADERS, True)
        result = await run_load(request, concurrency=2, duration=0.5)
    assert result.errors == 0, result.error_samples
    assert result.ok > 0
    assert len(result.ttfb) == result.ok
    assert all(first <= total for first, total in zip(result.ttfb, result.latencies, strict=True))


async def test_loadgen_counts_non_2xx_answers_as_errors() -> None:
    async with MockProvider(record=False) as mock:
        body = orjson.dumps({**CHAT, "model": "mock-error-500"})
        result = await run_load(
            Request(mock.base_url + "/v1/chat/completions", body, HEADERS), concurrency=1, duration=0.3
        )
    assert result.ok == 0
    assert result.errors > 0
    assert result.error_samples[0].startswith("HTTP 500")
