"""The benchmark's processes: start each server in its own process on 127.0.0.1, wait until it answers, stop
it, and read the CPU time and memory of its process tree from /proc (nginx and LiteLLM run several processes)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name: [0] is field 3 (state), [1] field 4 (ppid)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc/<pid>/stat (fields 14 and 15)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def process_tree(pid: int) -> list[int]:
    """`pid` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):  # the process may have just exited
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime over the process tree, plus cutime + cstime (children that exited and were reaped)."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = _stat(member)
            total += sum(int(f) for f in fields[11:15]) / CLK_TCK
    return total


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def tree_memory_mb(pid: int, key: str = "VmHWM") -> float:
    """A /proc/<pid>/status memory figure (VmHWM: peak RSS, VmRSS: current) summed over the process tree."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, ValueError):
            total += _status_kb(member, key)
    return total / 1024


def peak_rss_mb(pid: int) -> float:
    return tree_memory_mb(pid, "VmHWM")


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    port: int

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM (SIGKILL after 15 s) to the process; then SIGTERM to any of its children it left behind."""
        if self.proc.poll() is not None:
            return
        children = process_tree(self.proc.pid)[1:]
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def start(name: str, argv: list[str], env: dict[str, str], workdir: Path, port: int) -> Server:
    """Start `argv` (a server that will listen on `port`) with its output in `workdir`/<name>.log."""
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, proc, log, port)


async def wait_ready(server: Server, url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise BenchError(f"{server.name} exited with {server.proc.returncode}:\n{server.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise BenchError(f"{server.name} did not answer {url} within {seconds:.0f} s:\n{server.tail()}")


def clinx_env(port: int, workdir: Path, sql_dsn: str = "") -> dict[str, str]:
    """Clinx's environment: SQLite in `workdir` unless `sql_dsn` names another (empty) database."""
    env = {k: v for k, v in os.environ.items() if k not in {"SQL_DSN", "LOG_SQL_DSN", "REDIS_CONN_STRING"}}
    env.update(
        PORT=str(port),
        HOST="127.0.0.1",
        SQL_DSN=sql_dsn,
        SQLITE_PATH=str(workdir / "bench.db"),
        SESSION_SECRET=secrets.token_hex(32),
        LOG_DIR=str(workdir / "logs"),
        # New API's default global limit (360 requests per 3 minutes per IP) would stop any benchmark.
        GLOBAL_API_RATE_LIMIT_ENABLE="false",
    )
    return env


@dataclass
class Procs:
    """The mock's pid and each gateway's root pid, by target name (the direct target has none)."""

    mock: int
    targets: dict[str, int]

    def cpu(self, target: str) -> dict[str, float]:
        """CPU seconds so far: the target's process tree, the mock and this process (the load generator)."""
        got = {"mock": cpu_seconds(self.mock), "loadgen": cpu_seconds(os.getpid())}
        if target in self.targets:
            got = {"target": tree_cpu_seconds(self.targets[target]), **got}
        return got

    def busy_seconds(self) -> float:
        """CPU seconds used so far by every server of the run (mock and each target's process tree)."""
        return cpu_seconds(self.mock) + sum(tree_cpu_seconds(pid) for pid in self.targets.values())

    async def quiet(self, *, idle_share: float = 0.05, most: float = 5.0) -> None:
        """Wait (at most ``most`` seconds) until the servers use under ``idle_share`` of a core: a target still
        working off the previous one's backlog (LiteLLM's queue) must not eat into the next measurement."""
        deadline = time.monotonic() + most
        while time.monotonic() < deadline:
            before = self.busy_seconds()
            await asyncio.sleep(0.25)
            if self.busy_seconds() - before < 0.25 * idle_share:
                return


def load_average() -> float:
    """One-minute load average: other work on the machine competes with the benchmark for the same cores."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine() -> dict[str, Any]:
    model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadgen_loop": loop,
        "wrk": bool(shutil.which("wrk")),
        "load_average_at_start": load_average(),
    }
