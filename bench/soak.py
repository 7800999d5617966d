"""The soak run: steady load on one gateway for minutes while its resident memory is sampled, to show whether
memory levels off or keeps growing (a leak shows as growth between the sample after warm-up and the last)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.loadgen import Request, percentile_ms, run_load
from bench.servers import tree_memory_mb


async def run_soak(
    request: Request, pid: int, *, seconds: float, warmup: float, concurrency: int = 16, interval: float = 5.0
) -> dict[str, Any]:
    """Warm up, then keep `concurrency` requests in flight for `seconds`, sampling VmRSS of `pid`'s process tree
    right after the warm-up, every `interval` seconds, and once the load has stopped."""
    warm = await run_load(request, concurrency=concurrency, duration=warmup)
    load = asyncio.create_task(run_load(request, concurrency=concurrency, duration=seconds))
    started = time.monotonic()
    samples = [(0.0, tree_memory_mb(pid, "VmRSS"))]
    while not load.done():
        await asyncio.wait({load}, timeout=interval)
        samples.append((time.monotonic() - started, tree_memory_mb(pid, "VmRSS")))
    result = load.result()
    start_mb, end_mb = samples[0][1], samples[-1][1]
    return {
        "seconds": round(result.elapsed, 1),
        "concurrency": concurrency,
        "warmup_s": warmup,
        "requests": result.ok,
        "billed_requests": warm.ok + result.ok,  # warm-up requests are billed too
        "rps": round(result.rps, 1),
        "p50_ms": round(percentile_ms(result.latencies, 50), 3),
        "p99_ms": round(percentile_ms(result.latencies, 99), 3),
        "errors": warm.errors + result.errors,
        "error_samples": warm.error_samples + result.error_samples,
        "rss_start_mb": round(start_mb, 1),
        "rss_max_mb": round(max(mb for _, mb in samples), 1),
        "rss_end_mb": round(end_mb, 1),
        "growth_pct": round(100 * (end_mb - start_mb) / start_mb, 1) if start_mb else None,
        "samples": [[round(t, 1), round(mb, 1)] for t, mb in samples],
    }
