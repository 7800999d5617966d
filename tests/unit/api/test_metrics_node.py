"""Node-wide metrics: worker snapshot files (written atomically, stale and broken ones skipped), the merge a
scrape does, the publisher task, and the process metrics read from /proc."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from clinx.api.metrics_node import SnapshotPublisher, node_view, read_snapshots, scrape, snapshot_path, write_snapshot
from clinx.api.process_stats import process_families
from clinx.core.metrics import Family, Registry


def _requests(count: float) -> list[Family]:
    return [Family("req_total", "Requests.", "counter", ("endpoint",), values={("chat",): count})]


def _total(families: list[Family], name: str) -> float:
    return sum(next(f for f in families if f.name == name).values.values())


def test_snapshots_round_trip_and_skip_own_stale_and_broken_files(tmp_path: Path) -> None:
    write_snapshot(snapshot_path(tmp_path, 1), _requests(2))
    write_snapshot(snapshot_path(tmp_path, 2), _requests(5))
    write_snapshot(snapshot_path(tmp_path, 3), _requests(100))
    old = time.time() - 60
    os.utime(snapshot_path(tmp_path, 3), (old, old))  # a worker that died a minute ago
    snapshot_path(tmp_path, 4).write_bytes(b"{half a file")
    (tmp_path / "unrelated.txt").write_text("ignored")
    groups = read_snapshots(tmp_path, exclude=snapshot_path(tmp_path, 2), now=time.time())
    assert [_total(g, "req_total") for g in groups] == [2]
    assert not list(tmp_path.glob("*.partial"))


def test_node_view_adds_other_workers_to_the_live_figures(tmp_path: Path) -> None:
    write_snapshot(snapshot_path(tmp_path, 111), _requests(4))
    write_snapshot(snapshot_path(tmp_path, 222), _requests(6))
    own_pid = 222  # this worker's own (older) file is replaced by its live figures
    families = node_view(_requests(1), str(tmp_path), own_pid)
    assert _total(families, "req_total") == 5
    assert _total(node_view(_requests(1), "", own_pid), "req_total") == 1  # no directory: this process alone


async def test_publisher_writes_its_snapshot_and_removes_it_on_close(tmp_path: Path) -> None:
    registry = Registry()
    registry.counter("req_total", "Requests.").inc((), 3)
    publisher = SnapshotPublisher(registry, str(tmp_path), interval=0.01)
    publisher.start()
    path = publisher.path
    assert path == snapshot_path(tmp_path, os.getpid())
    deadline = time.monotonic() + 5
    while not path.exists():
        assert time.monotonic() < deadline, "no snapshot written"
        await asyncio.sleep(0.01)
    registry.counter("later_total", "Registered after the first write.").inc()
    while not any(
        f.name == "later_total" for g in read_snapshots(tmp_path, exclude=Path(), now=time.time()) for f in g
    ):
        assert time.monotonic() < deadline, "the snapshot is not refreshed"
        await asyncio.sleep(0.01)
    await publisher.close()
    assert not path.exists()


async def test_publisher_without_a_directory_does_nothing() -> None:
    publisher = SnapshotPublisher(Registry(), "")
    publisher.start()
    assert publisher.path is None
    await publisher.close()


async def test_scrape_merges_live_registry_with_snapshots(tmp_path: Path) -> None:
    registry = Registry()
    registry.counter("req_total", "Requests.", ("endpoint",)).inc(("chat",), 2)
    write_snapshot(snapshot_path(tmp_path, 1), _requests(40))
    families = await scrape(registry, str(tmp_path))
    assert _total(families, "req_total") == 42


def _fake_proc(root: Path) -> Path:
    (root / "self").mkdir(parents=True)
    # comm with a space and a parenthesis; utime=150 stime=50 ticks; starttime=1000 ticks (field 22).
    fields = ["S", "1", *["0"] * 9, "150", "50", *["0"] * 6, "1000", "0"]
    (root / "self" / "stat").write_text(f"42 (odd) name) {' '.join(fields)}\n")
    (root / "self" / "statm").write_text("5000 300 100 1 0 200 0\n")
    (root / "stat").write_text("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n")
    return root


def test_process_metrics_from_a_proc_tree(tmp_path: Path) -> None:
    ticks = os.sysconf("SC_CLK_TCK")
    families = {f.name: f for f in process_families(_fake_proc(tmp_path))}
    assert families["process_resident_memory_bytes"].values == {(): 300 * os.sysconf("SC_PAGE_SIZE")}
    assert families["process_cpu_seconds_total"].values == {(): 200 / ticks}
    assert families["process_start_time_seconds"].values == {(): 1_700_000_000 + 1000 / ticks}
    assert families["process_start_time_seconds"].merge == "min"


def test_process_metrics_are_left_out_without_proc(tmp_path: Path) -> None:
    assert process_families(tmp_path / "missing") == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux")
def test_process_metrics_of_this_process_are_plausible() -> None:
    families = {f.name: f for f in process_families()}
    assert families["process_resident_memory_bytes"].values[()] > 1_000_000
    assert time.time() - 86_400 < families["process_start_time_seconds"].values[()] <= time.time() + 1
