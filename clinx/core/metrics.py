"""In-process metrics: counters, fixed-bucket histograms and scrape-time gauges, collected into plain families
that can be rendered (``metrics_text``), written as JSON snapshots and merged across worker processes.

Recording is a dict lookup, an add and (for histograms) a bisect: everything runs on one event loop, so no
locks. Label values are positional tuples, in the order of the instrument's label names; callers pass only
bounded values (an endpoint, a status class, a channel id), never keys, users or request ids.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Labels = tuple[str, ...]
Kind = Literal["counter", "gauge", "histogram"]
Merge = Literal["sum", "min"]
KINDS: frozenset[str] = frozenset({"counter", "gauge", "histogram"})


@dataclass
class HistogramValue:
    """Per-bucket (not cumulative) counts, the last one for observations above every bound, and their sum."""

    counts: list[int]
    total: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.counts)


@dataclass
class Family:
    """One metric with all its label sets: what a scrape shows, a snapshot stores and a merge adds up."""

    name: str
    help: str
    kind: Kind
    label_names: Labels = ()
    buckets: tuple[float, ...] = ()
    values: dict[Labels, float] = field(default_factory=dict)  # counters and gauges
    histograms: dict[Labels, HistogramValue] = field(default_factory=dict)
    merge: Merge = "sum"  # how workers combine: sum (counts, memory) or min (a start time)


class Counter:
    __slots__ = ("help", "label_names", "name", "values")

    def __init__(self, name: str, help: str, label_names: Labels = ()) -> None:
        self.name, self.help, self.label_names = name, help, label_names
        self.values: dict[Labels, float] = {}

    def inc(self, labels: Labels = (), amount: float = 1) -> None:
        values = self.values
        values[labels] = values.get(labels, 0) + amount

    def collect(self) -> Family:
        return Family(self.name, self.help, "counter", self.label_names, values=dict(self.values))


class Histogram:
    __slots__ = ("buckets", "help", "label_names", "name", "series")

    def __init__(self, name: str, help: str, buckets: Iterable[float], label_names: Labels = ()) -> None:
        bounds = tuple(sorted(float(b) for b in buckets))
        if not bounds or len(set(bounds)) != len(bounds):
            raise ValueError(f"histogram {name} needs distinct bucket bounds")
        self.name, self.help, self.label_names, self.buckets = name, help, label_names, bounds
        self.series: dict[Labels, HistogramValue] = {}

    def observe(self, labels: Labels, value: float) -> None:
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = HistogramValue([0] * (len(self.buckets) + 1))
        # bisect_left: the first bound >= value, so a value equal to a bound lands in that bound's bucket (le).
        series.counts[bisect_left(self.buckets, value)] += 1
        series.total += value

    def collect(self) -> Family:
        copies = {labels: HistogramValue(list(s.counts), s.total) for labels, s in self.series.items()}
        return Family(self.name, self.help, "histogram", self.label_names, self.buckets, histograms=copies)


@dataclass(frozen=True)
class _Callback:
    """A value read only when scraped (queue lengths, lease counts): zero cost on the hot path."""

    name: str
    help: str
    kind: Kind
    read: Callable[[], float]


class Registry:
    """The instruments of one app (never a module global, so two apps in one process do not mix)."""

    def __init__(self) -> None:
        self._instruments: dict[str, Counter | Histogram | _Callback] = {}

    def _add(self, instrument: Counter | Histogram | _Callback) -> None:
        if instrument.name in self._instruments:
            raise ValueError(f"metric {instrument.name} is registered twice")
        self._instruments[instrument.name] = instrument

    def counter(self, name: str, help: str, label_names: Labels = ()) -> Counter:
        counter = Counter(name, help, label_names)
        self._add(counter)
        return counter

    def histogram(self, name: str, help: str, buckets: Iterable[float], label_names: Labels = ()) -> Histogram:
        histogram = Histogram(name, help, buckets, label_names)
        self._add(histogram)
        return histogram

    def gauge_callback(self, name: str, help: str, read: Callable[[], float]) -> None:
        self._add(_Callback(name, help, "gauge", read))

    def collect(self) -> list[Family]:
        families: list[Family] = []
        for instrument in self._instruments.values():
            if isinstance(instrument, _Callback):
                families.append(
                    Family(instrument.name, instrument.help, instrument.kind, values={(): instrument.read()})
                )
            else:
                families.append(instrument.collect())
        return families


def merge(groups: Iterable[list[Family]]) -> list[Family]:
    """Add up the families of several workers: counters, gauges and histogram buckets per label set (or the
    minimum, for a family marked ``min``). The first worker's definition wins; a histogram whose bounds differ
    from it (a worker of another version mid-upgrade) is left out rather than mixed into wrong buckets."""
    merged: dict[str, Family] = {}
    for families in groups:
        for family in families:
            into = merged.get(family.name)
            if into is None:
                merged[family.name] = _copy(family)
            elif into.kind == family.kind and into.buckets == family.buckets:
                _add_into(into, family)
    return list(merged.values())


def _copy(family: Family) -> Family:
    return Family(
        family.name,
        family.help,
        family.kind,
        family.label_names,
        family.buckets,
        dict(family.values),
        {labels: HistogramValue(list(h.counts), h.total) for labels, h in family.histograms.items()},
        family.merge,
    )


def _add_into(into: Family, family: Family) -> None:
    for labels, value in family.values.items():
        current = into.values.get(labels)
        if current is None:
            into.values[labels] = value
        else:
            into.values[labels] = min(current, value) if into.merge == "min" else current + value
    for labels, hist in family.histograms.items():
        target = into.histograms.get(labels)
        if target is None:
            into.histograms[labels] = HistogramValue(list(hist.counts), hist.total)
        elif len(target.counts) == len(hist.counts):
            target.counts = [a + b for a, b in zip(target.counts, hist.counts, strict=True)]
            target.total += hist.total


def to_json(families: list[Family]) -> list[dict[str, Any]]:
    """A snapshot as plain JSON data (label tuples become lists)."""
    return [
        {
            "name": f.name,
            "help": f.help,
            "kind": f.kind,
            "labels": list(f.label_names),
            "buckets": list(f.buckets),
            "merge": f.merge,
            "values": [[list(labels), value] for labels, value in f.values.items()],
            "histograms": [[list(labels), h.counts, h.total] for labels, h in f.histograms.items()],
        }
        for f in families
    ]


def from_json(data: Any) -> list[Family]:
    """Read a snapshot written by :func:`to_json`; raises ValueError (or KeyError/TypeError) on a malformed one."""
    if not isinstance(data, list):
        raise ValueError("a metrics snapshot is a JSON list")
    families: list[Family] = []
    for item in data:
        kind = item["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown metric kind {kind!r}")
        families.append(
            Family(
                name=str(item["name"]),
                help=str(item["help"]),
                kind=kind,
                label_names=tuple(str(n) for n in item["labels"]),
                buckets=tuple(float(b) for b in item["buckets"]),
                values={tuple(str(v) for v in labels): float(value) for labels, value in item["values"]},
                histograms={
                    tuple(str(v) for v in labels): HistogramValue([int(c) for c in counts], float(total))
                    for labels, counts, total in item["histograms"]
                },
                merge="min" if item.get("merge") == "min" else "sum",
            )
        )
    return families
