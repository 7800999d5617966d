"""The ``setups`` table: whether first-run setup has been done."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clinx.core.enums import Role
from clinx.store.rows import alive
from clinx.store.tables import setups, users


async def is_done(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return bool((await conn.execute(select(func.count()).select_from(setups))).scalar_one())


async def mark_done(conn: AsyncConnection, version: str, now: int) -> None:
    await conn.execute(insert(setups).values(version=version, initialized_at=now))


async def adopt_existing_root(engine: AsyncEngine, version: str, now: int) -> bool:
    """A One API / New API database with a root user but no setups row counts as set up."""
    async with engine.begin() as conn:
        if (await conn.execute(select(func.count()).select_from(setups))).scalar_one():
            return False
        root = (
            await conn.execute(
                select(func.count()).select_from(users).where(users.c.role == int(Role.ROOT), alive(users))
            )
        ).scalar_one()
        if not root:
            return False
        await mark_done(conn, version, now)
        return True
