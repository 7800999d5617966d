"""The ``quota_data`` table: hourly usage buckets per (user, username, model) for the dashboard charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clinx.store.rows import Row, fetch_all
from clinx.store.tables import quota_data

BUCKET_SECONDS = 3600
_COUNTERS = ("token_used", "count", "quota")
_EXTRA = ("use_group", "token_id", "channel_id", "node_name")
_NAME_LENGTH = 64  # username / model_name are varchar(64) in New API's schema

BucketKey = tuple[int, str, str, int]


def hour_bucket(timestamp: int) -> int:
    return timestamp - timestamp % BUCKET_SECONDS


def _merge(rows: Sequence[Mapping[str, Any]]) -> dict[BucketKey, dict[str, Any]]:
    """Fold input rows sharing a bucket key into one, so each key is written once."""
    merged: dict[BucketKey, dict[str, Any]] = {}
    for row in rows:
        key = (
            int(row["user_id"]),
            str(row.get("username") or "")[:_NAME_LENGTH],  # longer names would fail the whole flush on MySQL
            str(row.get("model_name") or "")[:_NAME_LENGTH],
            hour_bucket(int(row["created_at"])),
        )
        into = merged.get(key)
        if into is None:
            into = {"user_id": key[0], "username": key[1], "model_name": key[2], "created_at": key[3]}
            into.update({name: 0 for name in _COUNTERS})
            into.update({name: row[name] for name in _EXTRA if row.get(name) is not None})
            merged[key] = into
        for name in _COUNTERS:
            into[name] += int(row.get(name) or 0)
    return merged


async def _accumulate(conn: AsyncConnection, key: BucketKey, values: dict[str, Any]) -> None:
    c = quota_data.c
    user_id, username, model_name, created_at = key
    # New API's schema has no unique key on these columns, so it is select-then-update-or-insert. The update adds
    # in SQL, so concurrent flushes (other nodes) never lose counts; no row lock, so no MySQL gap-lock deadlocks.
    found = (
        await conn.execute(
            select(c.id)
            .where(c.user_id == user_id, c.username == username, c.model_name == model_name, c.created_at == created_at)
            .order_by(c.id)
            .limit(1)
        )
    ).scalar()
    if found is None:
        await conn.execute(insert(quota_data).values(**values))
        return
    await conn.execute(
        update(quota_data).where(c.id == found).values(**{name: getattr(c, name) + values[name] for name in _COUNTERS})
    )


async def add_buckets(engine: AsyncEngine, rows: Sequence[Mapping[str, Any]]) -> int:
    """Accumulate usage rows (``user_id, username, model_name, created_at`` any second, ``token_used, count,
    quota``) into their hour buckets in one transaction; returns how many buckets were touched."""
    merged = _merge(rows)
    if not merged:
        return 0
    async with engine.begin() as conn:
        for key in sorted(merged):  # a stable order keeps concurrent flushes from deadlocking each other
            await _accumulate(conn, key, merged[key])
    return len(merged)


async def for_user(engine: AsyncEngine, user_id: int, start: int, end: int) -> list[Row]:
    c = quota_data.c
    query = (
        select(quota_data)
        .where(c.user_id == user_id, c.created_at >= start, c.created_at <= end)
        .order_by(c.created_at, c.id)
    )
    async with engine.connect() as conn:
        return await fetch_all(conn, query)


async def for_username(engine: AsyncEngine, username: str, start: int, end: int) -> list[Row]:
    c = quota_data.c
    query = (
        select(quota_data)
        .where(c.username == username, c.created_at >= start, c.created_at <= end)
        .order_by(c.created_at, c.id)
    )
    async with engine.connect() as conn:
        return await fetch_all(conn, query)


async def totals_by_model(engine: AsyncEngine, start: int, end: int) -> list[Row]:
    """All users together: one row per (model, hour), as New API's admin dashboard without a user filter."""
    c = quota_data.c
    query = (
        select(
            c.model_name,
            c.created_at,
            func.sum(c.count).label("count"),
            func.sum(c.quota).label("quota"),
            func.sum(c.token_used).label("token_used"),
        )
        .where(c.created_at >= start, c.created_at <= end)
        .group_by(c.model_name, c.created_at)
        .order_by(c.created_at, c.model_name)
    )
    async with engine.connect() as conn:
        return await fetch_all(conn, query)
