"""Render metric families in Prometheus' text exposition format, version 0.0.4: one ``# HELP`` and ``# TYPE``
line per family, then one sample per line; histograms as cumulative ``_bucket{le=…}`` samples ending with
``le="+Inf"``, then ``_sum`` and ``_count``. Written by hand: the format is small and a client library would
add a dependency and hot-path cost for nothing."""

from __future__ import annotations

import math

from clinx.core.metrics import Family, Labels

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    """Whole numbers without a fraction (``3``), others as Python's shortest round-trip repr; Go's spellings of
    the special values."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _labels(names: Labels, values: Labels, extra: str = "") -> str:
    parts = [f'{name}="{escape_label(value)}"' for name, value in zip(names, values, strict=False)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _render_histogram(family: Family, out: list[str]) -> None:
    bounds = [*(format_value(b) for b in family.buckets), "+Inf"]
    for labels in sorted(family.histograms):
        hist = family.histograms[labels]
        running = 0
        for bound, count in zip(bounds, hist.counts, strict=False):
            running += count
            le = f'le="{bound}"'
            out.append(f"{family.name}_bucket{_labels(family.label_names, labels, le)} {running}")
        out.append(f"{family.name}_sum{_labels(family.label_names, labels)} {format_value(hist.total)}")
        out.append(f"{family.name}_count{_labels(family.label_names, labels)} {running}")


def render(families: list[Family]) -> str:
    """The whole exposition, families in name order and label sets sorted, so two scrapes diff cleanly."""
    out: list[str] = []
    for family in sorted(families, key=lambda f: f.name):
        out.append(f"# HELP {family.name} {escape_help(family.help)}")
        out.append(f"# TYPE {family.name} {family.kind}")
        if family.kind == "histogram":
            _render_histogram(family, out)
            continue
        for labels in sorted(family.values):
            out.append(f"{family.name}{_labels(family.label_names, labels)} {format_value(family.values[labels])}")
    return "\n".join(out) + "\n" if out else ""
