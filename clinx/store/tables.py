"""New API's tables (names, columns, meanings), as SQLAlchemy Core tables.

Two metadata objects: ``main_metadata`` for everything but ``logs``, ``log_metadata`` for ``logs`` (which may
live in a separate database through LOG_SQL_DSN). Index names follow GORM's (``idx_<table>_<column>``) so an
upgrade of an existing New API database recognises the indexes it already has.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TextClause,
    false,
    text,
)

_NAMING = {"ix": "idx_%(table_name)s_%(column_0_name)s", "uq": "uni_%(table_name)s_%(column_0_name)s"}
main_metadata = MetaData(naming_convention=_NAMING)
log_metadata = MetaData(naming_convention=_NAMING)


def _zero() -> TextClause:
    return text("0")


def _empty() -> TextClause:
    return text("''")


users = Table(
    "users",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(191), unique=True, index=True),
    Column("password", String(255), nullable=False),
    Column("display_name", String(191), index=True),
    Column("role", Integer, server_default=text("1")),
    Column("status", Integer, server_default=text("1")),
    Column("email", String(191), index=True),
    Column("github_id", String(191), index=True),
    Column("oidc_id", String(191), index=True),
    Column("wechat_id", String(191), index=True),
    Column("telegram_id", String(191), index=True),
    Column("linux_do_id", String(191), index=True),
    Column("discord_id", String(191), index=True),
    Column("access_token", String(32), unique=True, index=True, nullable=True),
    Column("quota", BigInteger, server_default=_zero()),
    Column("used_quota", BigInteger, server_default=_zero()),
    Column("request_count", BigInteger, server_default=_zero()),
    Column("group", String(64), server_default=text("'default'")),
    Column("aff_code", String(32), unique=True, index=True, nullable=True),
    Column("aff_count", BigInteger, server_default=_zero()),
    Column("aff_quota", BigInteger, server_default=_zero()),
    Column("aff_history", BigInteger, server_default=_zero()),
    Column("inviter_id", Integer, index=True),
    Column("setting", Text),
    Column("remark", String(255)),
    Column("stripe_customer", String(64), index=True),
    Column("created_at", BigInteger, server_default=_zero()),
    Column("last_login_at", BigInteger, server_default=_zero()),
    Column("auth_version", BigInteger, nullable=False, server_default=text("1")),
    Column("deleted_at", DateTime, index=True, nullable=True),
)

tokens = Table(
    "tokens",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, index=True),
    Column("key", String(128), unique=True, index=True),
    Column("status", Integer, server_default=text("1")),
    Column("name", String(191), index=True),
    Column("created_time", BigInteger),
    Column("accessed_time", BigInteger),
    Column("expired_time", BigInteger, server_default=text("-1")),
    Column("remain_quota", BigInteger, server_default=_zero()),
    Column("unlimited_quota", Boolean, server_default=false()),
    Column("model_limits_enabled", Boolean, server_default=false()),
    Column("model_limits", Text),
    Column("allow_ips", Text),
    Column("used_quota", BigInteger, server_default=_zero()),
    Column("group", String(64), server_default=_empty()),
    Column("cross_group_retry", Boolean, server_default=false()),
    Column("auto_groups", Text),
    Column("deleted_at", DateTime, index=True, nullable=True),
)

channels = Table(
    "channels",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("type", Integer, server_default=_zero()),
    Column("key", Text, nullable=False),
    Column("openai_organization", String(191), nullable=True),
    Column("test_model", String(191), nullable=True),
    Column("status", Integer, server_default=text("1")),
    Column("name", String(191), index=True),
    Column("weight", BigInteger, server_default=_zero()),
    Column("created_time", BigInteger),
    Column("test_time", BigInteger),
    Column("response_time", Integer),
    Column("base_url", String(512), server_default=_empty()),
    Column("other", Text),
    Column("balance", Float),
    Column("balance_updated_time", BigInteger),
    Column("models", Text),
    Column("group", String(64), server_default=text("'default'")),
    Column("used_quota", BigInteger, server_default=_zero()),
    Column("model_mapping", Text),
    Column("status_code_mapping", String(1024), server_default=_empty()),
    Column("priority", BigInteger, server_default=_zero()),
    Column("auto_ban", Integer, server_default=text("1")),
    Column("other_info", Text),
    Column("tag", String(191), index=True),
    Column("setting", Text),
    Column("param_override", Text),
    Column("header_override", Text),
    Column("remark", String(255)),
    Column("channel_info", Text),
    Column("settings", Text),
)

abilities = Table(
    "abilities",
    main_metadata,
    Column("group", String(64), primary_key=True),
    Column("model", String(255), primary_key=True),
    Column("channel_id", Integer, primary_key=True, index=True),
    Column("enabled", Boolean),
    Column("priority", BigInteger, server_default=_zero(), index=True),
    Column("weight", BigInteger, server_default=_zero(), index=True),
    Column("tag", String(191), index=True),
)

options = Table(
    "options",
    main_metadata,
    Column("key", String(191), primary_key=True),
    Column("value", Text),
)

redemptions = Table(
    "redemptions",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer),
    Column("key", String(32), unique=True, index=True),
    Column("status", Integer, server_default=text("1")),
    Column("name", String(191), index=True),
    Column("quota", BigInteger, server_default=text("100")),
    Column("created_time", BigInteger),
    Column("redeemed_time", BigInteger),
    Column("used_user_id", Integer),
    Column("expired_time", BigInteger, server_default=_zero()),
    Column("deleted_at", DateTime, index=True, nullable=True),
)

top_ups = Table(
    "top_ups",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, index=True),
    Column("amount", BigInteger),
    Column("money", Float),
    Column("trade_no", String(255), unique=True, index=True),
    Column("payment_method", String(50)),
    Column("payment_provider", String(50), server_default=_empty()),
    Column("create_time", BigInteger),
    Column("complete_time", BigInteger),
    Column("status", String(191)),
)

quota_data = Table(
    "quota_data",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, index=True),
    Column("username", String(64), server_default=_empty()),
    Column("model_name", String(64), server_default=_empty()),
    Column("created_at", BigInteger),
    Column("token_used", BigInteger, server_default=_zero()),
    Column("count", BigInteger, server_default=_zero()),
    Column("quota", BigInteger, server_default=_zero()),
    Column("use_group", String(64), index=True),
    Column("token_id", Integer, index=True),
    Column("channel_id", Integer, index=True),
    Column("node_name", String(128), index=True),
    Index("idx_qdt_model_user_name", "model_name", "username"),
    Index("idx_qdt_created_at", "created_at"),
)

midjourneys = Table(
    "midjourneys",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", Integer),
    Column("user_id", Integer, index=True),
    Column("action", String(40), index=True),
    Column("mj_id", String(191), index=True),
    Column("prompt", Text),
    Column("prompt_en", Text),
    Column("description", Text),
    Column("state", Text),
    Column("submit_time", BigInteger, index=True),
    Column("start_time", BigInteger, index=True),
    Column("finish_time", BigInteger, index=True),
    Column("image_url", Text),
    Column("video_url", Text),
    Column("video_urls", Text),
    Column("status", String(20), index=True),
    Column("progress", String(30), index=True),
    Column("fail_reason", Text),
    Column("channel_id", Integer),
    Column("quota", BigInteger),
    Column("buttons", Text),
    Column("properties", Text),
)

tasks = Table(
    "tasks",
    main_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("created_at", BigInteger, index=True),
    Column("updated_at", BigInteger),
    Column("task_id", String(191), index=True),
    Column("platform", String(30), index=True),
    Column("user_id", Integer, index=True),
    Column("group", String(50)),
    Column("channel_id", Integer, index=True),
    Column("quota", BigInteger),
    Column("action", String(40), index=True),
    Column("status", String(20), index=True),
    Column("fail_reason", Text),
    Column("submit_time", BigInteger, index=True),
    Column("start_time", BigInteger, index=True),
    Column("finish_time", BigInteger, index=True),
    Column("progress", String(20), index=True),
    Column("properties", Text),
    Column("private_data", Text),
    Column("data", Text),
)

setups = Table(
    "setups",
    main_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(50), nullable=False),
    Column("initialized_at", BigInteger, nullable=False),
)

# Clinx's own (additive): named leases, e.g. "leader", held by one node at a time until ``expires_at`` (epoch ms).
# Used when there is no Redis, so that deployments on PostgreSQL or MySQL alone still elect one leader.
clinx_leases = Table(
    "clinx_leases",
    main_metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

logs = Table(
    "logs",
    log_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, index=True),
    Column("created_at", BigInteger),
    Column("type", Integer),
    Column("content", Text),
    Column("username", String(191), server_default=_empty(), index=True),
    Column("token_name", String(191), server_default=_empty(), index=True),
    Column("model_name", String(191), server_default=_empty(), index=True),
    Column("quota", BigInteger, server_default=_zero()),
    Column("prompt_tokens", BigInteger, server_default=_zero()),
    Column("completion_tokens", BigInteger, server_default=_zero()),
    Column("use_time", BigInteger, server_default=_zero()),
    Column("is_stream", Boolean, server_default=false()),
    Column("channel_id", Integer, index=True),
    Column("token_id", Integer, server_default=_zero(), index=True),
    Column("group", String(64), index=True),
    Column("ip", String(64), server_default=_empty(), index=True),
    Column("request_id", String(64), index=True),
    Column("upstream_request_id", String(128), index=True),
    Column("other", Text),
    Index("idx_created_at_id", "created_at", "id"),
    Index("idx_created_at_type", "created_at", "type"),
    Index("index_username_model_name", "model_name", "username"),
    Index("idx_user_id_id", "user_id", "id"),
)

ALL_MAIN_TABLES = tuple(main_metadata.tables)
