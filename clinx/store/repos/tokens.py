"""The ``tokens`` table: users' API keys, always scoped to their owner; soft-deleted keys are invisible."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from clinx.core.errors import ConflictError
from clinx.store.rows import Page, Row, alive, fetch_all, fetch_one, fetch_page
from clinx.store.tables import tokens


async def create(conn: AsyncConnection, values: dict[str, Any]) -> int:
    try:
        result = await conn.execute(insert(tokens).values(**values))
    except IntegrityError as exc:
        # Only the unique key can clash; 48 random characters make that a fluke worth a retry.
        raise ConflictError("生成令牌失败，请重试 (the generated key already exists; try again)") from exc
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def count_for_user(conn: AsyncConnection, user_id: int) -> int:
    query = select(func.count()).select_from(tokens).where(tokens.c.user_id == user_id, alive(tokens))
    return int((await conn.execute(query)).scalar_one())


async def get_for_user(conn: AsyncConnection, token_id: int, user_id: int) -> Row | None:
    query = select(tokens).where(tokens.c.id == token_id, tokens.c.user_id == user_id, alive(tokens))
    return await fetch_one(conn, query)


async def get_by_key(conn: AsyncConnection, key: str) -> Row | None:
    """The live token with this key (without ``sk-``), whatever its status; for the relay's key check."""
    if not key:
        return None
    row = await fetch_one(conn, select(tokens).where(tokens.c.key == key, alive(tokens)))
    # MySQL's default collation compares case-insensitively; a key differing in case is not the key.
    return row if row is not None and row["key"] == key else None


async def list_for_user(conn: AsyncConnection, user_id: int, page: int, page_size: int) -> Page:
    query = select(tokens).where(tokens.c.user_id == user_id, alive(tokens)).order_by(tokens.c.id.desc())
    return await fetch_page(conn, query, page, page_size)


async def search_for_user(
    conn: AsyncConnection, user_id: int, keyword: str, key_fragment: str, page: int, page_size: int
) -> Page:
    """Tokens whose name contains ``keyword`` and whose key contains ``key_fragment`` (empty = any).

    The user's text is matched literally: ``%`` and ``_`` are escaped, not wildcards.
    """
    query = select(tokens).where(tokens.c.user_id == user_id, alive(tokens))
    if keyword:
        query = query.where(tokens.c.name.contains(keyword, autoescape=True))
    if key_fragment:
        query = query.where(tokens.c.key.contains(key_fragment, autoescape=True))
    return await fetch_page(conn, query.order_by(tokens.c.id.desc()), page, page_size)


async def update_fields(conn: AsyncConnection, token_id: int, user_id: int, values: dict[str, Any]) -> bool:
    query = update(tokens).where(tokens.c.id == token_id, tokens.c.user_id == user_id, alive(tokens)).values(**values)
    return bool((await conn.execute(query)).rowcount)


async def set_status(conn: AsyncConnection, token_id: int, user_id: int, status: int) -> bool:
    return await update_fields(conn, token_id, user_id, {"status": status})


async def keys_for_user(conn: AsyncConnection, user_id: int, ids: Sequence[int]) -> dict[int, str]:
    """Full keys of the caller's own live tokens among ``ids``; other users' ids are silently left out."""
    if not ids:
        return {}
    query = select(tokens.c.id, tokens.c.key).where(
        tokens.c.id.in_(list(ids)), tokens.c.user_id == user_id, alive(tokens)
    )
    return {int(r["id"]): str(r["key"]) for r in await fetch_all(conn, query)}


async def soft_delete_many(conn: AsyncConnection, user_id: int, ids: Sequence[int]) -> list[str]:
    """Soft-delete the caller's own live tokens among ``ids``; answers the keys deleted (to drop from caches)."""
    found = await keys_for_user(conn, user_id, ids)
    if not found:
        return []
    await conn.execute(
        update(tokens)
        .where(tokens.c.id.in_(list(found)), tokens.c.user_id == user_id, alive(tokens))
        .values(deleted_at=datetime.now(UTC).replace(tzinfo=None))
    )
    return list(found.values())
