"""After a write to channels or abilities: rebuild this node's channel index at once and tell the other nodes
(through the notifier; without one they catch up within SYNC_FREQUENCY)."""

from __future__ import annotations

from clinx.cache.notify import CHANNELS, Notifier
from clinx.routing.index import ChannelIndex
from clinx.store.engine import Engine


async def channels_changed(index: ChannelIndex, engine: Engine, notifier: Notifier) -> None:
    await index.reload(engine)
    await notifier.publish(CHANNELS)
