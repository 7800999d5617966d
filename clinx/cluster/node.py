"""This node's place in the cluster: its id, the shared cache, the change notifier and the lease store chosen
from the settings (Redis when REDIS_CONN_STRING is set; otherwise memory, polling, the database lease and the
worker bus between one machine's workers), and the ``Cluster`` that runs the sync and leadership loops for the
app's lifespan and reports them to /api/health."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinx.cache.base import Cache
from clinx.cache.broadcasting import BroadcastingCache
from clinx.cache.memory import MemoryCache
from clinx.cache.notify import LocalNotifier, Notifier, new_node_id
from clinx.cache.resilient import ResilientCache
from clinx.cache.worker_bus import WorkerBus
from clinx.cache.worker_notify import WorkerNotifier
from clinx.cluster.jobs import Job, JobRunner
from clinx.cluster.leader import Leadership, LeaseStore
from clinx.cluster.sync import ConfigSync
from clinx.config.live import LiveOptions
from clinx.config.settings import Settings
from clinx.core.tasks import cancel_and_wait
from clinx.routing.index import ChannelIndex
from clinx.store.engine import Engine
from clinx.store.repos.leases import DatabaseLeases

CACHE_OK = "ok"
CACHE_DEGRADED = "degraded: serving from database"
CACHE_UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Links:
    """How this node reaches the others."""

    node_id: str
    cache: Cache
    notifier: Notifier
    leases: LeaseStore
    resilient: ResilientCache | None = None  # the cache, when it can fall back to memory


def open_links(settings: Settings, main: Engine, *, cache: Cache | None = None) -> Links:
    """Redis for everything when configured; otherwise an in-process cache and the lease row in the main
    database, with the workers of one machine (CLINX_WORKERS_DIR) telling each other of changes and deleted
    cache keys over the worker bus, and polling only between machines. A cache handed in (tests) is used as is,
    with the database lease."""
    node_id = new_node_id()
    if cache is None and settings.redis_conn_string:
        from clinx.cache.redis_setup import connect  # imported only when Redis is configured

        redis = connect(
            settings.redis_conn_string,
            node_id=node_id,
            pool_size=settings.redis_pool_size,
            prefix=settings.redis_key_prefix,
        )
        return Links(node_id, redis.cache, redis.notifier, redis.leases, redis.cache)
    if cache is None and settings.workers_dir:
        bus = WorkerBus(Path(settings.workers_dir), node_id)
        return Links(node_id, BroadcastingCache(MemoryCache(), bus), WorkerNotifier(bus), DatabaseLeases(main))
    return Links(node_id, cache or MemoryCache(), LocalNotifier(node_id), DatabaseLeases(main))


@dataclass
class Cluster:
    links: Links
    sync: ConfigSync
    leadership: Leadership
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(
        cls, settings: Settings, links: Links, main: Engine, options: LiveOptions, index: ChannelIndex
    ) -> Cluster:
        return cls(
            links=links,
            sync=ConfigSync(main, options, index, every=float(settings.sync_frequency)),
            leadership=Leadership(
                links.leases,
                links.node_id,
                ttl=settings.leader_lease_seconds,
                jobs=JobRunner(),
                eligible=settings.is_master,
            ),
        )

    @property
    def node_id(self) -> str:
        return self.links.node_id

    @property
    def cache_degraded(self) -> bool:
        return self.links.resilient is not None and self.links.resilient.degraded

    async def cache_state(self) -> str:
        """ "ok"; "degraded: …" while a Redis outage is bridged by the in-process fallback (the node serves);
        "unreachable" when a cache without a fallback does not answer."""
        if await self.links.cache.ping():
            return CACHE_OK
        return CACHE_DEGRADED if self.cache_degraded else CACHE_UNREACHABLE

    async def start(self, jobs: Sequence[Job] = ()) -> None:
        """Subscribe to changes, then run the sync loop and (on eligible nodes) the leadership loop."""
        self.leadership.jobs.set_jobs(jobs)
        await self.links.notifier.start(self.sync.notify)
        self._tasks = [
            asyncio.create_task(self.sync.run(), name="clinx-config-sync"),
            asyncio.create_task(self.leadership.run(), name="clinx-leadership"),
        ]

    async def stop(self) -> None:
        """Stop the loops, hand the leader lease back, unsubscribe."""
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(*tasks)
        await self.leadership.resign()
        await self.links.notifier.close()

    def report(self) -> dict[str, Any]:
        """This node's cluster view for /api/health."""
        return {
            "node_id": self.node_id,
            "pubsub": {"state": self.links.notifier.state},
            "leader": {"leader": self.leadership.leader, "holder": self.leadership.holder},
        }
