"""Benchmark results: derived figures per scenario (added latency, Clinx CPU per 1,000 requests), the target
checks, the markdown table, and the dated JSON + markdown files under bench/results/."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

ADDED_P50_TARGET_MS = 2.0  # at concurrency 1, non-stream chat
RPS_TARGET = 1500.0  # non-stream chat, one worker


def _delta(row: dict[str, Any], key: str) -> float | None:
    direct, clinx = row["direct"].get(key), row["clinx"].get(key)
    return None if direct is None or clinx is None else round(clinx - direct, 3)


def finish_row(row: dict[str, Any]) -> dict[str, Any]:
    clinx = row["clinx"]
    row["added_p50_ms"] = _delta(row, "p50_ms")
    row["added_p99_ms"] = _delta(row, "p99_ms")
    row["added_ttfb_p50_ms"] = _delta(row, "ttfb_p50_ms")
    cpu = clinx["cpu_seconds"]["clinx"]
    row["clinx_cpu_s_per_1k"] = round(1000 * cpu / clinx["requests"], 3) if clinx["requests"] else None
    return row


def targets(results: dict[str, Any]) -> dict[str, Any]:
    rows = results["rows"]
    c1 = next((r for r in rows if r["scenario"] == "chat" and r["concurrency"] == 1), None)
    added = c1["added_p50_ms"] if c1 else None
    best = max(
        (r for r in rows if r["scenario"].startswith("chat") and not r["stream"]), key=lambda r: r["clinx"]["rps"]
    )
    return {
        "added_p50_c1_ms": added,
        "added_p50_c1_pass": added is not None and added < ADDED_P50_TARGET_MS,
        "best_nonstream_rps": best["clinx"]["rps"],
        "best_nonstream_rps_at": f"{best['scenario']} c={best['concurrency']}",
        "nonstream_rps_pass": best["clinx"]["rps"] >= RPS_TARGET,
    }


def passed_checks(results: dict[str, Any]) -> bool:
    """Billing must match; the performance targets are reported, not enforced."""
    billing = results["billing"]
    return bool(billing["match"]) and bool(billing.get("wrk", {"match": True})["match"])


def _pair(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{a:.2f} / {b:.2f}"


def _row(r: dict[str, Any]) -> str:
    d, c = r["direct"], r["clinx"]
    cells = [
        r["scenario"],
        str(r["concurrency"]),
        f"{d['rps']:.0f}",
        f"{c['rps']:.0f}",
        _pair(d["p50_ms"], d["p99_ms"]),
        _pair(c["p50_ms"], c["p99_ms"]),
        _pair(r["added_p50_ms"], r["added_p99_ms"]),
        _pair(d["ttfb_p50_ms"], d["ttfb_p99_ms"]),
        _pair(c["ttfb_p50_ms"], c["ttfb_p99_ms"]),
        str(d["errors"] + c["errors"]),
        "–" if r["clinx_cpu_s_per_1k"] is None else f"{r['clinx_cpu_s_per_1k']:.2f}",
        f"{c['cpu_percent'].get('clinx', 0):.0f}% / {c['cpu_percent'].get('mock', 0):.0f}%"
        + (f" / {c['cpu_percent']['loadgen']:.0f}%" if "loadgen" in c["cpu_percent"] else ""),
    ]
    return "| " + " | ".join(cells) + " |"


def markdown(results: dict[str, Any]) -> str:
    m, s, billing, t = results["machine"], results["settings"], results["billing"], targets(results)
    lines = [
        f"# Clinx benchmark, {results.get('date', time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))}",
        "",
        f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), Linux {m['kernel']}, Python {m['python']}, "
        f"load generator on {m['loadgen_loop']}. Load average {m['load_average_at_start']:g} before the run "
        f"(other work competing for the same cores), {m['load_average_at_end']:g} at its end.",
        "",
        f"Everything on 127.0.0.1; mock, Clinx (1 worker, {s['database']}, billing and consume logs on, "
        f"{s['key']} key) and the load generator each in its own process. {s['duration_s']:g} s measured per "
        f"target after {s['warmup_s']:g} s warm-up; streams carry {s['chunks']} chunks"
        f"{' (coalesced)' if s['coalesce'] else ''}.",
        "",
        "| Scenario | Conc. | Direct req/s | Clinx req/s | Direct p50 / p99 ms | Clinx p50 / p99 ms "
        "| Added p50 / p99 ms | Direct TTFB p50 / p99 ms | Clinx TTFB p50 / p99 ms | Errors "
        "| Clinx CPU s / 1k req | CPU during Clinx run (Clinx / mock / loadgen) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        *(_row(r) for r in results["rows"]),
        "",
        f"- Added latency at concurrency 1 (non-stream chat, p50): **{t['added_p50_c1_ms']} ms** — target < "
        f"{ADDED_P50_TARGET_MS:g} ms: **{'PASS' if t['added_p50_c1_pass'] else 'FAIL'}**",
        f"- Best non-stream throughput, one worker: **{t['best_nonstream_rps']:.0f} req/s** "
        f"({t['best_nonstream_rps_at']}) — target ≥ {RPS_TARGET:.0f}: "
        f"**{'PASS' if t['nonstream_rps_pass'] else 'FAIL'}**",
        f"- Billing: {billing['gateway_ok_requests']} successful gateway requests, {billing['consume_logs']} consume "
        f"logs — **{'match' if billing['match'] else 'MISMATCH'}**",
    ]
    if "wrk" in billing:
        w = billing["wrk"]
        lines.append(
            f"- Billing during wrk: {w['gateway_ok_requests']} counted by wrk, {w['consume_logs']} consume logs "
            f"(wrk drops up to one in-flight request per connection at its deadline) — "
            f"**{'ok' if w['match'] else 'MISMATCH'}**"
        )
    lines.append(f"- Peak RSS (VmHWM): Clinx {results['clinx_peak_rss_mb']} MB, mock {results['mock_peak_rss_mb']} MB")
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], markdown_text: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    json_path, md_path = out / f"{stamp}.json", out / f"{stamp}.md"
    json_path.write_text(json.dumps({**results, "targets": targets(results)}, indent=2) + "\n")
    md_path.write_text(markdown_text)
    return [json_path, md_path]
