"""Benchmark results: derived figures per scenario and target (added latency against the direct row, CPU per
1,000 requests, throughput ratios), Clinx's checks against the issue targets, the markdown report, and the
dated JSON + markdown files under bench/results/."""

from __future__ import annotations

import json
import operator
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LABELS = {"direct": "direct", "nginx": "nginx", "litellm": "LiteLLM", "clinx": "Clinx"}
RATIOS = {  # name: (numerator, denominator), throughput (req/s) of one over the other
    "clinx_vs_nginx": ("clinx", "nginx"),
    "clinx_vs_direct": ("clinx", "direct"),
    "litellm_vs_nginx": ("litellm", "nginx"),
}
OPS: dict[str, Callable[[float, float], bool]] = {"≥": operator.ge, "≤": operator.le, "<": operator.lt}


def _delta(base: float | None, value: float | None) -> float | None:
    return None if base is None or value is None else round(value - base, 3)


def finish_row(row: dict[str, Any]) -> dict[str, Any]:
    """Adds to each gateway's figures what it adds over the direct row and its CPU per 1,000 requests, and to
    the row the throughput ratios."""
    got = row["targets"]
    direct = got["direct"]
    for name, side in got.items():
        if name == "direct":
            continue
        side["added_p50_ms"] = _delta(direct["p50_ms"], side["p50_ms"])
        side["added_p99_ms"] = _delta(direct["p99_ms"], side["p99_ms"])
        side["added_ttfb_p50_ms"] = _delta(direct["ttfb_p50_ms"], side["ttfb_p50_ms"])
        cpu = side["cpu_seconds"].get("target")
        side["cpu_s_per_1k"] = round(1000 * cpu / side["requests"], 3) if cpu is not None and side["requests"] else None
    row["ratios"] = {
        key: round(got[a]["rps"] / got[b]["rps"], 3) if a in got and b in got and got[b]["rps"] else None
        for key, (a, b) in RATIOS.items()
    }
    return row


# the issue targets


@dataclass(frozen=True)
class Goal:
    """One issue target for Clinx: `field` of its figures (or of the row's ratios) in one scenario, `op` `limit`."""

    what: str
    scenario: str
    concurrency: int
    field: str
    op: str
    limit: float
    unit: str


GOALS = {
    "rps_vs_nginx_chat_c16": Goal("Clinx ÷ nginx req/s, chat c=16", "chat", 16, "clinx_vs_nginx", "≥", 0.40, "×"),
    "cpu_chat_c16": Goal("CPU per request, chat c=16", "chat", 16, "cpu_s_per_1k", "≤", 0.5, " ms"),
    "cpu_stream_c16": Goal("CPU per 20-chunk stream, stream c=16", "chat stream", 16, "cpu_s_per_1k", "≤", 1.5, " ms"),
    "added_p50_chat_c1": Goal("added p50, chat c=1", "chat", 1, "added_p50_ms", "<", 1.0, " ms"),
    "added_ttfb_stream_c1": Goal("added TTFB p50, stream c=1", "chat stream", 1, "added_ttfb_p50_ms", "<", 1.0, " ms"),
    "rps_vs_nginx_stream_c16": Goal(
        "Clinx ÷ nginx req/s, stream c=16", "chat stream", 16, "clinx_vs_nginx", "≥", 0.50, "×"
    ),
}
RSS_LIMIT_MB = 120.0
SOAK_GROWTH_LIMIT_PCT = 10.0


def _check(
    key: str, what: str, figure: float | None, op: str, limit: float, unit: str, note: str = ""
) -> dict[str, Any]:
    spec = ".1f" if unit in {" MB", " %"} else ".2f"
    shown = "not measured" if figure is None else f"{figure:{spec}}{unit}{note}"
    met = None if figure is None else OPS[op](figure, limit)
    return {"key": key, "target": f"{what} {op} {limit:{spec}}{unit}", "figure": figure, "shown": shown, "met": met}


def _goal(results: dict[str, Any], key: str, goal: Goal) -> dict[str, Any]:
    row = next(
        (r for r in results["rows"] if r["scenario"] == goal.scenario and r["concurrency"] == goal.concurrency), None
    )
    figure, note = None, ""
    if row is not None and goal.field in row["ratios"]:
        figure = row["ratios"][goal.field]
        if figure is not None:
            note = f" ({row['targets']['clinx']['rps']:.0f} vs {row['targets']['nginx']['rps']:.0f} req/s)"
    elif row is not None:
        figure = row["targets"]["clinx"].get(goal.field)
    return _check(key, goal.what, figure, goal.op, goal.limit, goal.unit, note)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Clinx against the issue's targets; `met` is None where the figure could not be measured (no nginx)."""
    checks = [_goal(results, key, goal) for key, goal in GOALS.items()]
    rss = results["peak_rss_mb"].get("clinx")
    checks.append(_check("peak_rss", "Clinx peak RSS", rss, "<", RSS_LIMIT_MB, " MB"))
    if results.get("soak"):
        growth = results["soak"]["growth_pct"]
        checks.append(_check("soak_rss_growth", "RSS growth in the soak", growth, "<", SOAK_GROWTH_LIMIT_PCT, " %"))
    return checks


def passed_checks(results: dict[str, Any]) -> bool:
    """Billing must match and the soak must not fail a request; the performance targets are reported only."""
    billing = results["billing"]
    soak_ok = not results.get("soak") or results["soak"]["errors"] == 0
    return bool(billing["match"]) and bool(billing.get("wrk", {"match": True})["match"]) and soak_ok


# markdown


def _pair(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{a:.2f} / {b:.2f}"


def _num(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "–" if value is None else f"{value:{spec}}{suffix}"


def _target_row(r: dict[str, Any], name: str, side: dict[str, Any]) -> str:
    pct = side["cpu_percent"]
    cpu = " / ".join(f"{pct[k]:.0f}%" if k in pct else "–" for k in ("target", "mock", "loadgen"))
    cells = [
        r["scenario"],
        str(r["concurrency"]),
        LABELS.get(name, name),
        f"{side['rps']:.0f}",
        _pair(side["p50_ms"], side["p99_ms"]),
        _pair(side.get("added_p50_ms"), side.get("added_p99_ms")),
        _pair(side["ttfb_p50_ms"], side["ttfb_p99_ms"]),
        _num(side.get("added_ttfb_p50_ms")),
        str(side["errors"]),
        _num(side.get("cpu_s_per_1k")),
        cpu,
    ]
    return "| " + " | ".join(cells) + " |"


def _ratio_row(r: dict[str, Any]) -> str:
    cells = [r["scenario"], str(r["concurrency"]), *(_num(r["ratios"][k], ".2f", "×") for k in RATIOS)]
    return "| " + " | ".join(cells) + " |"


def _header(results: dict[str, Any]) -> list[str]:
    m, s = results["machine"], results["settings"]
    gateways = {
        "nginx": "nginx (plain reverse proxy, 1 worker, keep-alive upstream, no buffering)",
        "litellm": f"LiteLLM's proxy ({s['litellm']}, 1 worker, no database, callbacks and spend logs off)",
        "clinx": f"Clinx (1 worker, {s['database']}, billing and consume logs on, {s['key']} key)",
    }
    lines = [
        f"# Clinx benchmark, {results.get('date', time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))}",
        "",
        f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), Linux {m['kernel']}, Python {m['python']}, "
        f"load generator on {m['loadgen_loop']}. Load average {m['load_average_at_start']:g} before the run "
        f"(other work competing for the same cores), {m['load_average_at_end']:g} at its end.",
        "",
        "Everything on 127.0.0.1, each in its own process: the mock provider, the load generator and "
        + "; ".join(gateways[t] for t in results["targets"] if t in gateways)
        + f". {s['duration_s']:g} s measured per scenario and target after {s['warmup_s']:g} s warm-up; streams "
        f"carry {s['chunks']} chunks{' (coalesced)' if s['coalesce'] else ''}.",
    ]
    lines += [f"- Skipped: {LABELS.get(k, k)} — {v.splitlines()[0]}" for k, v in results.get("skipped", {}).items()]
    return lines


def _failures(results: dict[str, Any]) -> list[str]:
    return [
        f"- {LABELS.get(name, name)} {r['scenario']} c={r['concurrency']}: {side['errors']} failed requests, e.g. "
        f"{(side.get('error_samples') or ['?'])[0][:200]}"
        for r in results["rows"]
        for name, side in r["targets"].items()
        if side["errors"]
    ]


def _soak(soak: dict[str, Any]) -> list[str]:
    return [
        "",
        "## Soak",
        "",
        f"Clinx, non-stream chat at concurrency {soak['concurrency']} for {soak['seconds']:g} s after "
        f"{soak['warmup_s']:g} s warm-up: {soak['requests']} requests ({soak['rps']:.0f} req/s, p50 / p99 "
        f"{soak['p50_ms']:.2f} / {soak['p99_ms']:.2f} ms), {soak['errors']} errors. RSS (VmRSS): "
        f"**{soak['rss_start_mb']} MB** after warm-up, max {soak['rss_max_mb']} MB, **{soak['rss_end_mb']} MB** at "
        f"the end — growth **{_num(soak['growth_pct'], '+.1f', ' %')}** (target < {SOAK_GROWTH_LIMIT_PCT:g} %).",
    ]


def markdown(results: dict[str, Any]) -> str:
    billing = results["billing"]
    lines = [
        *_header(results),
        "",
        "| Scenario | Conc. | Target | req/s | p50 / p99 ms | Added p50 / p99 ms | TTFB p50 / p99 ms "
        "| Added TTFB p50 ms | Errors | CPU s / 1k req | CPU % (target / mock / loadgen) |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        *(_target_row(r, name, side) for r in results["rows"] for name, side in r["targets"].items()),
        *_failures(results),
        "",
        "Throughput ratios (req/s over req/s, same scenario):",
        "",
        "| Scenario | Conc. | Clinx ÷ nginx | Clinx ÷ direct | LiteLLM ÷ nginx |",
        "|---|--:|--:|--:|--:|",
        *(_ratio_row(r) for r in results["rows"]),
        "",
        "Peak RSS (VmHWM, summed over each process tree): "
        + ", ".join(f"{LABELS.get(k, k)} {v} MB" for k, v in results["peak_rss_mb"].items()),
        "",
        "## Targets (Clinx)",
        "",
        "| Target | Figure | |",
        "|---|--:|---|",
        *(
            f"| {c['target']} | {c['shown']} | {'–' if c['met'] is None else ('met' if c['met'] else '**missed**')} |"
            for c in targets(results)
        ),
    ]
    if results.get("soak"):
        lines += _soak(results["soak"])
    lines += [
        "",
        "## Checks",
        "",
        f"- Billing: {billing['gateway_ok_requests']} successful Clinx requests, {billing['consume_logs']} consume "
        f"logs — **{'match' if billing['match'] else 'MISMATCH'}**",
    ]
    if "wrk" in billing:
        w = billing["wrk"]
        lines.append(
            f"- Billing during wrk: {w['gateway_ok_requests']} counted by wrk, {w['consume_logs']} consume logs "
            f"(wrk drops up to one in-flight request per connection at its deadline) — "
            f"**{'ok' if w['match'] else 'MISMATCH'}**"
        )
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], markdown_text: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    json_path, md_path = out / f"{stamp}.json", out / f"{stamp}.md"
    json_path.write_text(json.dumps({**results, "issue_targets": targets(results)}, indent=2) + "\n")
    md_path.write_text(markdown_text)
    return [json_path, md_path]
