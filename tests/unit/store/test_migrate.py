"""Schema upgrade on every real database: a One API database is upgraded in place (only adding), twice is a no-op,
the data and One API-only columns survive, and the app then runs on it with the existing root adopted."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import String, Text, inspect, text
from sqlalchemy.engine import Inspector
from sqlalchemy.ext.asyncio import AsyncEngine

from clinx.cli import main
from clinx.store.engine import Databases, open_databases
from clinx.store.migrate import UpgradeReport, upgrade_all
from clinx.store.tables import log_metadata, main_metadata
from tests.support import onapi_schema as onapi
from tests.support.app import running_app
from tests.support.backends import sqlite_dsn_parts

T = TypeVar("T")

NEW_API_TABLES = frozenset(
    {
        "users",
        "tokens",
        "channels",
        "abilities",
        "logs",
        "options",
        "redemptions",
        "top_ups",
        "quota_data",
        "midjourneys",
        "tasks",
        "setups",
    }
)
# Clinx's own additive tables, created beside New API's (the DB leader lease).
CLINX_TABLES = frozenset({"clinx_leases"})
ALL_TABLES = NEW_API_TABLES | CLINX_TABLES
# Columns New API reads that One API never had (a readable subset of what the upgrade must add).
EXPECTED_NEW_COLUMNS = {
    "users.aff_code",
    "users.setting",
    "users.oidc_id",
    "users.telegram_id",
    "users.linux_do_id",
    "users.auth_version",
    "users.deleted_at",
    "tokens.model_limits_enabled",
    "tokens.model_limits",
    "tokens.allow_ips",
    "tokens.group",
    "tokens.deleted_at",
    "channels.tag",
    "channels.setting",
    "channels.param_override",
    "channels.header_override",
    "channels.remark",
    "channels.channel_info",
    "channels.settings",
    "abilities.weight",
    "redemptions.expired_time",
    "logs.use_time",
    "logs.is_stream",
    "logs.token_id",
    "logs.group",
    "logs.other",
    "logs.ip",
    "logs.request_id",
}


def _open(dsn: str) -> Databases:
    sql_dsn, sqlite_path = sqlite_dsn_parts(dsn)
    return open_databases(sql_dsn, sqlite_path)


async def _inspect(engine: AsyncEngine, look: Callable[[Inspector], T]) -> T:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync_conn: look(inspect(sync_conn)))


def _columns_by_table(inspector: Inspector) -> dict[str, dict[str, Any]]:
    return {t: {c["name"]: c for c in inspector.get_columns(t)} for t in inspector.get_table_names()}


def _index_column_lists(inspector: Inspector, *, table: str) -> list[tuple[str, ...]]:
    # Unique indexes are listed here too (MySQL also reports them as unique constraints: not counted twice).
    return [tuple(str(c) for c in ix["column_names"]) for ix in inspector.get_indexes(table)]


async def _row(engine: AsyncEngine, table: str, match: dict[str, Any]) -> dict[str, Any]:
    where = " AND ".join(f"`{k}` = :{k}" for k in match)
    sql = onapi.quoted(engine.dialect.name, f"SELECT * FROM `{table}` WHERE {where}")
    async with engine.connect() as conn:
        return dict((await conn.execute(text(sql), match)).mappings().one())


def _same(actual: Any, expected: Any) -> bool:
    # Booleans come back as 0/1 from MySQL and SQLite.
    return bool(actual) is expected if isinstance(expected, bool) else bool(actual == expected)


def _assert_no_change(report: UpgradeReport) -> None:
    assert report.changed is False, report
    assert not (report.created_tables or report.added_columns or report.created_indexes or report.widened_columns)


def _expected_added(before: dict[str, dict[str, Any]]) -> set[str]:
    tables = {**main_metadata.tables, **log_metadata.tables}
    return {
        f"{name}.{column.name}"
        for name in onapi.LEGACY_TABLES
        for column in tables[name].columns
        if column.name not in before[name]
    }


async def _assert_rows_unchanged(engine: AsyncEngine, data: onapi.LegacyData) -> None:
    for table, rows in data.rows.items():
        for written in rows:
            key = {k: written[k] for k in onapi.ROW_KEYS[table]}
            found = await _row(engine, table, key)
            differing = {k: (found[k], v) for k, v in written.items() if not _same(found[k], v)}
            assert not differing, f"{table} {key}: (now, before) {differing}"
    for table, columns in onapi.ONE_API_ONLY_COLUMNS.items():
        for written in data.rows[table]:
            found = await _row(engine, table, {k: written[k] for k in onapi.ROW_KEYS[table]})
            assert all(c in found for c in columns)


async def _assert_new_columns_have_defaults(engine: AsyncEngine) -> None:
    for username in ("root", "alice"):
        user = await _row(engine, "users", {"username": username})
        assert (user["auth_version"], user["aff_count"], user["aff_quota"], user["created_at"]) == (1, 0, 0, 0)
        assert user["deleted_at"] is None and user["setting"] is None and user["aff_code"] is None
        assert user["group"] == "default"
    token = await _row(engine, "tokens", {"key": onapi.TOKEN_KEY})
    assert token["expired_time"] == -1 and token["group"] == "" and token["deleted_at"] is None
    assert not token["model_limits_enabled"] and not token["cross_group_retry"]
    assert token["model_limits"] is None and token["allow_ips"] is None
    channel = await _row(engine, "channels", {"name": "legacy-openai"})
    assert channel["status_code_mapping"] == "" and channel["auto_ban"] == 1 and channel["tag"] is None
    ability = await _row(engine, "abilities", {"model": "gpt-4o"})
    assert ability["weight"] == 0 and ability["tag"] is None
    redemption = await _row(engine, "redemptions", {"key": onapi.REDEMPTION_KEY})
    assert redemption["expired_time"] == 0 and redemption["used_user_id"] is None
    log = await _row(engine, "logs", {"content": "legacy consume log"})
    assert (log["use_time"], log["token_id"], log["ip"]) == (0, 0, "")
    assert not log["is_stream"] and log["group"] is None and log["other"] is None


async def _assert_columns_widened(engine: AsyncEngine, first: UpgradeReport) -> None:
    columns = await _inspect(engine, _columns_by_table)
    key_type = columns["tokens"]["key"]["type"]
    mapping_type = columns["channels"]["model_mapping"]["type"]
    if engine.dialect.name == "sqlite":
        assert first.widened_columns == []  # SQLite does not enforce lengths
        return
    assert isinstance(key_type, String) and key_type.length is not None and key_type.length >= 128, key_type
    assert isinstance(mapping_type, Text), mapping_type
    assert any("tokens.key" in w for w in first.widened_columns), first.widened_columns
    assert any("channels.model_mapping" in w for w in first.widened_columns), first.widened_columns


async def _assert_no_duplicate_indexes(engine: AsyncEngine) -> None:
    for table, column_lists in onapi.LEGACY_INDEXED_COLUMNS.items():
        present = await _inspect(engine, partial(_index_column_lists, table=table))
        for columns in column_lists:
            assert present.count(columns) == 1, f"{table}{columns}: {present.count(columns)} indexes"


async def _upgrade_legacy(dsn: str) -> None:
    dbs = _open(dsn)
    try:
        data = await onapi.build_onapi_database(dbs.main)
        before = await _inspect(dbs.main, _columns_by_table)
        assert "setups" not in before and "tokens" in before
        first = await upgrade_all(dbs.main, dbs.logs)
        second = await upgrade_all(dbs.main, dbs.logs)

        assert set(first.created_tables) == {"top_ups", "quota_data", "midjourneys", "tasks", "setups"} | CLINX_TABLES
        assert set(first.added_columns) == _expected_added(before)
        assert set(first.added_columns) >= EXPECTED_NEW_COLUMNS
        assert first.changed
        _assert_no_change(second)
        assert set(await _inspect(dbs.main, lambda i: i.get_table_names())) == ALL_TABLES

        await _assert_rows_unchanged(dbs.main, data)
        await _assert_new_columns_have_defaults(dbs.main)
        await _assert_columns_widened(dbs.main, first)
        await _assert_no_duplicate_indexes(dbs.main)
    finally:
        await dbs.dispose()


async def test_one_api_database_is_upgraded_in_place_and_the_app_runs_on_it(any_db: str) -> None:
    await _upgrade_legacy(any_db)
    async with running_app(any_db) as app:
        setup = (await app.client.get("/api/setup")).json()
        assert setup["success"] and setup["data"]["status"] is True  # the existing root was adopted
        status = (await app.client.get("/api/status")).json()["data"]
        assert status["setup"] is True and status["system_name"] == "Legacy One API"
        again = await app.client.post(
            "/api/setup", json={"username": "x", "password": "Other-pass-1", "confirmPassword": "Other-pass-1"}
        )
        assert again.json()["success"] is False

        root = await app.login("root", onapi.ROOT_PASSWORD)
        me = (await root.get("/api/user/self")).json()["data"]
        assert (me["username"], me["role"], me["quota"], me["used_quota"]) == ("root", 100, onapi.ROOT_QUOTA, 1234)
        await root.client.aclose()

        # One API's access token and a Go-made ($2a$) bcrypt hash keep working.
        by_token = await app.client.get("/api/user/self", headers={"Authorization": "0f" * 16})
        assert by_token.json()["data"]["username"] == "root"
        alice = await app.login("alice", onapi.USER_PASSWORD)
        mine = (await alice.get("/api/user/self")).json()["data"]
        assert (mine["quota"], mine["group"], mine["role"]) == (10_000, "default", 1)
        await alice.client.aclose()


async def test_app_start_alone_upgrades_a_one_api_database(any_db: str) -> None:
    dbs = _open(any_db)
    try:
        await onapi.build_onapi_database(dbs.main)
    finally:
        await dbs.dispose()
    async with running_app(any_db) as app:
        assert (await app.client.get("/api/setup")).json()["data"]["status"] is True
        root = await app.login("root", onapi.ROOT_PASSWORD)
        assert (await root.get("/api/user/self")).json()["data"]["quota"] == onapi.ROOT_QUOTA
        await root.client.aclose()


async def test_fresh_database_gets_all_tables_and_second_upgrade_is_a_no_op(any_db: str) -> None:
    dbs = _open(any_db)
    try:
        first = await upgrade_all(dbs.main, dbs.logs)
        assert set(first.created_tables) == ALL_TABLES
        assert first.added_columns == [] and first.widened_columns == []
        assert set(await _inspect(dbs.main, lambda i: i.get_table_names())) == ALL_TABLES
        _assert_no_change(await upgrade_all(dbs.main, dbs.logs))
        columns = await _inspect(dbs.main, _columns_by_table)
        tables = {**main_metadata.tables, **log_metadata.tables}
        for name in ALL_TABLES:
            assert set(columns[name]) == {c.name for c in tables[name].columns}, name
    finally:
        await dbs.dispose()


def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    for name in ("LOG_SQL_DSN", "REDIS_CONN_STRING", "NODE_TYPE", "CLINX_SKIP_MIGRATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SQL_DSN", "")
    monkeypatch.setenv("SQLITE_PATH", str(db))


def test_cli_migrate_creates_the_schema_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cli.db"
    _clean_env(monkeypatch, tmp_path, db)
    assert main(["migrate"]) == 0
    assert f"schema up to date (sqlite): {len(ALL_TABLES)} tables created" in capsys.readouterr().out
    conn = sqlite3.connect(db)
    try:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    assert names >= NEW_API_TABLES
    assert main(["migrate"]) == 0
    assert "0 tables created, 0 columns added, 0 indexes created" in capsys.readouterr().out


def test_cli_migrate_reports_a_bad_dsn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _clean_env(monkeypatch, tmp_path, tmp_path / "unused.db")
    monkeypatch.setenv("SQL_DSN", "not a dsn")
    assert main(["migrate"]) == 2
    assert "SQL_DSN is not understood" in capsys.readouterr().err
