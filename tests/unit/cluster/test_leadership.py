"""Leadership over the in-process lease (time injected): exactly one node runs the jobs, a node that cannot
renew stops them, a graceful resignation hands over at once, and a slave never leads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from clinx.cache.lease import MemoryLeases
from clinx.cluster.jobs import Job, JobRunner
from clinx.cluster.leader import LEADER, Leadership

TTL = 15.0


@dataclass
class Clock:
    seconds: float = 100.0

    def __call__(self) -> float:
        return self.seconds


@dataclass
class Forever:
    """A job that runs until cancelled, recording that it started and that it was stopped."""

    started: int = 0
    cancelled: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self) -> None:
        self.started += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


def node(leases: MemoryLeases, name: str, work: Forever, *, eligible: bool = True) -> Leadership:
    jobs = JobRunner([Job("work", lambda: 60.0, work, at_start=True)])
    return Leadership(leases, name, ttl=TTL, jobs=jobs, eligible=eligible)


async def until(condition: Forever, started: int) -> None:
    for _ in range(1000):
        if condition.started >= started:
            return
        await asyncio.sleep(0)
    raise AssertionError("the job never started")


class FailingLeases(MemoryLeases):
    broken = False

    async def acquire(self, name: str, holder: str, ttl: float) -> str | None:
        if self.broken:
            raise ConnectionError("lease backend down")
        return await super().acquire(name, holder, ttl)


async def test_exactly_one_node_leads_and_runs_the_jobs() -> None:
    leases = MemoryLeases(now=Clock())
    work_a, work_b = Forever(), Forever()
    a, b = node(leases, "a", work_a), node(leases, "b", work_b)
    await a.step()
    await b.step()
    await until(work_a, 1)
    assert (a.leader, b.leader) == (True, False)
    assert a.holder == b.holder == "a"
    assert a.jobs.running and not b.jobs.running and work_b.started == 0
    await a.step()  # renewing does not start the jobs twice
    assert a.leader and work_a.started == 1
    await a.resign()
    await b.resign()


async def test_graceful_resignation_hands_over_at_the_next_attempt() -> None:
    leases = MemoryLeases(now=Clock())
    work_a, work_b = Forever(), Forever()
    a, b = node(leases, "a", work_a), node(leases, "b", work_b)
    await a.step()
    await until(work_a, 1)
    await a.resign()
    assert not a.leader and not a.jobs.running and work_a.cancelled == 1
    assert await leases.holder(LEADER) is None  # released, not left to expire
    await b.step()
    await until(work_b, 1)
    assert b.leader and b.holder == "b"
    await b.resign()


async def test_a_node_that_lost_the_lease_stops_its_jobs() -> None:
    clock = Clock()
    leases = MemoryLeases(now=clock)
    work_a, work_b = Forever(), Forever()
    a, b = node(leases, "a", work_a), node(leases, "b", work_b)
    await a.step()
    await until(work_a, 1)
    clock.seconds += TTL + 1  # a was stalled past its lease: b takes over
    await b.step()
    await a.step()
    assert b.leader and not a.leader
    assert work_a.cancelled == 1 and not a.jobs.running and a.holder == "b"
    await b.resign()


async def test_a_failed_renewal_stops_the_jobs_and_a_later_success_restarts_them() -> None:
    leases = FailingLeases(now=Clock())
    work = Forever()
    a = node(leases, "a", work)
    await a.step()
    await until(work, 1)
    leases.broken = True
    await a.step()
    assert not a.leader and a.holder is None and work.cancelled == 1
    leases.broken = False
    await a.step()
    await until(work, 2)
    assert a.leader
    await a.resign()


async def test_a_slave_never_leads_but_sees_the_leader() -> None:
    leases = MemoryLeases(now=Clock())
    work_master, work_slave = Forever(), Forever()
    slave = node(leases, "slave", work_slave, eligible=False)
    await slave.step()
    assert not slave.leader and slave.holder is None and await leases.holder(LEADER) is None
    master = node(leases, "master", work_master)
    await master.step()
    await slave.step()
    assert slave.holder == "master" and not slave.leader and work_slave.started == 0
    await master.resign()
