"""The benchmark's processes: start the mock provider and Clinx each in its own process on 127.0.0.1, wait
until they answer, stop them, and read their CPU time and peak memory from /proc."""

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


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc/<pid>/stat (fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> Server:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, proc, log)


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
    clinx: int
    mock: int

    def cpu(self) -> dict[str, float]:
        return {"clinx": cpu_seconds(self.clinx), "mock": cpu_seconds(self.mock), "loadgen": cpu_seconds(os.getpid())}


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
