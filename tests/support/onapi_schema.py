"""A One API-shaped legacy database for upgrade tests: raw DDL per dialect in One API's older column shapes (GORM's
types and index names, One API-only columns, none of New API's later tables), plus a small known data set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clinx.auth.passwords import hash_password

ROOT_PASSWORD = "Legacy-root-1"
USER_PASSWORD = "Legacy-user-1"
ROOT_QUOTA = 500_000_000
TOKEN_KEY = "Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7jKl0nOp3rSt6v"  # 48 characters, One API's char(48)
REDEMPTION_KEY = "0123456789abcdef0123456789abcdef"
LEGACY_TABLES = ("users", "tokens", "channels", "abilities", "options", "redemptions", "logs")
ONE_API_ONLY_COLUMNS = {
    "users": ("lark_id",),
    "tokens": ("models", "subnet"),
    "channels": ("config", "system_prompt"),
    "logs": ("elapsed_time", "system_prompt_reset"),
}
# The natural key each legacy row is found again by.
ROW_KEYS = {
    "users": ("username",),
    "tokens": ("key",),
    "channels": ("name",),
    "abilities": ("group", "model", "channel_id"),
    "options": ("key",),
    "redemptions": ("key",),
    "logs": ("content",),
}

# Column types GORM chose on each database for One API's Go fields.
_TYPES = {
    "sqlite": {"pk": "integer PRIMARY KEY AUTOINCREMENT", "text": "text", "bool": "numeric", "float": "real"},
    "postgresql": {"pk": "bigserial PRIMARY KEY", "text": "text", "bool": "boolean", "float": "double precision"},
    "mysql": {"pk": "bigint AUTO_INCREMENT PRIMARY KEY", "text": "longtext", "bool": "boolean", "float": "double"},
}

_DDL = (
    """CREATE TABLE `users` (
        `id` {pk}, `username` varchar(191), `password` {text} NOT NULL, `display_name` varchar(191),
        `role` bigint DEFAULT 1, `status` bigint DEFAULT 1, `email` varchar(191), `github_id` varchar(191),
        `wechat_id` varchar(191), `lark_id` varchar(191), `access_token` char(32), `quota` bigint DEFAULT 0,
        `used_quota` bigint DEFAULT 0, `request_count` bigint DEFAULT 0, `group` varchar(32) DEFAULT 'default',
        `inviter_id` bigint)""",
    "CREATE UNIQUE INDEX `idx_users_username` ON `users` (`username`)",
    "CREATE INDEX `idx_users_display_name` ON `users` (`display_name`)",
    "CREATE INDEX `idx_users_email` ON `users` (`email`)",
    "CREATE INDEX `idx_users_github_id` ON `users` (`github_id`)",
    "CREATE INDEX `idx_users_wechat_id` ON `users` (`wechat_id`)",
    "CREATE INDEX `idx_users_lark_id` ON `users` (`lark_id`)",
    "CREATE UNIQUE INDEX `idx_users_access_token` ON `users` (`access_token`)",
    "CREATE INDEX `idx_users_inviter_id` ON `users` (`inviter_id`)",
    """CREATE TABLE `tokens` (
        `id` {pk}, `user_id` bigint, `key` char(48), `status` bigint DEFAULT 1, `name` varchar(191),
        `created_time` bigint, `accessed_time` bigint, `expired_time` bigint DEFAULT -1,
        `remain_quota` bigint DEFAULT 0, `unlimited_quota` {bool} DEFAULT false, `used_quota` bigint DEFAULT 0,
        `models` {text}, `subnet` varchar(191) DEFAULT '')""",
    "CREATE UNIQUE INDEX `idx_tokens_key` ON `tokens` (`key`)",
    "CREATE INDEX `idx_tokens_name` ON `tokens` (`name`)",
    """CREATE TABLE `channels` (
        `id` {pk}, `type` bigint DEFAULT 0, `key` {text}, `status` bigint DEFAULT 1, `name` varchar(191),
        `weight` bigint DEFAULT 0, `created_time` bigint, `test_time` bigint, `response_time` bigint,
        `base_url` varchar(191) DEFAULT '', `other` {text}, `balance` {float}, `balance_updated_time` bigint,
        `models` {text}, `group` varchar(32) DEFAULT 'default', `used_quota` bigint DEFAULT 0,
        `model_mapping` varchar(1024) DEFAULT '', `priority` bigint DEFAULT 0, `config` {text},
        `system_prompt` {text})""",
    "CREATE INDEX `idx_channels_name` ON `channels` (`name`)",
    """CREATE TABLE `abilities` (
        `group` varchar(32) NOT NULL, `model` varchar(191) NOT NULL, `channel_id` bigint NOT NULL,
        `enabled` {bool}, `priority` bigint DEFAULT 0, PRIMARY KEY (`group`, `model`, `channel_id`))""",
    "CREATE INDEX `idx_abilities_channel_id` ON `abilities` (`channel_id`)",
    "CREATE INDEX `idx_abilities_priority` ON `abilities` (`priority`)",
    "CREATE TABLE `options` (`key` varchar(191) NOT NULL PRIMARY KEY, `value` {text})",
    """CREATE TABLE `redemptions` (
        `id` {pk}, `user_id` bigint, `key` char(32), `status` bigint DEFAULT 1, `name` varchar(191),
        `quota` bigint DEFAULT 100, `created_time` bigint, `redeemed_time` bigint)""",
    "CREATE UNIQUE INDEX `idx_redemptions_key` ON `redemptions` (`key`)",
    "CREATE INDEX `idx_redemptions_name` ON `redemptions` (`name`)",
    """CREATE TABLE `logs` (
        `id` {pk}, `user_id` bigint, `created_at` bigint, `type` bigint, `content` {text},
        `username` varchar(191) DEFAULT '', `token_name` varchar(191) DEFAULT '',
        `model_name` varchar(191) DEFAULT '', `quota` bigint DEFAULT 0, `prompt_tokens` bigint DEFAULT 0,
        `completion_tokens` bigint DEFAULT 0, `channel_id` bigint, `elapsed_time` bigint DEFAULT 0,
        `system_prompt_reset` {bool} DEFAULT false)""",
    # Not GORM's name: the upgrade must recognise an index by its columns, whatever it is called.
    "CREATE INDEX `legacy_logs_by_user` ON `logs` (`user_id`)",
    "CREATE INDEX `idx_created_at_type` ON `logs` (`created_at`, `type`)",
    "CREATE INDEX `index_username_model_name` ON `logs` (`model_name`, `username`)",
    "CREATE INDEX `idx_logs_token_name` ON `logs` (`token_name`)",
    "CREATE INDEX `idx_logs_model_name` ON `logs` (`model_name`)",
    "CREATE INDEX `idx_logs_channel_id` ON `logs` (`channel_id`)",
)

# Column lists already indexed before the upgrade: the upgrade must not add a second index on any of them.
LEGACY_INDEXED_COLUMNS: dict[str, list[tuple[str, ...]]] = {
    "users": [("username",), ("display_name",), ("email",), ("github_id",), ("wechat_id",), ("access_token",)],
    "tokens": [("key",), ("name",)],
    "logs": [("user_id",), ("created_at", "type"), ("model_name", "username"), ("token_name",), ("model_name",)],
}


@dataclass
class LegacyData:
    """What was written, table by table, column by column, so it can be compared after the upgrade."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        self.rows.setdefault(table, []).append(row)
        return row


def quoted(dialect: str, sql: str) -> str:
    """Backtick-quoted SQL for ``dialect``: PostgreSQL wants double quotes around ``key`` and ``group``."""
    return sql.replace("`", '"') if dialect == "postgresql" else sql


async def create_legacy_schema(engine: AsyncEngine) -> None:
    dialect = engine.dialect.name
    types = _TYPES[dialect]
    async with engine.begin() as conn:
        for statement in _DDL:
            await conn.execute(text(quoted(dialect, statement.format(**types))))


async def _insert(conn: AsyncConnection, data: LegacyData, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(f"`{name}`" for name in row)
    params = ", ".join(f":{name}" for name in row)
    sql = quoted(conn.dialect.name, f"INSERT INTO `{table}` ({columns}) VALUES ({params})")
    await conn.execute(text(sql), row)
    data.add(table, row)


async def _id_of(conn: AsyncConnection, table: str, column: str, value: str) -> int:
    sql = quoted(conn.dialect.name, f"SELECT `id` FROM `{table}` WHERE `{column}` = :v")
    return int((await conn.execute(text(sql), {"v": value})).scalar_one())


async def insert_legacy_data(engine: AsyncEngine, now: int = 1_700_000_000) -> LegacyData:
    """Rows as One API wrote them (ids from the database's own sequences, as in a real deployment)."""
    data = LegacyData()
    async with engine.begin() as conn:
        await _insert(conn, data, "users", _root_row())
        # A hash made by Go's bcrypt carries the $2a$ prefix; it must verify the same.
        alice = {**_alice_row(), "password": hash_password(USER_PASSWORD).replace("$2b$", "$2a$", 1)}
        await _insert(conn, data, "users", alice)
        alice_id = await _id_of(conn, "users", "username", "alice")
        await _insert(conn, data, "tokens", _token_row(alice_id, now))
        await _insert(conn, data, "channels", _channel_row(now))
        channel_id = await _id_of(conn, "channels", "name", "legacy-openai")
        for model in ("gpt-4o", "gpt-4o-mini"):
            ability = {"group": "default", "model": model, "channel_id": channel_id, "enabled": True, "priority": 0}
            await _insert(conn, data, "abilities", ability)
        await _insert(conn, data, "options", {"key": "SystemName", "value": "Legacy One API"})
        await _insert(conn, data, "options", {"key": "QuotaPerUnit", "value": "500000"})
        redemption = {"user_id": 1, "key": REDEMPTION_KEY, "status": 1, "name": "gift", "quota": 100_000}
        await _insert(conn, data, "redemptions", {**redemption, "created_time": now, "redeemed_time": 0})
        await _insert(conn, data, "logs", _log_row(alice_id, channel_id, now))
    return data


async def build_onapi_database(engine: AsyncEngine) -> LegacyData:
    await create_legacy_schema(engine)
    return await insert_legacy_data(engine)


def _root_row() -> dict[str, Any]:
    return {
        "username": "root",
        "password": hash_password(ROOT_PASSWORD),
        "display_name": "Root User",
        "role": 100,
        "status": 1,
        "email": "root@example.com",
        "lark_id": "lark-root",
        "access_token": "0f" * 16,
        "quota": ROOT_QUOTA,
        "used_quota": 1234,
        "request_count": 7,
        "group": "default",
    }


def _alice_row() -> dict[str, Any]:
    # No group given: One API's column default ('default') applies.
    return {"username": "alice", "display_name": "Alice", "role": 1, "status": 1, "quota": 10_000, "github_id": "gh-1"}


def _token_row(user_id: int, now: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "key": TOKEN_KEY,
        "status": 1,
        "name": "alice-key",
        "created_time": now,
        "accessed_time": now + 60,
        "expired_time": -1,
        "remain_quota": 5_000,
        "unlimited_quota": False,
        "used_quota": 42,
        "models": "gpt-4o,gpt-4o-mini",
        "subnet": "10.0.0.0/8",
    }


def _channel_row(now: int) -> dict[str, Any]:
    return {
        "type": 1,
        "key": "sk-upstream-secret",
        "status": 1,
        "name": "legacy-openai",
        "weight": 3,
        "created_time": now,
        "base_url": "https://api.openai.com",
        "models": "gpt-4o,gpt-4o-mini",
        "group": "default",
        "used_quota": 99,
        "model_mapping": '{"gpt-4": "gpt-4o"}',
        "priority": 5,
        "config": '{"region": "eu"}',
        "system_prompt": "You are a legacy assistant.",
    }


def _log_row(user_id: int, channel_id: int, now: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "created_at": now,
        "type": 2,
        "content": "legacy consume log",
        "username": "alice",
        "token_name": "alice-key",
        "model_name": "gpt-4o",
        "quota": 77,
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "channel_id": channel_id,
        "elapsed_time": 1234,
        "system_prompt_reset": True,
    }
