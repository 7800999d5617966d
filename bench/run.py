"""The benchmark: `python bench/run.py [--duration 10] [--quick]`. Starts the mock provider and Clinx (one
worker, fresh SQLite, billing and logging on) as separate processes on 127.0.0.1, sets Clinx up through the
management API, then measures each scenario against the mock directly and through Clinx with the same load
generator, checks that every gateway request was billed, and writes bench/results/<UTC time>.json and .md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

# Run as a script from anywhere: make the repository root importable for `bench.*`.
BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from bench import report  # noqa: E402
from bench.loadgen import LoadResult, Request, percentile_ms, run_load, run_wrk  # noqa: E402
from bench.servers import (  # noqa: E402
    BenchError,
    Procs,
    clinx_env,
    free_port,
    load_average,
    machine,
    peak_rss_mb,
    start,
    wait_ready,
)

ROOT_PASSWORD = "Bench-root-123"
USER_PASSWORD = "Bench-user-123"
MODEL_RATIOS = {"gpt-4o-mini": 0.075, "text-embedding-3-small": 0.01}
QUOTA = 10**12  # plenty: the limited key never runs dry, but its reservation path runs on every request
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello to the benchmark."}]}
EMBED = {"model": "text-embedding-3-small", "input": "The quick brown fox jumps over the lazy dog."}


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    body: dict[str, Any]
    concurrency: int
    stream: bool = False


SCENARIOS = (
    Scenario("chat", "/v1/chat/completions", CHAT, 1),
    Scenario("chat", "/v1/chat/completions", CHAT, 16),
    Scenario("chat", "/v1/chat/completions", CHAT, 64),
    Scenario("chat stream", "/v1/chat/completions", {**CHAT, "stream": True}, 1, stream=True),
    Scenario("chat stream", "/v1/chat/completions", {**CHAT, "stream": True}, 16, stream=True),
    Scenario("embeddings", "/v1/embeddings", EMBED, 16),
)


# Clinx setup through the management API


@dataclass
class Admin:
    client: httpx.AsyncClient
    user_id: int

    async def call(self, method: str, url: str, **kw: Any) -> Any:
        r = await self.client.request(method, url, headers={"New-Api-User": str(self.user_id)}, **kw)
        body = r.json()
        if not body.get("success"):
            raise BenchError(f"{method} {url} failed: {r.text}")
        return body.get("data")

    async def consume_logs(self) -> int:
        data = await self.call("GET", "/api/log/", params={"type": 2, "p": 1, "page_size": 1})
        return int(data["total"])


async def login(base_url: str, username: str, password: str) -> Admin:
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    r = await client.post("/api/user/login", json={"username": username, "password": password})
    if not r.json().get("success"):
        raise BenchError(f"login as {username} failed: {r.text}")
    return Admin(client, int(r.json()["data"]["id"]))


async def create_key(owner: Admin, name: str, unlimited: bool) -> str:
    body = {"name": name, "remain_quota": 0 if unlimited else QUOTA, "unlimited_quota": unlimited, "expired_time": -1}
    await owner.call("POST", "/api/token/", json=body)
    items = (await owner.call("GET", "/api/token/search", params={"keyword": name}))["items"]
    token_id = next(t["id"] for t in items if t["name"] == name)
    return "sk-" + str((await owner.call("POST", f"/api/token/{token_id}/key"))["key"])


async def set_up(base_url: str, mock_url: str) -> tuple[Admin, dict[str, str]]:
    """Root, prices, a channel to the mock, a funded user with an unlimited and a limited key."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as anon:
        r = await anon.post(
            "/api/setup", json={"username": "root", "password": ROOT_PASSWORD, "confirmPassword": ROOT_PASSWORD}
        )
        if not r.json().get("success"):
            raise BenchError(f"setup failed: {r.text}")
        r = await anon.post("/api/user/register", json={"username": "bench", "password": USER_PASSWORD})
        if not r.json().get("success"):
            raise BenchError(f"register failed: {r.text}")
    root = await login(base_url, "root", ROOT_PASSWORD)
    await root.call("PUT", "/api/option/", json={"key": "ModelRatio", "value": json.dumps(MODEL_RATIOS)})
    channel = {"type": 1, "name": "mock", "key": "sk-mock", "base_url": mock_url, "models": ",".join(MODEL_RATIOS)}
    await root.call("POST", "/api/channel/", json={"mode": "single", "channel": channel})
    user = await login(base_url, "bench", USER_PASSWORD)
    await root.call(
        "POST", "/api/user/manage", json={"id": user.user_id, "action": "add_quota", "mode": "override", "value": QUOTA}
    )
    keys = {
        "unlimited": await create_key(user, "bench-unlimited", True),
        "limited": await create_key(user, "bench-limited", False),
    }
    await user.client.aclose()
    return root, keys


async def sanity(base_url: str, keys: dict[str, str]) -> int:
    """One chat call per key through Clinx; answers how many succeeded (all must)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for kind, key in keys.items():
            r = await client.post("/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {key}"})
            if r.status_code != 200:
                raise BenchError(f"sanity call with the {kind} key failed: HTTP {r.status_code} {r.text}")
    return len(keys)


async def wait_billed(root: Admin, expected: int, seconds: float = 20.0) -> int:
    """Consume-log count once it reaches `expected` (settlement and the log writer run after the answer)."""
    deadline = time.monotonic() + seconds
    total = await root.consume_logs()
    while total < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        total = await root.consume_logs()
    await asyncio.sleep(1.0)  # anything beyond `expected` would be a double charge: give it time to show
    return await root.consume_logs()


# measuring


def side(result: LoadResult, cpu_before: dict[str, float], cpu_after: dict[str, float]) -> dict[str, Any]:
    cpu = {k: round(cpu_after[k] - cpu_before[k], 2) for k in cpu_before}
    return {
        "requests": result.ok,
        "warmup_requests": result.warmup_ok,
        "errors": result.errors + result.warmup_errors,
        "error_samples": result.error_samples,
        "seconds": round(result.elapsed, 3),
        "rps": round(result.rps, 1),
        "p50_ms": round(percentile_ms(result.latencies, 50), 3),
        "p99_ms": round(percentile_ms(result.latencies, 99), 3),
        "ttfb_p50_ms": round(percentile_ms(result.ttfb, 50), 3) if result.ttfb else None,
        "ttfb_p99_ms": round(percentile_ms(result.ttfb, 99), 3) if result.ttfb else None,
        "cpu_seconds": cpu,
        "cpu_percent": {k: round(100 * v / result.elapsed, 1) for k, v in cpu.items()} if result.elapsed else {},
    }


async def measure(procs: Procs, request: Request, concurrency: int, duration: float, warmup: float) -> dict[str, Any]:
    before = procs.cpu()
    result = await run_load(request, concurrency=concurrency, duration=duration, warmup=warmup)
    return side(result, before, procs.cpu())


def headers_for(target: str, key: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {key if target == 'clinx' else 'sk-mock'}"}


async def run_scenario(
    sc: Scenario, urls: dict[str, str], key: str, procs: Procs, duration: float, warmup: float
) -> dict[str, Any]:
    body = json.dumps(sc.body).encode()
    row: dict[str, Any] = {"scenario": sc.name, "concurrency": sc.concurrency, "stream": sc.stream}
    for target in ("direct", "clinx"):
        request = Request(urls[target] + sc.path, body, headers_for(target, key), stream=sc.stream)
        row[target] = await measure(procs, request, sc.concurrency, duration, warmup)
        if row[target]["errors"]:
            raise BenchError(
                f"{sc.name} c={sc.concurrency} {target}: {row[target]['errors']} failed requests: "
                f"{row[target]['error_samples']}"
            )
    return report.finish_row(row)


async def run_wrk_scenario(
    urls: dict[str, str], key: str, procs: Procs, duration: float, warmup: float, connections: int = 64
) -> dict[str, Any]:
    """Non-stream chat driven by wrk (C): Clinx's throughput ceiling without the Python client's CPU cost."""
    row: dict[str, Any] = {"scenario": "chat (wrk)", "concurrency": connections, "stream": False}
    for target in ("direct", "clinx"):
        request = Request(urls[target] + "/v1/chat/completions", json.dumps(CHAT).encode(), headers_for(target, key))
        warm = await run_wrk(request, connections=connections, duration=warmup)
        before = procs.cpu()
        got = await run_wrk(request, connections=connections, duration=duration)
        after = procs.cpu()
        if got.errors or warm.errors:
            raise BenchError(f"wrk {target}: failed requests, warm-up {warm}, measured {got}")
        cpu = {k: round(after[k] - before[k], 2) for k in ("clinx", "mock")}
        row[target] = {
            "requests": got.ok,
            "warmup_requests": warm.ok,
            "errors": 0,
            "seconds": round(got.elapsed, 3),
            "rps": round(got.rps, 1),
            "p50_ms": round(got.p50_ms, 3),
            "p99_ms": round(got.p99_ms, 3),
            "ttfb_p50_ms": None,
            "ttfb_p99_ms": None,
            "cpu_seconds": cpu,
            "cpu_percent": {k: round(100 * v / got.elapsed, 1) for k, v in cpu.items()},
        }
    return report.finish_row(row)


# the whole run


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    info = machine()
    mock_port, clinx_port = free_port(), free_port()
    mock_argv = [
        sys.executable,
        str(BENCH_DIR / "mock_server.py"),
        "--port",
        str(mock_port),
        "--chunks",
        str(args.chunks),
        *(["--coalesce"] if args.coalesce else []),
    ]
    mock = start("mock", mock_argv, dict(os.environ), workdir)
    clinx = start(
        "clinx", [sys.executable, "-m", "clinx", "serve"], clinx_env(clinx_port, workdir, args.sql_dsn), workdir
    )
    urls = {"direct": f"http://127.0.0.1:{mock_port}", "clinx": f"http://127.0.0.1:{clinx_port}"}
    try:
        await wait_ready(mock, urls["direct"] + "/v1/models")
        await wait_ready(clinx, urls["clinx"] + "/api/status")
        root, keys = await set_up(urls["clinx"], urls["direct"])
        billed = await sanity(urls["clinx"], keys)
        procs = Procs(clinx.proc.pid, mock.proc.pid)
        rows = []
        for sc in SCENARIOS:
            print(f"… {sc.name} c={sc.concurrency}", file=sys.stderr, flush=True)
            row = await run_scenario(sc, urls, keys["limited"], procs, args.duration, args.warmup)
            billed += row["clinx"]["requests"] + row["clinx"]["warmup_requests"]
            rows.append(row)
        logged = await wait_billed(root, billed)
        billing: dict[str, Any] = {"gateway_ok_requests": billed, "consume_logs": logged, "match": logged == billed}
        if args.wrk and shutil.which("wrk"):
            print("… chat c=64 (wrk)", file=sys.stderr, flush=True)
            row = await run_wrk_scenario(urls, keys["limited"], procs, args.duration, args.warmup)
            rows.append(row)
            sent = row["clinx"]["requests"] + row["clinx"]["warmup_requests"]
            after = await wait_billed(root, logged + sent)
            # wrk drops its connections at the deadline: up to one request per connection per run is answered
            # (and billed) by Clinx after wrk stopped counting.
            billing["wrk"] = {
                "gateway_ok_requests": sent,
                "consume_logs": after - logged,
                "match": sent <= after - logged <= sent + 2 * row["concurrency"],
            }
        await root.client.aclose()
        return {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": {**info, "load_average_at_end": load_average()},
            "settings": {
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "chunks": args.chunks,
                "coalesce": args.coalesce,
                "clinx_workers": 1,
                "database": "SQLite (fresh file)" if not args.sql_dsn else args.sql_dsn.split("://")[0],
                "key": "limited (remain_quota set: token reservation path)",
            },
            "rows": rows,
            "billing": billing,
            "clinx_peak_rss_mb": round(peak_rss_mb(clinx.proc.pid), 1),
            "mock_peak_rss_mb": round(peak_rss_mb(mock.proc.pid), 1),
        }
    finally:
        clinx.stop()
        mock.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark Clinx against the mock provider, all on 127.0.0.1.")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per scenario and target")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured warm-up seconds before each")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s per scenario, 1 s warm-up")
    parser.add_argument("--chunks", type=int, default=20, help="reply length in words / stream chunks")
    parser.add_argument("--coalesce", action="store_true", help="mock sends each stream in one write")
    parser.add_argument("--no-wrk", dest="wrk", action="store_false", help="skip the wrk throughput row")
    parser.add_argument("--sql-dsn", default="", help="an empty database instead of a fresh SQLite file")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="where results are written")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3.0, 1.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    loop_factory = None
    with contextlib.suppress(ImportError):
        import uvloop

        loop_factory = uvloop.new_event_loop
    with tempfile.TemporaryDirectory(prefix="clinx-bench-") as tmp, asyncio.Runner(loop_factory=loop_factory) as r:
        try:
            results = r.run(bench(args, Path(tmp)))
        except (BenchError, RuntimeError) as exc:  # RuntimeError: wrk did not run
            print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
            return 1
    markdown = report.markdown(results)
    print(markdown)
    paths = report.write(results, markdown, args.out)
    print("written: " + ", ".join(str(p) for p in paths), file=sys.stderr)
    return 0 if report.passed_checks(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
