"""The ``logs`` table (on the log engine, possibly a separate database): writes, filtered pages, usage stats,
keyword search and batched deletion of old rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select

from clinx.core.enums import LogType
from clinx.store.rows import Page, Row, fetch_all, fetch_page
from clinx.store.tables import channels, logs

DELETE_BATCH = 1000
RATE_WINDOW = 60  # seconds counted by rpm / tpm
_LENGTHS = {c.name: n for c in logs.columns if isinstance(n := getattr(c.type, "length", None), int)}


@dataclass(frozen=True)
class LogFilter:
    """Narrowing criteria of a log query; zero / empty values mean "any"."""

    user_id: int = 0
    type: int = 0
    start_timestamp: int = 0
    end_timestamp: int = 0
    username: str = ""
    token_name: str = ""
    model_name: str = ""
    channel: int = 0
    group: str = ""
    request_id: str = ""
    upstream_request_id: str = ""

    def clauses(self, *, with_time: bool = True, with_type: bool = True) -> list[ColumnElement[bool]]:
        c = logs.c
        out: list[ColumnElement[bool]] = []
        if self.user_id:
            out.append(c.user_id == self.user_id)
        if with_type and self.type:
            out.append(c.type == self.type)
        if with_time and self.start_timestamp:
            out.append(c.created_at >= self.start_timestamp)
        if with_time and self.end_timestamp:
            out.append(c.created_at <= self.end_timestamp)
        if self.username:
            out.append(c.username == self.username)
        if self.token_name:
            out.append(c.token_name == self.token_name)
        if self.model_name:
            # New API matches with LIKE so callers may pass their own % wildcards.
            out.append(c.model_name.like(self.model_name))
        if self.channel:
            out.append(c.channel_id == self.channel)
        if self.group:
            out.append(c.group == self.group)
        if self.request_id:
            out.append(c.request_id == self.request_id)
        if self.upstream_request_id:
            out.append(c.upstream_request_id == self.upstream_request_id)
        return out


@dataclass(frozen=True)
class LogStat:
    quota: int
    rpm: int
    tpm: int


def _newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(logs.c.created_at.desc(), logs.c.id.desc())


def _fit(row: Mapping[str, Any]) -> dict[str, Any]:
    """Cut text to its column's length: on strict MySQL one overlong model name would fail a whole batch."""
    out = dict(row)
    for name, value in row.items():
        limit = _LENGTHS.get(name)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            out[name] = value[:limit]
    return out


async def insert_log(engine: AsyncEngine, values: Mapping[str, Any]) -> int:
    """Write one log row; returns its id."""
    async with engine.begin() as conn:
        result = await conn.execute(insert(logs).values(**_fit(values)))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def insert_many(engine: AsyncEngine, rows: Sequence[Mapping[str, Any]]) -> int:
    """Write many log rows in one transaction (the batched log writer); returns how many."""
    if not rows:
        return 0
    # One executemany per column set: a row that omits a column must get that column's table default.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(_fit(row))
    async with engine.begin() as conn:
        for batch in groups.values():
            await conn.execute(insert(logs), batch)
    return len(rows)


async def list_page(engine: AsyncEngine, criteria: LogFilter, page: int, page_size: int) -> Page:
    query = _newest_first(select(logs).where(*criteria.clauses()))
    async with engine.connect() as conn:
        return await fetch_page(conn, query, page, page_size)


async def list_for_token(
    engine: AsyncEngine, token_id: int, *, log_type: int = LogType.CONSUME, limit: int = 100
) -> list[Row]:
    """The newest ``limit`` rows of one API key (of ``log_type``; 0 = every type), newest first."""
    query = select(logs).where(logs.c.token_id == token_id)
    if log_type:
        query = query.where(logs.c.type == int(log_type))
    async with engine.connect() as conn:
        return await fetch_all(conn, _newest_first(query).limit(limit))


async def search(engine: AsyncEngine, keyword: str, page: int, page_size: int, *, user_id: int = 0) -> Page:
    """Rows whose token, model, user name or content contains ``keyword`` (a number also matches the type)."""
    query = select(logs)
    if user_id:
        query = query.where(logs.c.user_id == user_id)
    keyword = keyword.strip()
    if keyword:
        matches: list[ColumnElement[bool]] = [
            logs.c.token_name.contains(keyword, autoescape=True),
            logs.c.model_name.contains(keyword, autoescape=True),
            logs.c.username.contains(keyword, autoescape=True),
            logs.c.content.contains(keyword, autoescape=True),
        ]
        if keyword.isdigit():
            matches.append(logs.c.type == int(keyword))
        query = query.where(or_(*matches))
    async with engine.connect() as conn:
        return await fetch_page(conn, _newest_first(query), page, page_size)


async def stat(engine: AsyncEngine, criteria: LogFilter, now: int) -> LogStat:
    """Spend of consume rows within the filter; rpm / tpm over the last minute (time range ignored there)."""
    consume = logs.c.type == int(LogType.CONSUME)
    quota_q = select(func.coalesce(func.sum(logs.c.quota), 0)).where(consume, *criteria.clauses(with_type=False))
    recent = and_(consume, logs.c.created_at >= now - RATE_WINDOW, *criteria.clauses(with_time=False, with_type=False))
    rate_q = select(
        func.count(),
        func.coalesce(func.sum(logs.c.prompt_tokens), 0) + func.coalesce(func.sum(logs.c.completion_tokens), 0),
    ).where(recent)
    async with engine.connect() as conn:
        quota = (await conn.execute(quota_q)).scalar_one()
        rpm, tpm = (await conn.execute(rate_q)).one()
    return LogStat(quota=int(quota or 0), rpm=int(rpm or 0), tpm=int(tpm or 0))


async def delete_before(engine: AsyncEngine, target_timestamp: int, *, batch: int = DELETE_BATCH) -> int:
    """Delete rows created before ``target_timestamp``, ``batch`` rows per transaction so a huge table is never
    locked for long; returns how many were deleted."""
    total = 0
    while True:
        async with engine.begin() as conn:
            ids = (
                (
                    await conn.execute(
                        select(logs.c.id).where(logs.c.created_at < target_timestamp).order_by(logs.c.id).limit(batch)
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return total
            result = await conn.execute(delete(logs).where(logs.c.id.in_(ids)))
        total += int(result.rowcount or 0)
        if len(ids) < batch:
            return total


async def channel_names(main: AsyncEngine, channel_ids: Iterable[int]) -> dict[int, str]:
    """Names of the given channels, read from the main database (logs may live elsewhere, so no join)."""
    wanted = sorted({int(i) for i in channel_ids if i})
    if not wanted:
        return {}
    async with main.connect() as conn:
        rows = await fetch_all(conn, select(channels.c.id, channels.c.name).where(channels.c.id.in_(wanted)))
    return {int(r["id"]): str(r["name"] or "") for r in rows}
