"""The ``abilities`` routing index: one row per (group × model) of each channel, kept in step with ``channels``.

Every writer here takes an open connection so the caller can change a channel and its abilities in one
transaction; readers take the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clinx.core.enums import ChannelStatus
from clinx.store.rows import Row, fetch_all
from clinx.store.tables import abilities, channels

CHUNK = 50  # New API inserts abilities 50 at a time


def split_list(value: Any) -> list[str]:
    """A comma list (``models``, ``group``) as trimmed, non-empty, de-duplicated names in their order."""
    seen: dict[str, None] = {}
    for part in str(value or "").split(","):
        name = part.strip()
        if name:
            seen.setdefault(name, None)
    return list(seen)


def rows_for_channel(channel: Mapping[str, Any]) -> list[Row]:
    """The abilities a channel row implies: enabled mirrors status 1; priority, weight and tag are copied."""
    enabled = int(channel.get("status") or 0) == ChannelStatus.ENABLED
    return [
        {
            "group": group,
            "model": model,
            "channel_id": int(channel["id"]),
            "enabled": enabled,
            "priority": int(channel.get("priority") or 0),
            "weight": int(channel.get("weight") or 0),
            "tag": channel.get("tag"),
        }
        for group in split_list(channel.get("group"))
        for model in split_list(channel.get("models"))
    ]


def _insert_ignore(conn: AsyncConnection) -> Insert:
    # Case-insensitive MySQL collations can make two spellings one key: skip the duplicate, as New API does.
    dialect = conn.dialect.name
    if dialect == "mysql":
        return insert(abilities).prefix_with("IGNORE")
    if dialect == "sqlite":
        return insert(abilities).prefix_with("OR IGNORE")
    return pg_insert(abilities).on_conflict_do_nothing()


async def insert_rows(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    statement = _insert_ignore(conn)
    for start in range(0, len(rows), CHUNK):
        await conn.execute(statement, list(rows[start : start + CHUNK]))


async def delete_for_channels(conn: AsyncConnection, ids: Iterable[int]) -> None:
    id_list = list(ids)
    if id_list:
        await conn.execute(delete(abilities).where(abilities.c.channel_id.in_(id_list)))


async def rebuild_for_channel(conn: AsyncConnection, channel: Mapping[str, Any]) -> None:
    """Replace the channel's abilities with the ones its current row implies."""
    await delete_for_channels(conn, [int(channel["id"])])
    await insert_rows(conn, rows_for_channel(channel))


async def rebuild_all(conn: AsyncConnection) -> int:
    """Rebuild the whole table from ``channels``; answers the number of channels indexed."""
    await conn.execute(delete(abilities))
    found = await fetch_all(
        conn,
        select(
            channels.c.id, channels.c.status, channels.c.group, channels.c.models, channels.c.priority,
            channels.c.weight, channels.c.tag,
        ).order_by(channels.c.id),
    )  # fmt: skip
    rows = [ability for channel in found for ability in rows_for_channel(channel)]
    await insert_rows(conn, rows)
    return len(found)


async def set_enabled(conn: AsyncConnection, channel_ids: Iterable[int], enabled: bool) -> None:
    id_list = list(channel_ids)
    if id_list:
        await conn.execute(update(abilities).where(abilities.c.channel_id.in_(id_list)).values(enabled=enabled))


async def list_for_channel(engine: AsyncEngine, channel_id: int) -> list[Row]:
    async with engine.connect() as conn:
        return await fetch_all(
            conn,
            select(abilities)
            .where(abilities.c.channel_id == channel_id)
            .order_by(abilities.c.group, abilities.c.model),
        )


async def list_enabled(engine: AsyncEngine) -> list[Row]:
    """Enabled abilities (group, model, channel_id, priority, weight, tag): what the in-memory router indexes."""
    query = (
        select(
            abilities.c.group, abilities.c.model, abilities.c.channel_id, abilities.c.priority,
            abilities.c.weight, abilities.c.tag,
        )
        .where(abilities.c.enabled.is_(True))
        .order_by(abilities.c.group, abilities.c.model, abilities.c.priority.desc(), abilities.c.channel_id)
    )  # fmt: skip
    async with engine.connect() as conn:
        return await fetch_all(conn, query)


async def models_enabled(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        result = await conn.execute(select(abilities.c.model).where(abilities.c.enabled.is_(True)).distinct())
        return sorted({str(name) for name in result.scalars()})
