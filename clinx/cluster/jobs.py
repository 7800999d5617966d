"""Periodic background jobs, run by the leader node only: one task per job, started when this node wins the
lease and cancelled when it loses it. Intervals are asked again before every wait, so a job switched on or
re-timed through an option takes effect without a restart."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from clinx.core.tasks import cancel_and_wait

log = logging.getLogger(__name__)
RECHECK = 30.0  # seconds between looks at a job that is off, or due later than this


@dataclass(frozen=True)
class Job:
    name: str
    every: Callable[[], float]  # seconds between runs; 0 or less = off for now
    run: Callable[[], Awaitable[object]]
    at_start: bool = False  # also run as soon as this node becomes the leader


class JobRunner:
    def __init__(
        self, jobs: Sequence[Job] = (), *, recheck: float = RECHECK, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.jobs = tuple(jobs)
        self._recheck = recheck
        self._now = now
        self._tasks: list[asyncio.Task[None]] = []

    def set_jobs(self, jobs: Sequence[Job]) -> None:
        """Replace the schedule (applies from the next start)."""
        self.jobs = tuple(jobs)

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [asyncio.create_task(self._loop(job), name=f"clinx-job-{job.name}") for job in self.jobs]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(*tasks)

    async def _loop(self, job: Job) -> None:
        last = -math.inf if job.at_start else self._now()
        while True:
            every = job.every()
            if every > 0 and self._now() - last >= every:
                last = self._now()
                try:
                    await job.run()
                except Exception:  # one failed round must not end the schedule; the next round tries again
                    log.exception("background job %r failed", job.name)
                continue
            wait = self._recheck if every <= 0 else min(self._recheck, every - (self._now() - last))
            await asyncio.sleep(max(wait, 0.01))
