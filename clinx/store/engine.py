"""Async engines for the main database and the (optional) separate log database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from clinx.store.dsn import DatabaseKind, DatabaseUrl, parse_dsn

# Other layers name engines and connections through these aliases: only clinx/store imports SQLAlchemy.
Engine: TypeAlias = AsyncEngine
Connection: TypeAlias = AsyncConnection


@dataclass(frozen=True)
class Databases:
    """The main engine and the log engine (the same object unless LOG_SQL_DSN is set)."""

    main: AsyncEngine
    logs: AsyncEngine
    kind: DatabaseKind
    log_kind: DatabaseKind

    @property
    def separate_logs(self) -> bool:
        return self.logs is not self.main

    async def dispose(self) -> None:
        await self.main.dispose()
        if self.separate_logs:
            await self.logs.dispose()


SQLITE_CACHE_KIB = 1024
# One writer at a time is SQLite's rule; a few connections for concurrent readers are plenty (each is a thread).
SQLITE_POOL = {"pool_size": 4, "max_overflow": 4}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers proceed while the batched log writer commits; NORMAL sync is safe with WAL.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 1 MiB of page cache per connection (SQLite's default is 2 MiB): the pool's connections would otherwise
    # grow the process by ~2 MiB each as the logs table grows, for little gain on a small main database.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def make_engine(db: DatabaseUrl, *, pool_size: int = 20, max_overflow: int = 80, recycle: int = 60) -> AsyncEngine:
    if db.kind == "sqlite":
        kwargs: dict[str, Any] = {"connect_args": dict(db.connect_args)}
        if db.sqlite_path == ":memory:":
            kwargs["poolclass"] = StaticPool
        else:
            kwargs.update(SQLITE_POOL)
        engine = create_async_engine(db.url, **kwargs)
        if db.sqlite_path != ":memory:":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        db.url,
        connect_args=dict(db.connect_args),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=recycle if recycle > 0 else -1,
        pool_pre_ping=True,
    )


def open_databases(sql_dsn: str, sqlite_path: str, log_sql_dsn: str = "", *, max_open: int = 100) -> Databases:
    main_url = parse_dsn(sql_dsn, sqlite_path)
    pool = max(5, min(max_open, 100))
    main = make_engine(main_url, pool_size=pool // 2, max_overflow=pool - pool // 2)
    if not log_sql_dsn:
        return Databases(main=main, logs=main, kind=main_url.kind, log_kind=main_url.kind)
    log_url = parse_dsn(log_sql_dsn, sqlite_path)
    logs = make_engine(log_url)
    return Databases(main=main, logs=logs, kind=main_url.kind, log_kind=log_url.kind)
