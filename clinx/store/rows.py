"""Row helpers shared by the repositories: dict rows, pages, dialect-aware upsert, soft-delete filter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

Row = dict[str, Any]


@dataclass(frozen=True)
class Page:
    items: list[Row]
    total: int
    page: int
    page_size: int


def alive(table: Table) -> ColumnElement[bool]:
    """Soft-deleted rows (users, tokens, redemptions) are invisible to every query."""
    return table.c.deleted_at.is_(None)


async def fetch_page(conn: AsyncConnection, query: Select[Any], page: int, page_size: int) -> Page:
    total = (await conn.execute(select(func.count()).select_from(query.order_by(None).subquery()))).scalar_one()
    offset = (page - 1) * page_size
    rows = (await conn.execute(query.limit(page_size).offset(offset))).mappings().all()
    return Page([dict(r) for r in rows], int(total), page, page_size)


async def fetch_one(conn: AsyncConnection, query: Select[Any]) -> Row | None:
    row = (await conn.execute(query)).mappings().first()
    return dict(row) if row is not None else None


async def fetch_all(conn: AsyncConnection, query: Select[Any]) -> list[Row]:
    return [dict(r) for r in (await conn.execute(query)).mappings().all()]


async def upsert(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Mapping[str, Any],
) -> None:
    """Insert ``values``, or on a conflict on ``keys`` apply ``update`` (values or SQL expressions)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        pg = pg_insert(table).values(**values)
        await conn.execute(pg.on_conflict_do_update(index_elements=list(keys), set_=dict(update)))
    elif dialect == "sqlite":
        lite = sqlite_insert(table).values(**values)
        await conn.execute(lite.on_conflict_do_update(index_elements=list(keys), set_=dict(update)))
    else:
        my = mysql_insert(table).values(**values)
        await conn.execute(my.on_duplicate_key_update(**update))


def page_args(p: int | None, page_size: int | None, *, default_size: int = 10, max_size: int = 100) -> tuple[int, int]:
    """New API paging: ``p`` 1-based, ``p=0`` (classic 0-based first page) means page 1."""
    page = max(int(p or 1), 1)
    size = int(page_size or default_size)
    size = max(1, min(size, max_size))
    return page, size
