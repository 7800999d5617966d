"""The standard ``process_*`` metrics of this process, read from ``/proc/self`` (Linux). Elsewhere, or when
``/proc`` cannot be read, they are simply left out of the scrape. Blocking file reads: call from a thread."""

from __future__ import annotations

import os
from pathlib import Path

from clinx.core.metrics import Family

PROC = Path("/proc")


def _boot_time(proc: Path) -> float:
    for line in (proc / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise ValueError("no btime in /proc/stat")


def process_families(proc: Path = PROC) -> list[Family]:
    """RSS, CPU seconds and start time; several workers add up RSS and CPU and keep the earliest start."""
    try:
        stat = (proc / "self" / "stat").read_text()
        statm = (proc / "self" / "statm").read_text()
        boot = _boot_time(proc)
    except (OSError, ValueError):
        return []
    # Fields after the command name, which is in parentheses and may itself contain spaces or parentheses.
    fields = stat.rsplit(")", 1)[1].split()
    ticks = float(os.sysconf("SC_CLK_TCK"))
    utime, stime, start_ticks = int(fields[11]), int(fields[12]), int(fields[19])
    rss = int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return [
        Family("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", values={(): rss}),
        Family(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            "counter",
            values={(): (utime + stime) / ticks},
        ),
        Family(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            "gauge",
            values={(): boot + start_ticks / ticks},
            merge="min",
        ),
    ]
