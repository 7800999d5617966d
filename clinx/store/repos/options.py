"""The ``options`` table: all stored option strings, and single-key writes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from clinx.store.rows import upsert
from clinx.store.tables import options


async def load_all(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(options.c.key, options.c.value))).all()
    return {key: value or "" for key, value in rows}


async def save(engine: AsyncEngine, values: dict[str, str]) -> None:
    """Write several options in one transaction: all or none."""
    async with engine.begin() as conn:
        for key, value in values.items():
            await upsert(conn, options, {"key": key, "value": value}, ["key"], {"value": value})
