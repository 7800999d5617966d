"""The leader lease: at most one node at a time runs the background jobs. Every eligible node (masters; a
slave never leads) tries to take or renew the lease every third of its lifetime; the holder runs the jobs,
stops them as soon as a renewal fails (it can no longer prove the lease is its own), and gives the lease back
on a graceful shutdown so another node takes over at its next attempt instead of after the lease expires."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from clinx.cluster.jobs import JobRunner

log = logging.getLogger(__name__)
LEADER = "leader"


class LeaseStore(Protocol):
    """Implemented by clinx.cache.lease.MemoryLeases, clinx.cache.redis_lease.RedisLeases and
    clinx.store.repos.leases.DatabaseLeases (contract in clinx/cache/lease.py)."""

    async def acquire(self, name: str, holder: str, ttl: float) -> str | None: ...

    async def release(self, name: str, holder: str) -> None: ...

    async def holder(self, name: str) -> str | None: ...


class Leadership:
    def __init__(self, store: LeaseStore, node_id: str, *, ttl: float, jobs: JobRunner, eligible: bool = True) -> None:
        self.store = store
        self.node_id = node_id
        self.ttl = ttl
        self.jobs = jobs
        self.eligible = eligible
        self.leader = False
        self.holder: str | None = None  # as last seen; None = free or unknown

    async def step(self) -> None:
        """One attempt to take or renew the lease, starting or stopping the jobs to match the answer (a node
        that may not lead only looks who does)."""
        try:
            if not self.eligible:
                self.holder = await self.store.holder(LEADER)
                return
            holder = await self.store.acquire(LEADER, self.node_id, self.ttl)
        except Exception as exc:  # any backend failure (Redis or database): leadership can no longer be proven
            self.holder = None
            if self.leader:
                log.warning("leader lease could not be renewed (%s): stopping background jobs", exc)
                await self._step_down()
            return
        self.holder = holder
        if holder == self.node_id and not self.leader:
            self.leader = True
            log.info("node %s is now the leader: starting background jobs", self.node_id)
            self.jobs.start()
        elif holder != self.node_id and self.leader:
            log.warning("node %s lost the leader lease to %s: stopping background jobs", self.node_id, holder)
            await self._step_down()

    async def _step_down(self) -> None:
        self.leader = False
        await self.jobs.stop()

    async def run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.ttl / 3)

    async def resign(self) -> None:
        """Stop the jobs and hand the lease back (graceful shutdown)."""
        was_leader = self.leader
        await self._step_down()
        if not was_leader:
            return
        try:
            await self.store.release(LEADER, self.node_id)
        except Exception as exc:  # the lease then simply expires; shutdown goes on
            log.warning("leader lease not released (%s); it expires in %.0f s", exc, self.ttl)
        self.holder = None
