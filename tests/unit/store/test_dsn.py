"""SQL_DSN detection as New API does it: SQLite, PostgreSQL URLs, Go MySQL DSNs and mysql:// URLs."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from clinx.core.errors import ConfigError
from clinx.store.dsn import parse_dsn

SQLITE_PATH = "/data/one-api.db?_busy_timeout=5000"


@pytest.mark.parametrize("dsn", ["", "   ", "local", "local:/ignored/elsewhere.db", "localhost-is-still-local"])
def test_empty_or_local_means_sqlite_at_sqlite_path(dsn: str) -> None:
    db = parse_dsn(dsn, SQLITE_PATH)
    assert db.kind == "sqlite"
    assert db.url == "sqlite+aiosqlite:////data/one-api.db"
    assert db.sqlite_path == "/data/one-api.db"
    assert db.connect_args == {"timeout": 5.0}


def test_sqlite_defaults() -> None:
    db = parse_dsn("", "one-api.db")
    assert db.url == "sqlite+aiosqlite:///one-api.db"
    assert db.connect_args == {"timeout": 30.0}  # New API's default _busy_timeout=30000
    assert parse_dsn("", "file:x.db?_busy_timeout=100").sqlite_path == "x.db"
    memory = parse_dsn("", ":memory:")
    assert memory.url == "sqlite+aiosqlite:///:memory:"


def test_sqlite_bad_busy_timeout_names_it() -> None:
    with pytest.raises(ConfigError, match="_busy_timeout"):
        parse_dsn("", "x.db?_busy_timeout=soon")


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls(scheme: str) -> None:
    db = parse_dsn(f"{scheme}://app:s3cret@db.internal:5433/newapi", SQLITE_PATH)
    assert db.kind == "postgres"
    url = make_url(db.url)
    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "app",
        "s3cret",
        "db.internal",
        5433,
        "newapi",
    )
    assert db.connect_args == {}


@pytest.mark.parametrize(
    ("sslmode", "ssl"), [("disable", False), ("require", True), ("verify-ca", True), ("verify-full", True)]
)
def test_postgres_sslmode(sslmode: str, ssl: bool) -> None:
    db = parse_dsn(f"postgres://u:p@h:5432/db?sslmode={sslmode}&TimeZone=Asia/Shanghai", SQLITE_PATH)
    assert db.connect_args == {"ssl": ssl}
    # libpq-only parameters are not passed on to asyncpg, which would reject them.
    assert make_url(db.url).query == {}


def test_postgres_percent_encoded_password() -> None:
    db = parse_dsn("postgresql://u:p%40ss%2Fw@h/db", SQLITE_PATH)
    assert make_url(db.url).password == "p@ss/w"
    assert "p%40ss" not in db.display and "***" in db.display


def test_go_mysql_dsn() -> None:
    db = parse_dsn("oneapi:123456@tcp(mysql.local:3306)/one-api?charset=utf8mb4&parseTime=true", SQLITE_PATH)
    assert db.kind == "mysql"
    url = make_url(db.url)
    assert url.drivername == "mysql+aiomysql"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "oneapi",
        "123456",
        "mysql.local",
        3306,
        "one-api",
    )
    # parseTime / loc are Go driver options; only the charset reaches aiomysql.
    assert dict(url.query) == {"charset": "utf8mb4"}


@pytest.mark.parametrize("password", ["p@ss", "a:b:c", "sl/ash", "@:/#?&%x"])
def test_go_mysql_password_with_special_characters(password: str) -> None:
    db = parse_dsn(f"root:{password}@tcp(127.0.0.1:3306)/newapi?charset=utf8mb4", SQLITE_PATH)
    url = make_url(db.url)
    assert (url.username, url.password, url.host, url.database) == ("root", password, "127.0.0.1", "newapi")


def test_go_mysql_defaults() -> None:
    url = make_url(parse_dsn("u:p@/db", SQLITE_PATH).url)
    assert (url.host, url.port, url.database, url.query["charset"]) == ("127.0.0.1", 3306, "db", "utf8mb4")
    assert make_url(parse_dsn("/db", SQLITE_PATH).url).username == "root"
    assert make_url(parse_dsn("u@tcp(h:3307)/db?charset=utf8", SQLITE_PATH).url).query["charset"] == "utf8"


def test_go_mysql_ipv6_address() -> None:
    url = make_url(parse_dsn("u:p@tcp([::1]:3306)/db", SQLITE_PATH).url)
    assert (url.host, url.port) == ("::1", 3306)


def test_go_mysql_unix_socket() -> None:
    db = parse_dsn("u:p@unix(/var/run/mysqld/mysqld.sock)/newapi?charset=utf8mb4", SQLITE_PATH)
    url = make_url(db.url)
    assert url.database == "newapi"
    assert url.query["unix_socket"] == "/var/run/mysqld/mysqld.sock"
    assert url.query["charset"] == "utf8mb4"


def test_mysql_url() -> None:
    db = parse_dsn("mysql://u:p%40w@db:3306/newapi?parseTime=true", SQLITE_PATH)
    assert db.kind == "mysql"
    url = make_url(db.url)
    assert (url.drivername, url.username, url.password, url.host, url.database) == (
        "mysql+aiomysql",
        "u",
        "p@w",
        "db",
        "newapi",
    )
    assert dict(url.query) == {"charset": "utf8mb4"}


@pytest.mark.parametrize(
    ("dsn", "hint"),
    [
        ("garbage", "no '/dbname'"),
        ("root:pw@tcp(localhost:3306", "no '/dbname'"),
        ("u:p@tcp(h:1/db", "tcp(host:port)"),
        ("http://example.com/db", "unknown network"),
        ("u:p@udp(h:1)/db", "unknown network"),
    ],
)
def test_garbage_is_refused_with_an_actionable_message(dsn: str, hint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_dsn(dsn, SQLITE_PATH)
    message = caught.value.message
    assert "SQL_DSN" in message and "user:pass@tcp(host:3306)/db" in message and "postgres://" in message
    assert hint in message


def test_refusal_does_not_echo_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_dsn("root:TopSecret@tcp(localhost:3306", SQLITE_PATH)
    assert "TopSecret" not in caught.value.message


@pytest.mark.parametrize(
    "dsn",
    [
        "postgres://app:TopSecret@h:5432/db",
        "app:Top@Secret@tcp(h:3306)/db",
        "mysql://app:TopSecret@h/db",
        "app:TopSecret@unix(/s.sock)/db",
    ],
)
def test_display_masks_the_password(dsn: str) -> None:
    db = parse_dsn(dsn, SQLITE_PATH)
    assert "TopSecret" not in db.display and "Secret" not in db.display
    assert "app:***@" in db.display
    assert "TopSecret" in db.url or "Top%40Secret" in db.url


def test_display_of_sqlite_is_the_url() -> None:
    assert parse_dsn("", "x.db").display == "sqlite+aiosqlite:///x.db"
