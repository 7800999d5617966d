"""Stopping background tasks: cancel, then wait until each has really finished (its ``finally`` blocks run)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel every given task (None is skipped) and wait for all of them; their cancellation is not re-raised."""
    live = [task for task in tasks if task is not None]
    for task in live:
        task.cancel()
    for task in live:
        with contextlib.suppress(asyncio.CancelledError):
            await task
