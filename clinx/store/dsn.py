"""New API's SQL_DSN detection rules, turned into SQLAlchemy async URLs.

* empty or starting with ``local`` ⇒ SQLite at SQLITE_PATH (``file?_busy_timeout=ms``)
* ``postgres://`` / ``postgresql://`` ⇒ PostgreSQL (asyncpg)
* anything else ⇒ a Go MySQL DSN ``user:pass@tcp(host:port)/db?params`` (aiomysql); a ``mysql://`` URL is
  accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from clinx.core.errors import ConfigError

DatabaseKind = Literal["sqlite", "postgres", "mysql"]

_GO_MYSQL = re.compile(
    r"^(?:(?P<user>[^:@/]*)(?::(?P<password>[^@]*))?@)?"
    r"(?:(?P<proto>tcp|unix)\((?P<addr>[^)]*)\))?"
    r"/(?P<db>[^?]*)(?:\?(?P<params>.*))?$"
)
_MYSQL_PASS_THROUGH = {"charset"}
_PG_DROPPED = {"sslmode", "timezone", "TimeZone", "connect_timeout", "application_name"}


@dataclass(frozen=True)
class DatabaseUrl:
    kind: DatabaseKind
    url: str
    connect_args: dict[str, object] = field(default_factory=dict)
    sqlite_path: str = ""

    @property
    def display(self) -> str:
        """The URL without a password, safe for logs."""
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", self.url)


def parse_dsn(dsn: str, sqlite_path: str) -> DatabaseUrl:
    dsn = dsn.strip()
    if not dsn or dsn.startswith("local"):
        return _sqlite(sqlite_path)
    if dsn.startswith(("postgres://", "postgresql://")):
        return _postgres(dsn)
    if dsn.startswith("mysql://"):
        return _mysql_url(dsn)
    return _go_mysql(dsn)


def _sqlite(path_with_params: str) -> DatabaseUrl:
    path, _, query = path_with_params.partition("?")
    params = dict(parse_qsl(query))
    timeout_ms = int(params.get("_busy_timeout", "30000") or 30000)
    path = path.removeprefix("file:") or "one-api.db"
    url = "sqlite+aiosqlite:///:memory:" if path == ":memory:" else f"sqlite+aiosqlite:///{path}"
    return DatabaseUrl("sqlite", url, {"timeout": timeout_ms / 1000}, sqlite_path=path)


def _postgres(dsn: str) -> DatabaseUrl:
    parts = urlsplit(dsn)
    params = dict(parse_qsl(parts.query))
    connect_args: dict[str, object] = {}
    sslmode = params.get("sslmode", "")
    if sslmode == "disable":
        connect_args["ssl"] = False
    elif sslmode in {"require", "verify-ca", "verify-full"}:
        connect_args["ssl"] = True
    kept = "&".join(f"{k}={quote(v)}" for k, v in params.items() if k not in _PG_DROPPED)
    netloc = parts.netloc
    url = f"postgresql+asyncpg://{netloc}{parts.path}" + (f"?{kept}" if kept else "")
    return DatabaseUrl("postgres", url, connect_args)


def _mysql_url(dsn: str) -> DatabaseUrl:
    parts = urlsplit(dsn)
    params = dict(parse_qsl(parts.query))
    kept = _mysql_params(params)
    return DatabaseUrl("mysql", f"mysql+aiomysql://{parts.netloc}{parts.path}{kept}")


def _go_mysql(dsn: str) -> DatabaseUrl:
    match = _GO_MYSQL.match(dsn)
    if match is None:
        raise ConfigError(
            "SQL_DSN is not understood: use empty for SQLite, postgres://user:pass@host:5432/db for "
            "PostgreSQL, or user:pass@tcp(host:3306)/db for MySQL"
        )
    user = unquote(match["user"] or "root")
    password = match["password"] or ""
    creds = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    params = dict(parse_qsl(match["params"] or ""))
    kept = _mysql_params(params)
    if match["proto"] == "unix":
        sep = "&" if kept else "?"
        return DatabaseUrl(
            "mysql", f"mysql+aiomysql://{creds}@localhost/{match['db']}{kept}{sep}unix_socket={match['addr']}"
        )
    addr = match["addr"] or "127.0.0.1:3306"
    return DatabaseUrl("mysql", f"mysql+aiomysql://{creds}@{addr}/{match['db']}{kept}")


def _mysql_params(params: dict[str, str]) -> str:
    charset = params.get("charset", "utf8mb4").split(",")[0]
    return f"?charset={charset}"
