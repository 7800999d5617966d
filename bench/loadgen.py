"""Closed-loop HTTP load generator for the benchmark: `concurrency` workers share one keep-alive aiohttp pool
and each sends the same request back to back, recording per-request latency and, for streams, the time to
the first body byte. The same code measures the mock directly and through Clinx, so the two are comparable."""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from asyncio.subprocess import PIPE
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

MAX_ERROR_SAMPLES = 5


@dataclass(frozen=True)
class Request:
    """One request, sent as is every time. A stream counts as successful only if it ends with `[DONE]`."""

    url: str
    body: bytes
    headers: Mapping[str, str]
    stream: bool = False


@dataclass
class LoadResult:
    ok: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    ttfb: list[float] = field(default_factory=list)  # seconds to the first body byte (streams only)
    error_samples: list[str] = field(default_factory=list)
    warmup_ok: int = 0  # successful warm-up requests: not measured, but billed by the gateway all the same
    warmup_errors: int = 0

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def fail(self, reason: str) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(reason)


def percentile_ms(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1] * 1000


async def _one(session: aiohttp.ClientSession, request: Request, result: LoadResult) -> None:
    started = time.perf_counter()
    first: float | None = None
    head = tail = b""
    try:
        async with session.post(request.url, data=request.body, headers=dict(request.headers)) as response:
            status = response.status
            if request.stream:
                async for chunk in response.content.iter_any():
                    if first is None:
                        first = time.perf_counter()
                        head = chunk[:200]
                    tail = (tail + chunk)[-32:]
            else:
                head = (await response.read())[:200]
    except (aiohttp.ClientError, TimeoutError) as exc:
        result.fail(f"{type(exc).__name__}: {exc}")
        return
    finished = time.perf_counter()
    if status != 200:
        result.fail(f"HTTP {status}: {head.decode(errors='replace')}")
    elif request.stream and b"[DONE]" not in tail:
        result.fail(f"stream ended without [DONE]: ...{tail.decode(errors='replace')}")
    else:
        result.ok += 1
        result.latencies.append(finished - started)
        if first is not None:
            result.ttfb.append(first - started)


async def _phase(
    session: aiohttp.ClientSession, request: Request, concurrency: int, seconds: float, result: LoadResult
) -> float:
    """Keep `concurrency` requests in flight until `seconds` pass; requests already started are finished."""
    started = time.perf_counter()
    deadline = started + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            await _one(session, request, result)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def run_load(
    request: Request, *, concurrency: int, duration: float, warmup: float = 0.0, request_timeout: float = 60.0
) -> LoadResult:
    """Warm the pool up for `warmup` seconds (not recorded), then measure for `duration` seconds."""
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=60, ttl_dns_cache=None)
    client_timeout = aiohttp.ClientTimeout(total=request_timeout)
    result = LoadResult()
    async with aiohttp.ClientSession(
        connector=connector, timeout=client_timeout, auto_decompress=False, skip_auto_headers=("User-Agent",)
    ) as session:
        if warmup > 0:
            warm = LoadResult()
            await _phase(session, request, concurrency, warmup, warm)
            result.warmup_ok, result.warmup_errors = warm.ok, warm.errors
            result.error_samples.extend(warm.error_samples)
        result.elapsed = await _phase(session, request, concurrency, duration, result)
    return result


# wrk: a C load generator, for the throughput ceiling without the Python client's own CPU cost

WRK_REPORT = """
done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format("BENCH %d %d %d %d %d %d\\n", s.requests, s.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class WrkResult:
    ok: int
    status_errors: int  # non-2xx/3xx answers
    socket_errors: int  # connect, read, write and timeout
    elapsed: float
    p50_ms: float
    p99_ms: float

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0


def _lua_string(text: str) -> str:
    if "]==]" in text:
        raise ValueError("cannot quote this text for Lua")
    return f"[==[{text}]==]"


def wrk_script(request: Request) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(request.body.decode())}"]
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in request.headers.items()]
    return "\n".join(lines) + "\n" + WRK_REPORT


async def run_wrk(request: Request, *, connections: int, duration: float, request_timeout: int = 60) -> WrkResult:
    """Run `wrk -t1` with `connections` keep-alive connections for `duration` (whole) seconds. Non-stream only:
    wrk times whole responses. When it stops it drops its connections with up to one request each in flight."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "request.lua"
        script.write_text(wrk_script(request))
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", f"--timeout={request_timeout}s"]
        argv += ["-s", str(script), request.url]
        proc = await asyncio.create_subprocess_exec(*argv, stdout=PIPE, stderr=PIPE)
        out, err = await proc.communicate()
    line = next((ln for ln in out.decode().splitlines() if ln.startswith("BENCH ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {out.decode()} {err.decode()}")
    done, micros, status_errors, socket_errors, p50, p99 = (int(x) for x in line.split()[1:])
    return WrkResult(done - status_errors, status_errors, socket_errors, micros / 1e6, p50 / 1000, p99 / 1000)
