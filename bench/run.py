"""The benchmark: `python bench/run.py [--duration 10] [--quick] [--soak 300]`. Starts the mock provider, nginx
and LiteLLM's proxy in front of it (when available) and Clinx (one worker, fresh SQLite, billing and logging on),
each as its own process on 127.0.0.1; measures every scenario against the mock directly and through each
gateway with the same load generator; checks that every Clinx request was billed; optionally soaks Clinx to
watch its memory; writes bench/results/<UTC time>.json and .md."""

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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

# Run as a script from anywhere: make the repository root importable for `bench.*`.
BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from bench import report  # noqa: E402
from bench.clinx_setup import CHAT, EMBED, Admin, sanity, set_up, wait_billed  # noqa: E402
from bench.loadgen import LoadResult, Request, percentile_ms, run_load, run_wrk  # noqa: E402
from bench.servers import (  # noqa: E402
    BenchError,
    Procs,
    Server,
    clinx_env,
    free_port,
    load_average,
    machine,
    peak_rss_mb,
    start,
    wait_ready,
)
from bench.soak import run_soak  # noqa: E402
from bench.targets import LITELLM_REQUIREMENT, Started, start_litellm, start_nginx  # noqa: E402

LITELLM_VENV = BENCH_DIR / ".litellm-venv"
STRICT = {"direct", "clinx"}  # a failed request stops the run; the reference gateways' failures are reported


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


@dataclass(frozen=True)
class Target:
    """Where the load goes: the mock itself ("direct") or a gateway in front of it."""

    name: str
    url: str
    key: str

    def request(self, path: str, body: dict[str, Any], stream: bool = False) -> Request:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}
        return Request(self.url + path, json.dumps(body).encode(), headers, stream=stream)


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


async def run_scenario(
    sc: Scenario, targets: list[Target], procs: Procs, duration: float, warmup: float
) -> dict[str, Any]:
    row: dict[str, Any] = {"scenario": sc.name, "concurrency": sc.concurrency, "stream": sc.stream, "targets": {}}
    for target in targets:
        request = target.request(sc.path, sc.body, sc.stream)
        await procs.quiet()
        before = procs.cpu(target.name)
        result = await run_load(request, concurrency=sc.concurrency, duration=duration, warmup=warmup)
        got = row["targets"][target.name] = side(result, before, procs.cpu(target.name))
        if got["errors"] and target.name in STRICT:
            raise BenchError(
                f"{sc.name} c={sc.concurrency} {target.name}: {got['errors']} failed requests: {got['error_samples']}"
            )
    return report.finish_row(row)


async def run_wrk_scenario(
    targets: list[Target], procs: Procs, duration: float, warmup: float, connections: int = 64
) -> dict[str, Any]:
    """Non-stream chat driven by wrk (C): the throughput ceiling without the Python client's CPU cost. LiteLLM
    is left out: at its ~100 req/s the 64 connections would only queue."""
    row: dict[str, Any] = {"scenario": "chat (wrk)", "concurrency": connections, "stream": False, "targets": {}}
    for target in (t for t in targets if t.name != "litellm"):
        request = target.request("/v1/chat/completions", CHAT)
        warm = await run_wrk(request, connections=connections, duration=warmup)
        before = procs.cpu(target.name)
        got = await run_wrk(request, connections=connections, duration=duration)
        after = procs.cpu(target.name)
        if (got.errors or warm.errors) and target.name in STRICT:
            raise BenchError(f"wrk {target.name}: failed requests, warm-up {warm}, measured {got}")
        cpu = {k: round(after[k] - before[k], 2) for k in before if k != "loadgen"}  # wrk is not this process
        row["targets"][target.name] = {
            "requests": got.ok,
            "warmup_requests": warm.ok,
            "errors": got.errors + warm.errors,
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


# the reference gateways


async def start_reference(
    name: str, started: Started, servers: list[Server], skipped: dict[str, str], ready_seconds: float = 120.0
) -> Target | None:
    """Wait for a reference gateway and make one chat call through it; on failure it is skipped, with the
    reason, and the run goes on without it."""
    if started.server is None:
        skipped[name] = started.skipped
        print(f"… {name} skipped: {started.skipped}", file=sys.stderr, flush=True)
        return None
    server = started.server
    servers.append(server)
    target = Target(name, f"http://127.0.0.1:{server.port}", started.auth)
    try:
        await wait_ready(server, target.url + started.ready_path, ready_seconds)
        await sanity(target.url, {"reference": started.auth}, name)
    except (BenchError, httpx.HTTPError) as exc:
        skipped[name] = f"did not work: {exc}"
        print(f"… {name} skipped: {exc}", file=sys.stderr, flush=True)
        server.stop()
        return None
    return target


@contextlib.contextmanager
def stopping(servers: list[Server]) -> Iterator[list[Server]]:
    try:
        yield servers
    finally:
        for server in reversed(servers):
            server.stop()


# the whole run


@dataclass
class Running:
    """Everything started: the targets in measuring order (direct first, Clinx last), Clinx's admin session,
    the gateway requests billed so far, what was skipped and why, and each server's pid by name."""

    targets: list[Target]
    root: Admin
    billed: int
    skipped: dict[str, str]
    pids: dict[str, int]


async def start_all(args: argparse.Namespace, workdir: Path, servers: list[Server]) -> Running:
    mock_port, clinx_port = free_port(), free_port()
    mock_argv = [sys.executable, str(BENCH_DIR / "mock_server.py"), "--port", str(mock_port)]
    mock_argv += ["--chunks", str(args.chunks), *(["--coalesce"] if args.coalesce else [])]
    servers.append(start("mock", mock_argv, dict(os.environ), workdir, mock_port))
    clinx_argv = [sys.executable, "-m", "clinx", "serve"]
    servers.append(start("clinx", clinx_argv, clinx_env(clinx_port, workdir, args.sql_dsn), workdir, clinx_port))
    direct = Target("direct", f"http://127.0.0.1:{mock_port}", "sk-mock")
    clinx_url = f"http://127.0.0.1:{clinx_port}"
    await wait_ready(servers[0], direct.url + "/v1/models")
    skipped: dict[str, str] = {}
    refs: list[Target | None] = []
    if args.nginx:
        refs.append(await start_reference("nginx", start_nginx(workdir, free_port(), mock_port), servers, skipped))
    else:
        skipped["nginx"] = "--no-nginx"
    if args.litellm:
        started = start_litellm(LITELLM_VENV, workdir, free_port(), direct.url)
        refs.append(await start_reference("litellm", started, servers, skipped))
    else:
        skipped["litellm"] = "--no-litellm"
    await wait_ready(servers[1], clinx_url + "/api/status")
    root, keys = await set_up(clinx_url, direct.url)
    billed = await sanity(clinx_url, keys)
    targets = [direct, *(t for t in refs if t is not None), Target("clinx", clinx_url, keys["limited"])]
    pids = {s.name: s.proc.pid for s in servers if s.proc.poll() is None}
    return Running(targets, root, billed, skipped, pids)


async def measure_all(args: argparse.Namespace, up: Running) -> dict[str, Any]:
    """The scenarios, the soak, the billing check and the wrk row; answers the run's results."""
    procs = Procs(up.pids["mock"], {t.name: up.pids[t.name] for t in up.targets if t.name != "direct"})
    billed, rows = up.billed, []
    for sc in SCENARIOS:
        print(f"… {sc.name} c={sc.concurrency}", file=sys.stderr, flush=True)
        row = await run_scenario(sc, up.targets, procs, args.duration, args.warmup)
        billed += row["targets"]["clinx"]["requests"] + row["targets"]["clinx"]["warmup_requests"]
        rows.append(row)
    soak = None
    if args.soak:
        print(f"… soak: Clinx, chat c=16 for {args.soak:g} s", file=sys.stderr, flush=True)
        request = up.targets[-1].request("/v1/chat/completions", CHAT)
        soak = await run_soak(request, up.pids["clinx"], seconds=args.soak, warmup=max(args.warmup, 2.0))
        billed += soak["billed_requests"]
    logged = await wait_billed(up.root, billed)
    billing: dict[str, Any] = {"gateway_ok_requests": billed, "consume_logs": logged, "match": logged == billed}
    if args.wrk and shutil.which("wrk"):
        print("… chat c=64 (wrk)", file=sys.stderr, flush=True)
        row = await run_wrk_scenario(up.targets, procs, args.duration, args.warmup)
        rows.append(row)
        clinx_wrk = row["targets"]["clinx"]
        sent = clinx_wrk["requests"] + clinx_wrk["warmup_requests"]
        after = await wait_billed(up.root, logged + sent)
        # wrk drops its connections at the deadline: up to one request per connection per run is answered
        # (and billed) by Clinx after wrk stopped counting.
        billing["wrk"] = {
            "gateway_ok_requests": sent,
            "consume_logs": after - logged,
            "match": sent <= after - logged <= sent + 2 * row["concurrency"],
        }
    return {"rows": rows, "billing": billing, "soak": soak}


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    info = machine()
    with stopping([]) as servers:
        up = await start_all(args, workdir, servers)
        try:
            measured = await measure_all(args, up)
        finally:
            await up.root.client.aclose()
        rss_order = [t.name for t in up.targets if t.name != "direct"] + ["mock"]
        return {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": {**info, "load_average_at_end": load_average()},
            "settings": settings(args),
            "targets": [t.name for t in up.targets],
            "skipped": up.skipped,
            **measured,
            "peak_rss_mb": {name: round(peak_rss_mb(up.pids[name]), 1) for name in rss_order},
        }


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "chunks": args.chunks,
        "coalesce": args.coalesce,
        "clinx_workers": 1,
        "database": "SQLite (fresh file)" if not args.sql_dsn else args.sql_dsn.split("://")[0],
        "key": "limited (remain_quota set: token reservation path)",
        "litellm": LITELLM_REQUIREMENT,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark Clinx, nginx and LiteLLM against a mock provider.")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per scenario and target")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured warm-up seconds before each")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s per scenario, 1 s warm-up")
    parser.add_argument("--chunks", type=int, default=20, help="reply length in words / stream chunks")
    parser.add_argument("--coalesce", action="store_true", help="mock sends each stream in one write")
    parser.add_argument("--no-wrk", dest="wrk", action="store_false", help="skip the wrk throughput row")
    parser.add_argument("--no-nginx", dest="nginx", action="store_false", help="skip the nginx reference")
    parser.add_argument(
        "--litellm",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"LiteLLM's proxy as a reference (installs {LITELLM_REQUIREMENT} into bench/.litellm-venv if needed)",
    )
    parser.add_argument("--soak", type=float, default=0.0, metavar="SECONDS", help="then soak Clinx, watching RSS")
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
