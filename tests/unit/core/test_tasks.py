"""Stopping background tasks: every given task is cancelled and has finished when the call returns."""

from __future__ import annotations

import asyncio

from clinx.core.tasks import cancel_and_wait


async def test_cancel_and_wait_finishes_each_task_and_skips_none() -> None:
    cleaned: list[str] = []

    async def worker(name: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(name)

    tasks = [asyncio.create_task(worker(n)) for n in ("a", "b")]
    await asyncio.sleep(0)  # let both start waiting
    await cancel_and_wait(tasks[0], None, tasks[1])
    assert sorted(cleaned) == ["a", "b"]
    assert all(task.cancelled() for task in tasks)
