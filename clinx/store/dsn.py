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
    raw_timeout = params.get("_busy_timeout", "") or "30000"
    if not raw_timeout.isdigit():
        raise ConfigError(f"SQLITE_PATH has _busy_timeout={raw_timeout!r}; it must be milliseconds, e.g. 30000")
    timeout_ms = int(raw_timeout)
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


_MYSQL_DSN_HELP = (
    "SQL_DSN is not understood: use empty for SQLite, postgres://user:pass@host:5432/db for "
    "PostgreSQL, or user:pass@tcp(host:3306)/db for MySQL"
)


def _split_go_mysql(dsn: str) -> tuple[str, str, str, str, str, str]:
    """(user, password, net, addr, db, params), split the way go-sql-driver's ParseDSN does.

    The database follows the *last* ``/`` and the credentials precede the *last* ``@`` before it, so a
    password may contain ``@``, ``:`` and ``/`` unescaped; the user ends at the first ``:``.
    """
    slash = dsn.rfind("/")
    if slash < 0:
        raise ConfigError(_MYSQL_DSN_HELP + f" (no '/dbname' in {_masked_go(dsn)!r})")
    head, tail = dsn[:slash], dsn[slash + 1 :]
    at = head.rfind("@")
    creds, target = (head[:at], head[at + 1 :]) if at >= 0 else ("", head)
    user, _, password = creds.partition(":")
    net, addr = target, ""
    if "(" in target:
        if not target.endswith(")"):
            raise ConfigError(_MYSQL_DSN_HELP + " (the address must be written as tcp(host:port))")
        net, _, addr = target[:-1].partition("(")
    if net not in {"", "tcp", "unix"}:
        raise ConfigError(_MYSQL_DSN_HELP + f" (unknown network {net!r}: use tcp or unix)")
    db, _, params = tail.partition("?")
    return user, password, net, addr, unquote(db), params


def _masked_go(dsn: str) -> str:
    at = dsn.rfind("@")
    user = dsn[:at].partition(":")[0] if at >= 0 else ""
    return f"{user}:***@{dsn[at + 1 :]}" if at >= 0 else dsn


def _go_mysql(dsn: str) -> DatabaseUrl:
    user, password, net, addr, db, params = _split_go_mysql(dsn)
    creds = quote(user or "root", safe="") + (":" + quote(password, safe="") if password else "")
    kept = _mysql_params(dict(parse_qsl(params)))
    db = quote(db, safe="")
    if net == "unix":
        socket = addr or "/tmp/mysql.sock"
        return DatabaseUrl("mysql", f"mysql+aiomysql://{creds}@localhost/{db}{kept}&unix_socket={quote(socket)}")
    addr = addr or "127.0.0.1:3306"
    return DatabaseUrl("mysql", f"mysql+aiomysql://{creds}@{addr}/{db}{kept}")


def _mysql_params(params: dict[str, str]) -> str:
    charset = params.get("charset", "utf8mb4").split(",")[0]
    return f"?charset={charset}"
