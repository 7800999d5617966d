"""In-place, additive, idempotent schema upgrade of a fresh, One API or New API database.

Only adds what is missing: tables, columns (nullable or with their default), indexes (recognised by their
column list, whatever their name), and widens the few columns New API widened. Never drops or rewrites data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Index, MetaData, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateIndex

from clinx.store.tables import log_metadata, main_metadata

log = logging.getLogger(__name__)

# (table, column) -> minimal string length New API expects; longer existing columns are left alone.
_WIDEN_TO_VARCHAR = {("tokens", "key"): 128}
_WIDEN_TO_TEXT = {("tokens", "model_limits"), ("channels", "model_mapping")}


@dataclass
class UpgradeReport:
    created_tables: list[str] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)
    created_indexes: list[str] = field(default_factory=list)
    widened_columns: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created_tables or self.added_columns or self.created_indexes or self.widened_columns)


async def upgrade(engine: AsyncEngine, metadata: MetaData) -> UpgradeReport:
    report = UpgradeReport()
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_sync, metadata, report)
    for name in report.created_tables:
        log.info("schema: created table %s", name)
    for name in report.added_columns + report.widened_columns + report.created_indexes:
        log.info("schema: %s", name)
    return report


async def upgrade_all(main: AsyncEngine, logs: AsyncEngine) -> UpgradeReport:
    report = await upgrade(main, main_metadata)
    log_report = await upgrade(logs, log_metadata)
    report.created_tables += log_report.created_tables
    report.added_columns += log_report.added_columns
    report.created_indexes += log_report.created_indexes
    report.widened_columns += log_report.widened_columns
    return report


def _upgrade_sync(conn: Connection, metadata: MetaData, report: UpgradeReport) -> None:
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in existing:
            table.create(conn)
            report.created_tables.append(table.name)
            continue
        columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in columns:
                _add_column(conn, table, column)
                report.added_columns.append(f"{table.name}.{column.name}")
            else:
                _widen(conn, table, column, columns[column.name], report)
        _add_missing_indexes(conn, table, inspector, report)


def _add_column(conn: Connection, table: Table, column: Column[Any]) -> None:
    preparer = conn.dialect.identifier_preparer
    col_type = column.type.compile(dialect=conn.dialect)
    ddl = f"ALTER TABLE {preparer.quote(table.name)} ADD COLUMN {preparer.quote(column.name)} {col_type}"
    if column.server_default is not None:
        default = column.server_default.arg  # type: ignore[attr-defined]
        rendered = default.compile(dialect=conn.dialect) if hasattr(default, "compile") else default
        ddl += f" DEFAULT {rendered}"
        if not column.nullable:
            ddl += " NOT NULL"
    conn.execute(text(ddl))


def _widen(conn: Connection, table: Table, column: Column[Any], current: Any, report: UpgradeReport) -> None:
    if conn.dialect.name == "sqlite":
        return  # SQLite does not enforce lengths: nothing to widen.
    key = (table.name, column.name)
    length = getattr(current["type"], "length", None)
    preparer = conn.dialect.identifier_preparer
    target: str | None = None
    if key in _WIDEN_TO_VARCHAR and length is not None and length < _WIDEN_TO_VARCHAR[key]:
        target = f"VARCHAR({_WIDEN_TO_VARCHAR[key]})"
    elif key in _WIDEN_TO_TEXT and length is not None:
        target = "TEXT"
    if target is None:
        return
    qt, qc = preparer.quote(table.name), preparer.quote(column.name)
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ALTER TABLE {qt} ALTER COLUMN {qc} TYPE {target}"))
    else:
        null = "NULL" if current.get("nullable", True) else "NOT NULL"
        conn.execute(text(f"ALTER TABLE {qt} MODIFY {qc} {target} {null}"))
    report.widened_columns.append(f"widened {table.name}.{column.name} to {target}")


def _add_missing_indexes(conn: Connection, table: Table, inspector: Any, report: UpgradeReport) -> None:
    covered = {tuple(ix["column_names"]) for ix in inspector.get_indexes(table.name)}
    covered |= {tuple(uc["column_names"]) for uc in inspector.get_unique_constraints(table.name)}
    pk = inspector.get_pk_constraint(table.name).get("constrained_columns") or []
    covered.add(tuple(pk))
    existing_names = {ix["name"] for ix in inspector.get_indexes(table.name)}
    for index in table.indexes:
        cols = tuple(c.name for c in index.columns)
        if cols in covered or index.name in existing_names:
            continue
        _create_index(conn, index)
        report.created_indexes.append(f"index {index.name} on {table.name}{cols}")


def _create_index(conn: Connection, index: Index) -> None:
    conn.execute(CreateIndex(index))
