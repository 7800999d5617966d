"""Settings from New API's environment variables, read once in ``create_app`` (never at import time).

Unsafe combinations are refused with a message that says what to set.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from clinx.core.errors import ConfigError

DEFAULT_SQLITE_PATH = "one-api.db?_busy_timeout=30000"
REFUSED_SESSION_SECRETS = frozenset({"random_string"})


def load_dotenv(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file (KEY=VALUE lines, ``#`` comments, optional quotes) without touching os.environ."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        end = value.find(value[0], 1) if value[:1] in ("'", '"') else -1
        # As in godotenv: a quoted value ends at its closing quote; " #" starts a comment after an unquoted one.
        value = value[1:end] if end > 0 else value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


class _Env:
    """Typed reads from an environment mapping, each failure naming the variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._env = environ

    def text(self, name: str, default: str = "") -> str:
        return self._env.get(name, default).strip() or default

    def integer(self, name: str, default: int) -> int:
        raw = self._env.get(name, "").strip()
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None

    def number(self, name: str, default: float) -> float:
        raw = self._env.get(name, "").strip()
        if not raw:
            return default
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None

    def flag(self, name: str, default: bool) -> bool:
        raw = self._env.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in {"1", "true", "yes", "on"}:
            return True
        if raw in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class RateLimit:
    enabled: bool
    count: int
    duration: int


@dataclass(frozen=True)
class Settings:
    port: int = 3000
    host: str = "0.0.0.0"
    sql_dsn: str = ""
    sqlite_path: str = DEFAULT_SQLITE_PATH
    log_sql_dsn: str = ""
    sql_max_idle_conns: int = 100
    sql_max_open_conns: int = 1000
    sql_max_lifetime: int = 60
    redis_conn_string: str = ""
    redis_pool_size: int = 10
    redis_key_prefix: str = ""
    sync_frequency: int = 60
    memory_cache_enabled: bool = False
    batch_update_enabled: bool = False
    batch_update_interval: int = 5
    node_type: str = "master"
    node_name: str = field(default_factory=socket.gethostname)
    frontend_base_url: str = ""
    session_secret: str = ""
    session_secret_generated: bool = False
    crypto_secret: str = ""
    session_cookie_secure: bool = False
    relay_timeout: int = 0
    streaming_timeout: int = 300
    max_request_body_mb: int = 128
    force_stream_option: bool = True
    count_token: bool = True
    get_media_token: bool = True
    get_media_token_not_stream: bool = False
    azure_default_api_version: str = "2025-04-01-preview"
    gemini_safety_setting: str = "BLOCK_NONE"
    cohere_safety_setting: str = "NONE"
    dify_debug: bool = True
    update_task: bool = True
    channel_update_frequency: int = 0
    channel_test_frequency: int = 0
    polling_interval: int = 0
    generate_default_token: bool = False
    error_log_enabled: bool = False
    global_api_rate_limit: RateLimit = RateLimit(True, 360, 180)
    global_web_rate_limit: RateLimit = RateLimit(True, 120, 180)
    critical_rate_limit: RateLimit = RateLimit(True, 20, 1200)
    trusted_proxies: str = ""
    shutdown_timeout_seconds: int = 120
    leader_lease_seconds: float = 15.0
    log_retention_days: int = 0
    log_dir: str = "./logs"
    debug: bool = False
    skip_migrate: bool = False
    metrics_token: str = ""
    metrics_public: bool = False
    metrics_dir: str = ""
    workers_dir: str = ""

    @property
    def is_master(self) -> bool:
        return self.node_type != "slave"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, dotenv: Path | None = None) -> Settings:
        """Build settings from ``environ`` (default: ``.env`` in the working directory, then os.environ)."""
        if environ is None:
            merged = load_dotenv(dotenv or Path.cwd() / ".env")
            merged.update(os.environ)
            environ = merged
        env = _Env(environ)
        session_secret = env.text("SESSION_SECRET")
        generated = not session_secret
        settings = cls(
            port=env.integer("PORT", 3000),
            host=env.text("HOST", "0.0.0.0"),
            sql_dsn=env.text("SQL_DSN"),
            sqlite_path=env.text("SQLITE_PATH", DEFAULT_SQLITE_PATH),
            log_sql_dsn=env.text("LOG_SQL_DSN"),
            sql_max_idle_conns=env.integer("SQL_MAX_IDLE_CONNS", 100),
            sql_max_open_conns=env.integer("SQL_MAX_OPEN_CONNS", 1000),
            sql_max_lifetime=env.integer("SQL_MAX_LIFETIME", 60),
            redis_conn_string=env.text("REDIS_CONN_STRING"),
            redis_pool_size=env.integer("REDIS_POOL_SIZE", 10),
            redis_key_prefix=env.text("CLINX_REDIS_KEY_PREFIX"),
            sync_frequency=env.integer("SYNC_FREQUENCY", 60),
            memory_cache_enabled=env.flag("MEMORY_CACHE_ENABLED", False),
            batch_update_enabled=env.flag("BATCH_UPDATE_ENABLED", False),
            batch_update_interval=env.integer("BATCH_UPDATE_INTERVAL", 5),
            node_type=env.text("NODE_TYPE", "master").lower(),
            node_name=env.text("NODE_NAME") or env.text("HOSTNAME") or socket.gethostname(),
            frontend_base_url=env.text("FRONTEND_BASE_URL"),
            session_secret=session_secret or secrets.token_urlsafe(32),
            session_secret_generated=generated,
            crypto_secret=env.text("CRYPTO_SECRET") or session_secret,
            session_cookie_secure=env.flag("SESSION_COOKIE_SECURE", False),
            relay_timeout=env.integer("RELAY_TIMEOUT", 0),
            streaming_timeout=env.integer("STREAMING_TIMEOUT", 300),
            max_request_body_mb=env.integer("MAX_REQUEST_BODY_MB", 128),
            force_stream_option=env.flag("FORCE_STREAM_OPTION", True),
            count_token=env.flag("CountToken", True),
            get_media_token=env.flag("GET_MEDIA_TOKEN", True),
            get_media_token_not_stream=env.flag("GET_MEDIA_TOKEN_NOT_STREAM", False),
            azure_default_api_version=env.text("AZURE_DEFAULT_API_VERSION", "2025-04-01-preview"),
            gemini_safety_setting=env.text("GEMINI_SAFETY_SETTING", "BLOCK_NONE"),
            cohere_safety_setting=env.text("COHERE_SAFETY_SETTING", "NONE"),
            dify_debug=env.flag("DIFY_DEBUG", True),
            update_task=env.flag("UPDATE_TASK", True),
            channel_update_frequency=env.integer("CHANNEL_UPDATE_FREQUENCY", 0),
            channel_test_frequency=env.integer("CHANNEL_TEST_FREQUENCY", 0),
            polling_interval=env.integer("POLLING_INTERVAL", 0),
            generate_default_token=env.flag("GENERATE_DEFAULT_TOKEN", False),
            error_log_enabled=env.flag("ERROR_LOG_ENABLED", False),
            global_api_rate_limit=_rate_limit(env, "GLOBAL_API_RATE_LIMIT", 360, 180),
            global_web_rate_limit=_rate_limit(env, "GLOBAL_WEB_RATE_LIMIT", 120, 180),
            critical_rate_limit=_rate_limit(env, "CRITICAL_RATE_LIMIT", 20, 1200),
            trusted_proxies=env.text("TRUSTED_PROXIES"),
            shutdown_timeout_seconds=env.integer("SHUTDOWN_TIMEOUT_SECONDS", 120),
            leader_lease_seconds=env.number("CLINX_LEADER_LEASE_SECONDS", 15.0),
            log_retention_days=env.integer("CLINX_LOG_RETENTION_DAYS", 0),
            log_dir=env.text("LOG_DIR", "./logs"),
            debug=env.flag("DEBUG", False),
            # Internal: set by `clinx serve --workers N` after the parent has upgraded the schema once.
            skip_migrate=env.flag("CLINX_SKIP_MIGRATE", False),
            # GET /metrics: a bearer token for scrapers, or open to all; admins may always read it.
            metrics_token=env.text("CLINX_METRICS_TOKEN"),
            metrics_public=env.flag("CLINX_METRICS_PUBLIC", False),
            # Where the workers of `clinx serve --workers N` share their metrics snapshots (set by the command).
            metrics_dir=env.text("CLINX_METRICS_DIR"),
            # Where those workers register to tell each other of changes without Redis (set by the command).
            workers_dir=env.text("CLINX_WORKERS_DIR"),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse unsafe or contradictory settings, saying what to set instead."""
        if self.session_secret in REFUSED_SESSION_SECRETS:
            raise ConfigError(
                "SESSION_SECRET is set to the documented placeholder 'random_string'; "
                "set it to a long random value (e.g. `openssl rand -hex 32`)"
            )
        if self.session_secret_generated and not self.is_master:
            raise ConfigError(
                "NODE_TYPE=slave needs SESSION_SECRET (and CRYPTO_SECRET) set to the same value as on the "
                "master node, or logins made on one node are rejected by the others"
            )
        if self.session_secret_generated and self.redis_conn_string:
            raise ConfigError(
                "REDIS_CONN_STRING is set (a multi-node setup) but SESSION_SECRET is not; set SESSION_SECRET "
                "to the same long random value on every node"
            )
        if self.node_type not in {"master", "slave"}:
            raise ConfigError(f"NODE_TYPE must be 'master' or 'slave', got {self.node_type!r}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"PORT must be between 1 and 65535, got {self.port}")
        if self.sync_frequency <= 0:
            raise ConfigError(f"SYNC_FREQUENCY must be a positive number of seconds, got {self.sync_frequency}")
        if self.leader_lease_seconds <= 0:
            raise ConfigError(f"CLINX_LEADER_LEASE_SECONDS must be a positive number, got {self.leader_lease_seconds}")
        if self.log_retention_days < 0:
            raise ConfigError(f"CLINX_LOG_RETENTION_DAYS must be 0 (keep all) or more, got {self.log_retention_days}")
        if self.max_request_body_mb <= 0:
            raise ConfigError(f"MAX_REQUEST_BODY_MB must be positive, got {self.max_request_body_mb}")

    @property
    def effective_crypto_secret(self) -> str:
        return self.crypto_secret or self.session_secret


def _rate_limit(env: _Env, prefix: str, count: int, duration: int) -> RateLimit:
    return RateLimit(
        enabled=env.flag(f"{prefix}_ENABLE", True),
        count=env.integer(prefix, count),
        duration=env.integer(f"{prefix}_DURATION", duration),
    )
