"""Leases in the ``clinx_leases`` table, for deployments without Redis (the contract is in
``clinx/cache/lease.py``). One atomic UPDATE takes an expired lease or extends our own; the first use of a name
INSERTs its row, and of two nodes inserting at once the primary key lets exactly one win.

Expiry times are epoch milliseconds from the nodes' own clocks: keep them in sync (NTP) to well under the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from clinx.store.tables import clinx_leases as leases


def _epoch_ms() -> int:
    return int(time.time() * 1000)


class DatabaseLeases:
    def __init__(self, engine: AsyncEngine, *, now_ms: Callable[[], int] = _epoch_ms) -> None:
        self._engine = engine
        self._now_ms = now_ms

    async def acquire(self, name: str, holder: str, ttl: float) -> str | None:
        now = self._now_ms()
        until = now + max(1, int(ttl * 1000))
        c = leases.c
        take = (
            update(leases)
            .where(c.name == name, or_(c.holder == holder, c.expires_at < now))
            .values(holder=holder, expires_at=until)
        )
        async with self._engine.begin() as conn:
            taken = (await conn.execute(take)).rowcount
        if taken:
            return holder
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(c.holder, c.expires_at).where(c.name == name))).one_or_none()
        if row is not None:  # held by another node (an expired row would have been taken above)
            return str(row.holder) if row.expires_at >= now else None
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(leases).values(name=name, holder=holder, expires_at=until))
            return holder
        except IntegrityError:  # another node inserted the first row at the same moment, and won
            return await self.holder(name)

    async def release(self, name: str, holder: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))

    async def holder(self, name: str) -> str | None:
        query = select(leases.c.holder).where(leases.c.name == name, leases.c.expires_at >= self._now_ms())
        async with self._engine.connect() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return None if found is None else str(found)
