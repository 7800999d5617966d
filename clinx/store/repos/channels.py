"""The ``channels`` table (upstream providers). Every write changes the channel and its abilities in one
transaction, so the routing index never disagrees with the channels it was built from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clinx.core.enums import ChannelStatus
from clinx.store.repos import abilities as abilities_repo
from clinx.store.rows import Page, Row, fetch_all, fetch_one, fetch_page
from clinx.store.tables import channels

_PUBLIC_COLUMNS = [c for c in channels.c if c.name != "key"]
_DISABLED = (int(ChannelStatus.MANUALLY_DISABLED), int(ChannelStatus.AUTO_DISABLED))


@dataclass(frozen=True)
class ChannelQuery:
    """List filters. ``status``: 1 = enabled only, 0 = every channel not enabled, None = all."""

    status: int | None = None
    type: int | None = None
    id_sort: bool = False
    keyword: str = ""
    group: str = ""
    model: str = ""
    tag_mode: bool = False


@dataclass(frozen=True)
class ChannelPage:
    page: Page
    type_counts: dict[int, int] = field(default_factory=dict)


def _ordered(query: Select[Any], id_sort: bool) -> Select[Any]:
    if id_sort:
        return query.order_by(channels.c.id.desc())
    return query.order_by(channels.c.priority.desc(), channels.c.id.desc())


def _status_clause(status: int | None) -> list[ColumnElement[bool]]:
    if status is None:
        return []
    if status == ChannelStatus.ENABLED:
        return [channels.c.status == int(ChannelStatus.ENABLED)]
    return [channels.c.status != int(ChannelStatus.ENABLED)]


def _search_clauses(q: ChannelQuery) -> list[ColumnElement[bool]]:
    clauses = _status_clause(q.status)
    if q.keyword and q.tag_mode:
        clauses.append(channels.c.tag.like(f"%{q.keyword}%"))
    elif q.keyword:
        like = f"%{q.keyword}%"
        matches: list[ColumnElement[bool]] = [
            channels.c.name.like(like),
            channels.c.base_url.like(like),
            channels.c.tag.like(like),
        ]
        if q.keyword.isdigit() and int(q.keyword) < 2**31:  # beyond the id column's range nothing can match
            matches.append(channels.c.id == int(q.keyword))
        clauses.append(or_(*matches))
    if q.group and q.group != "null":
        # ``group`` is a comma list: match whole names only (",a,b," LIKE "%,b,%").
        clauses.append((literal(",") + channels.c.group + literal(",")).like(f"%,{q.group},%"))
    if q.model:
        clauses.append(channels.c.models.like(f"%{q.model}%"))
    return clauses


async def _type_counts(conn: AsyncConnection, clauses: list[ColumnElement[bool]]) -> dict[int, int]:
    query = select(channels.c.type, func.count()).where(*clauses).group_by(channels.c.type)
    return {int(t or 0): int(n) for t, n in (await conn.execute(query)).all()}


async def _tag_page(conn: AsyncConnection, q: ChannelQuery, page: int, page_size: int) -> Page:
    """Tag mode: page over distinct non-empty tags and list every matching channel of the page's tags."""
    tag_filter = [channels.c.tag.is_not(None), channels.c.tag != ""]
    if q.keyword:
        tag_filter.append(channels.c.tag.like(f"%{q.keyword}%"))
    tags_query = select(channels.c.tag).where(*tag_filter).distinct()
    total = (await conn.execute(select(func.count()).select_from(tags_query.subquery()))).scalar_one()
    offset = (page - 1) * page_size
    tags = list((await conn.execute(tags_query.order_by(channels.c.tag).limit(page_size).offset(offset))).scalars())
    if not tags:
        return Page([], int(total), page, page_size)
    clauses = [channels.c.tag.in_(tags), *_search_clauses(ChannelQuery(status=q.status, group=q.group, model=q.model))]
    if q.type is not None:
        clauses.append(channels.c.type == q.type)
    query = select(*_PUBLIC_COLUMNS).where(*clauses)
    query = _ordered(query.order_by(channels.c.tag), q.id_sort)
    return Page(await fetch_all(conn, query), int(total), page, page_size)


async def list_page(engine: AsyncEngine, q: ChannelQuery, page: int, page_size: int) -> ChannelPage:
    """Channels without their key, plus per-type counts (which ignore the type filter, as New API's)."""
    clauses = _search_clauses(q)
    async with engine.connect() as conn:
        counts = await _type_counts(conn, clauses)
        if q.tag_mode:
            return ChannelPage(await _tag_page(conn, q, page, page_size), counts)
        if q.type is not None:
            clauses = [*clauses, channels.c.type == q.type]
        query = _ordered(select(*_PUBLIC_COLUMNS).where(*clauses), q.id_sort)
        return ChannelPage(await fetch_page(conn, query, page, page_size), counts)


async def get(engine: AsyncEngine, channel_id: int) -> Row | None:
    """The full row, key included: for the relay and for root only."""
    async with engine.connect() as conn:
        return await fetch_one(conn, select(channels).where(channels.c.id == channel_id))


async def all_enabled(engine: AsyncEngine) -> list[Row]:
    """Every enabled channel, key included: what the in-memory channel index is built from."""
    async with engine.connect() as conn:
        query = select(channels).where(channels.c.status == int(ChannelStatus.ENABLED)).order_by(channels.c.id)
        return await fetch_all(conn, query)


async def _get(conn: AsyncConnection, channel_id: int) -> Row | None:
    return await fetch_one(conn, select(channels).where(channels.c.id == channel_id))


async def model_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        found = (await conn.execute(select(channels.c.models))).scalars()
        return {name for models in found for name in abilities_repo.split_list(models)}


async def _insert(conn: AsyncConnection, values: Row) -> int:
    result = await conn.execute(insert(channels).values(**values))
    channel_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    row = await _get(conn, channel_id)
    assert row is not None
    await abilities_repo.rebuild_for_channel(conn, row)
    return channel_id


async def create_many(engine: AsyncEngine, rows: Sequence[Row]) -> list[int]:
    """Insert channels and their abilities, all or nothing."""
    async with engine.begin() as conn:
        return [await _insert(conn, values) for values in rows]


async def update_fields(engine: AsyncEngine, channel_id: int, values: Row) -> Row | None:
    """Write the given columns and rebuild the channel's abilities; answers the new row, None if absent."""
    async with engine.begin() as conn:
        if values:
            result = await conn.execute(update(channels).where(channels.c.id == channel_id).values(**values))
            if not result.rowcount:
                return None
        row = await _get(conn, channel_id)
        if row is not None:
            await abilities_repo.rebuild_for_channel(conn, row)
        return row


async def set_status(engine: AsyncEngine, channel_id: int, status: int) -> bool:
    async with engine.begin() as conn:
        result = await conn.execute(update(channels).where(channels.c.id == channel_id).values(status=status))
        if not result.rowcount:
            return False
        await abilities_repo.set_enabled(conn, [channel_id], status == ChannelStatus.ENABLED)
        return True


async def auto_disable(engine: AsyncEngine, channel_id: int, reason: str, now: int) -> bool:
    """Disable an enabled channel automatically (status 3), noting why and when in ``other_info`` as New API
    does; a channel already disabled keeps its status. Answers whether it changed."""
    async with engine.begin() as conn:
        row = await _get(conn, channel_id)
        if row is None or int(row.get("status") or 0) != ChannelStatus.ENABLED:
            return False
        info = _json_object(row.get("other_info"))
        info.update(status_reason=reason, status_time=now)
        result = await conn.execute(
            update(channels)
            .where(channels.c.id == channel_id, channels.c.status == int(ChannelStatus.ENABLED))
            .values(status=int(ChannelStatus.AUTO_DISABLED), other_info=json.dumps(info, ensure_ascii=False))
        )
        if not result.rowcount:
            return False
        await abilities_repo.set_enabled(conn, [channel_id], False)
        return True


def _json_object(raw: Any) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def delete_many(engine: AsyncEngine, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    async with engine.begin() as conn:
        result = await conn.execute(delete(channels).where(channels.c.id.in_(list(ids))))
        await abilities_repo.delete_for_channels(conn, ids)
        return int(result.rowcount)


async def delete_disabled(engine: AsyncEngine) -> int:
    """Delete every manually or automatically disabled channel; answers how many."""
    async with engine.begin() as conn:
        ids = list((await conn.execute(select(channels.c.id).where(channels.c.status.in_(_DISABLED)))).scalars())
        if not ids:
            return 0
        await conn.execute(delete(channels).where(channels.c.id.in_(ids)))
        await abilities_repo.delete_for_channels(conn, ids)
        return len(ids)


async def _ids_with_tag(conn: AsyncConnection, tag: str) -> list[int]:
    return [int(i) for i in (await conn.execute(select(channels.c.id).where(channels.c.tag == tag))).scalars()]


async def _rewrite(conn: AsyncConnection, ids: Sequence[int], values: Row) -> None:
    """Write ``values`` to the channels ``ids`` and rebuild their abilities."""
    if not ids:
        return
    if values:
        await conn.execute(update(channels).where(channels.c.id.in_(list(ids))).values(**values))
    for row in await fetch_all(conn, select(channels).where(channels.c.id.in_(list(ids)))):
        await abilities_repo.rebuild_for_channel(conn, row)


async def set_tag(engine: AsyncEngine, ids: Sequence[int], tag: str | None) -> int:
    async with engine.begin() as conn:
        query = select(channels.c.id).where(channels.c.id.in_(list(ids)))
        found = [int(i) for i in (await conn.execute(query)).scalars()]
        await _rewrite(conn, found, {"tag": tag})
        return len(found)


async def edit_by_tag(engine: AsyncEngine, tag: str, values: Row) -> int:
    """Apply ``values`` to every channel carrying ``tag`` (``values`` may rename the tag); answers how many."""
    async with engine.begin() as conn:
        ids = await _ids_with_tag(conn, tag)
        await _rewrite(conn, ids, values)
        return len(ids)


async def copy(engine: AsyncEngine, channel_id: int, changes: Row) -> int | None:
    """Duplicate a channel (key included) with ``changes`` applied, and its abilities; answers the new id."""
    async with engine.begin() as conn:
        origin = await _get(conn, channel_id)
        if origin is None:
            return None
        origin.pop("id")
        return await _insert(conn, {**origin, **changes})


async def rebuild_abilities(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        return await abilities_repo.rebuild_all(conn)


async def all_channels(engine: AsyncEngine) -> list[Row]:
    """Every channel whatever its status, key included, by id: what test-all and balance-all walk over."""
    async with engine.connect() as conn:
        return await fetch_all(conn, select(channels).order_by(channels.c.id))


async def record_test(engine: AsyncEngine, channel_id: int, response_time_ms: int, now: int) -> None:
    """Note the latency of a channel test and when it ran."""
    async with engine.begin() as conn:
        await conn.execute(
            update(channels)
            .where(channels.c.id == channel_id)
            .values(response_time=max(0, response_time_ms), test_time=now)
        )


async def set_balance(engine: AsyncEngine, channel_id: int, balance: float, now: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(channels).where(channels.c.id == channel_id).values(balance=balance, balance_updated_time=now)
        )


async def enable_if_auto_disabled(engine: AsyncEngine, channel_id: int) -> bool:
    """Re-enable a channel the gateway disabled itself (status 3) and its abilities; a channel disabled by hand
    stays off. Answers whether it changed."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(channels)
            .where(channels.c.id == channel_id, channels.c.status == int(ChannelStatus.AUTO_DISABLED))
            .values(status=int(ChannelStatus.ENABLED))
        )
        if not result.rowcount:
            return False
        await abilities_repo.set_enabled(conn, [channel_id], True)
        return True
