"""Change notifications between the workers of one machine without Redis (the ``Notifier`` contract of
``notify.py`` over the ``WorkerBus``): a channel or option edited through one worker is reloaded by the others
within milliseconds instead of at their next SYNC_FREQUENCY poll, which stays as the safety net."""

from __future__ import annotations

import logging

from clinx.cache.notify import STATE_DOWN, STATE_OK, ChangeHandler
from clinx.cache.worker_bus import WorkerBus

log = logging.getLogger(__name__)


class WorkerNotifier:
    def __init__(self, bus: WorkerBus) -> None:
        self.node_id = bus.node_id
        self._bus = bus

    @property
    def state(self) -> str:
        return STATE_OK if self._bus.bound else STATE_DOWN

    async def publish(self, kind: str) -> None:
        await self._bus.publish_change(kind)

    async def start(self, on_change: ChangeHandler) -> None:
        """Never raises: a worker that cannot join the bus still serves, and catches up by polling."""
        self._bus.on_change = on_change
        try:
            await self._bus.start()
        except OSError as exc:
            log.warning("cannot join the other workers in %s (polling only): %s", self._bus.directory, exc)

    async def close(self) -> None:
        self._bus.on_change = None
        await self._bus.close()
