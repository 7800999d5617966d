"""The ``users`` table: accounts, wallets and their atomic quota updates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, cast, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import String

from clinx.core.errors import ConflictError
from clinx.store.rows import Page, Row, alive, fetch_one, fetch_page
from clinx.store.tables import users


async def get(engine: AsyncEngine, user_id: int) -> Row | None:
    async with engine.connect() as conn:
        return await fetch_one(conn, select(users).where(users.c.id == user_id, alive(users)))


async def get_by_username(engine: AsyncEngine, username: str) -> Row | None:
    async with engine.connect() as conn:
        return await fetch_one(conn, select(users).where(users.c.username == username, alive(users)))


async def get_by_access_token(engine: AsyncEngine, token: str) -> Row | None:
    if not token:
        return None
    async with engine.connect() as conn:
        return await fetch_one(conn, select(users).where(users.c.access_token == token, alive(users)))


async def get_by_aff_code(engine: AsyncEngine, code: str) -> Row | None:
    async with engine.connect() as conn:
        return await fetch_one(conn, select(users).where(users.c.aff_code == code, alive(users)))


async def username_taken(conn: AsyncConnection, username: str) -> bool:
    # Soft-deleted users keep their name (the unique index still holds it), as in New API.
    found = await conn.execute(select(users.c.id).where(users.c.username == username))
    return found.first() is not None


async def create(conn: AsyncConnection, values: dict[str, Any]) -> int:
    if await username_taken(conn, values["username"]):
        raise ConflictError("用户名已存在 (username already exists)")
    try:
        result = await conn.execute(insert(users).values(**values))
    except IntegrityError as exc:
        raise ConflictError("用户名已存在 (username already exists)") from exc
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def update_fields(engine: AsyncEngine, user_id: int, values: dict[str, Any]) -> bool:
    async with engine.begin() as conn:
        try:
            result = await conn.execute(update(users).where(users.c.id == user_id, alive(users)).values(**values))
        except IntegrityError as exc:
            raise ConflictError("用户名已存在 (username already exists)") from exc
    return bool(result.rowcount)


async def soft_delete(engine: AsyncEngine, user_id: int) -> bool:
    async with engine.begin() as conn:
        result = await conn.execute(
            update(users)
            .where(users.c.id == user_id, alive(users))
            .values(deleted_at=datetime.now(UTC).replace(tzinfo=None), access_token=None)
        )
    return bool(result.rowcount)


async def list_page(engine: AsyncEngine, page: int, page_size: int) -> Page:
    async with engine.connect() as conn:
        return await fetch_page(conn, select(users).where(alive(users)).order_by(users.c.id.desc()), page, page_size)


async def search(engine: AsyncEngine, keyword: str, group: str, page: int, page_size: int) -> Page:
    query = select(users).where(alive(users))
    if keyword:
        like = f"%{keyword}%"
        clauses: list[ColumnElement[bool]] = [
            users.c.username.like(like),
            users.c.email.like(like),
            users.c.display_name.like(like),
        ]
        if keyword.isdigit():
            clauses.append(users.c.id == int(keyword))
        else:
            clauses.append(cast(users.c.id, String) == keyword)
        query = query.where(or_(*clauses))
    if group:
        query = query.where(users.c.group == group)
    async with engine.connect() as conn:
        return await fetch_page(conn, query.order_by(users.c.id.desc()), page, page_size)


async def add_quota(conn: AsyncConnection, user_id: int, delta: int) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(quota=users.c.quota + delta))


async def change_quota(engine: AsyncEngine, user_id: int, mode: str, value: int) -> int | None:
    """Add, subtract (never below zero) or override a wallet atomically; returns the balance before, or None
    when a subtraction would go below zero (nothing changes then)."""
    async with engine.begin() as conn:
        before = (
            await conn.execute(select(users.c.quota).where(users.c.id == user_id, alive(users)).with_for_update())
        ).scalar_one_or_none()
        if before is None:
            return None
        if mode == "add":
            stmt = update(users).where(users.c.id == user_id).values(quota=users.c.quota + value)
        elif mode == "subtract":
            stmt = (
                update(users).where(users.c.id == user_id, users.c.quota >= value).values(quota=users.c.quota - value)
            )
        else:
            stmt = update(users).where(users.c.id == user_id).values(quota=value)
        result = await conn.execute(stmt)
        if not result.rowcount:
            return None
    return int(before)


async def first_root(conn: AsyncConnection) -> Row | None:
    query = select(users).where(users.c.role >= 100, alive(users)).order_by(users.c.id).limit(1)
    return await fetch_one(conn, query)


async def reset_password(conn: AsyncConnection, user_id: int, password_hash: str) -> None:
    """Set a new hash and bump the auth version, which ends every session of the user."""
    await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password=password_hash, auth_version=users.c.auth_version + 1, access_token=None)
    )
