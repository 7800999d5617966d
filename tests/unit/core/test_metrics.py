"""The metrics registry, the text exposition (exact output) and the merge of worker snapshots."""

from __future__ import annotations

import math

import orjson
import pytest

from clinx.core.metrics import Family, HistogramValue, Registry, from_json, merge, to_json
from clinx.core.metrics_text import CONTENT_TYPE, escape_label, format_value, render
from tests.support.prometheus import parse


def test_counter_and_histogram_render_exactly() -> None:
    registry = Registry()
    requests = registry.counter("app_requests_total", "Requests answered.", ("endpoint", "status_class"))
    latency = registry.histogram("app_seconds", "Latency.", (0.1, 1, 2.5), ("endpoint",))
    requests.inc(("chat", "2xx"))
    requests.inc(("chat", "2xx"))
    requests.inc(("chat", "5xx"))
    for value in (0.05, 0.1, 0.7, 9):
        latency.observe(("chat",), value)
    assert render(registry.collect()) == (
        "# HELP app_requests_total Requests answered.\n"
        "# TYPE app_requests_total counter\n"
        'app_requests_total{endpoint="chat",status_class="2xx"} 2\n'
        'app_requests_total{endpoint="chat",status_class="5xx"} 1\n'
        "# HELP app_seconds Latency.\n"
        "# TYPE app_seconds histogram\n"
        'app_seconds_bucket{endpoint="chat",le="0.1"} 2\n'
        'app_seconds_bucket{endpoint="chat",le="1"} 3\n'
        'app_seconds_bucket{endpoint="chat",le="2.5"} 3\n'
        'app_seconds_bucket{endpoint="chat",le="+Inf"} 4\n'
        'app_seconds_sum{endpoint="chat"} 9.85\n'
        'app_seconds_count{endpoint="chat"} 4\n'
    )


def test_a_value_equal_to_a_bound_falls_in_that_bucket() -> None:
    registry = Registry()
    histogram = registry.histogram("h", "h", (1, 2))
    histogram.observe((), 1.0)
    histogram.observe((), 2.0000001)
    assert histogram.series[()].counts == [1, 0, 1]


def test_unlabelled_metrics_and_callback_gauges() -> None:
    registry = Registry()
    queue: list[int] = [1, 2, 3]
    registry.gauge_callback("queue_length", "Rows waiting.", lambda: len(queue))
    registry.counter("spent_total", "Spent.").inc((), 250)
    text = render(registry.collect())
    assert "queue_length 3\n" in text and "spent_total 250\n" in text
    queue.clear()
    assert "queue_length 0\n" in render(registry.collect())  # read at every scrape, not at registration


def test_escaping_of_help_and_label_values() -> None:
    family = Family("m", 'back\\slash\nnew "line"', "gauge", ("l",), values={('a"b\\c\nd',): 1.0})
    assert render([family]) == ('# HELP m back\\\\slash\\nnew "line"\n# TYPE m gauge\nm{l="a\\"b\\\\c\\nd"} 1\n')
    assert parse(render([family])).value("m", l='a"b\\c\nd') == 1  # the test parser undoes it


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (3.0, "3"),
        (0.25, "0.25"),
        (1e-05, "1e-05"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
    ],
)
def test_number_formatting(value: float, text: str) -> None:
    assert format_value(value) == text


def test_content_type_is_the_text_format_0_0_4() -> None:
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"
    assert escape_label("plain") == "plain"


def test_registering_a_name_twice_is_refused() -> None:
    registry = Registry()
    registry.counter("x_total", "x")
    with pytest.raises(ValueError, match="twice"):
        registry.histogram("x_total", "x", (1,))


def test_collect_is_a_copy_so_a_scrape_never_sees_later_changes() -> None:
    registry = Registry()
    histogram = registry.histogram("h", "h", (1,))
    histogram.observe((), 0.5)
    snapshot = registry.collect()
    histogram.observe((), 0.5)
    assert snapshot[0].histograms[()].counts == [1, 0]


def _worker(requests: float, bucket_counts: list[int], rss: float, started: float) -> list[Family]:
    return [
        Family("req_total", "Requests.", "counter", ("endpoint",), values={("chat",): requests}),
        Family("lat", "Latency.", "histogram", (), (1.0,), histograms={(): HistogramValue(bucket_counts, 0.5)}),
        Family("rss_bytes", "RSS.", "gauge", values={(): rss}),
        Family("start_seconds", "Start.", "gauge", values={(): started}, merge="min"),
    ]


def test_merge_sums_counters_buckets_and_gauges_and_keeps_the_earliest_start() -> None:
    a = _worker(3, [1, 2], 100, 50)
    b = _worker(4, [5, 0], 300, 40)
    b[0].values[("embeddings",)] = 1
    merged = {f.name: f for f in merge([a, b])}
    assert merged["req_total"].values == {("chat",): 7, ("embeddings",): 1}
    assert merged["lat"].histograms[()] == HistogramValue([6, 2], 1.0)
    assert merged["rss_bytes"].values == {(): 400}
    assert merged["start_seconds"].values == {(): 40}
    assert a[0].values == {("chat",): 3}  # the inputs are left as they were


def test_merge_leaves_out_a_histogram_with_other_bounds() -> None:
    a = _worker(1, [1, 1], 1, 1)
    other = Family("lat", "Latency.", "histogram", (), (2.0,), histograms={(): HistogramValue([9, 9], 9.0)})
    merged = {f.name: f for f in merge([a, [other]])}
    assert merged["lat"].histograms[()] == HistogramValue([1, 1], 0.5)


def test_json_round_trip_keeps_every_field() -> None:
    families = _worker(3, [1, 2], 100, 50)
    again = from_json(orjson.loads(orjson.dumps(to_json(families))))
    assert again == families


@pytest.mark.parametrize(
    "bad", [{"not": "a list"}, [{"name": "x"}], [{**to_json(_worker(1, [1, 1], 1, 1))[0], "kind": "summary"}]]
)
def test_malformed_snapshots_raise(bad: object) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        from_json(bad)
