"""Settings from New API's environment variables: defaults, refusals with actionable messages, .env files."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinx.config.settings import DEFAULT_SQLITE_PATH, RateLimit, Settings, load_dotenv
from clinx.core.errors import ConfigError

SECRET = "a-long-random-session-secret-value"


def test_defaults_match_new_api() -> None:
    s = Settings.from_env({})
    assert s.port == 3000
    assert s.sql_dsn == "" and s.sqlite_path == DEFAULT_SQLITE_PATH == "one-api.db?_busy_timeout=30000"
    assert s.log_sql_dsn == "" and s.redis_conn_string == ""
    assert (s.sql_max_idle_conns, s.sql_max_open_conns, s.sql_max_lifetime) == (100, 1000, 60)
    assert s.sync_frequency == 60 and s.redis_pool_size == 10
    assert s.memory_cache_enabled is False and s.batch_update_enabled is False and s.batch_update_interval == 5
    assert s.node_type == "master" and s.is_master
    assert s.relay_timeout == 0 and s.streaming_timeout == 300 and s.max_request_body_mb == 128
    assert s.force_stream_option and s.count_token and s.get_media_token and not s.get_media_token_not_stream
    assert s.azure_default_api_version == "2025-04-01-preview"
    assert (s.gemini_safety_setting, s.cohere_safety_setting) == ("BLOCK_NONE", "NONE")
    assert s.dify_debug and s.update_task and not s.generate_default_token and not s.error_log_enabled
    assert s.log_dir == "./logs" and s.shutdown_timeout_seconds == 120


def test_missing_session_secret_is_generated_per_boot() -> None:
    first, second = Settings.from_env({}), Settings.from_env({})
    assert first.session_secret_generated
    assert len(first.session_secret) >= 32 and first.session_secret != second.session_secret
    # With nothing set, the crypto secret follows the (generated) session secret.
    assert first.effective_crypto_secret == first.session_secret


def test_explicit_values_are_read() -> None:
    s = Settings.from_env(
        {
            "PORT": " 8080 ",
            "SQL_DSN": "postgres://u:p@h/db",
            "SESSION_SECRET": SECRET,
            "NODE_TYPE": "SLAVE",
            "MEMORY_CACHE_ENABLED": "true",
            "BATCH_UPDATE_ENABLED": "1",
            "SYNC_FREQUENCY": "10",
            "CountToken": "false",
            "NODE_NAME": "node-7",
        }
    )
    assert s.port == 8080 and s.sql_dsn == "postgres://u:p@h/db"
    assert s.session_secret == SECRET and not s.session_secret_generated
    assert s.node_type == "slave" and not s.is_master
    assert s.memory_cache_enabled and s.batch_update_enabled and s.sync_frequency == 10
    assert s.count_token is False and s.node_name == "node-7"


def test_crypto_secret_defaults_to_session_secret() -> None:
    s = Settings.from_env({"SESSION_SECRET": SECRET})
    assert s.crypto_secret == SECRET and s.effective_crypto_secret == SECRET
    own = Settings.from_env({"SESSION_SECRET": SECRET, "CRYPTO_SECRET": "another-secret"})
    assert own.effective_crypto_secret == "another-secret" and own.session_secret == SECRET


def test_refuses_placeholder_session_secret() -> None:
    with pytest.raises(ConfigError, match="random_string") as caught:
        Settings.from_env({"SESSION_SECRET": "random_string"})
    assert "SESSION_SECRET" in caught.value.message and "openssl rand" in caught.value.message


def test_refuses_slave_without_session_secret() -> None:
    with pytest.raises(ConfigError, match=r"NODE_TYPE=slave needs SESSION_SECRET"):
        Settings.from_env({"NODE_TYPE": "slave"})
    assert not Settings.from_env({"NODE_TYPE": "slave", "SESSION_SECRET": SECRET}).is_master


def test_refuses_redis_without_session_secret() -> None:
    with pytest.raises(ConfigError, match=r"REDIS_CONN_STRING is set .* SESSION_SECRET is not"):
        Settings.from_env({"REDIS_CONN_STRING": "redis://localhost:6379/0"})
    s = Settings.from_env({"REDIS_CONN_STRING": "redis://localhost:6379/0", "SESSION_SECRET": SECRET})
    assert s.redis_conn_string == "redis://localhost:6379/0"


def test_refuses_unknown_node_type() -> None:
    with pytest.raises(ConfigError, match=r"NODE_TYPE must be 'master' or 'slave', got 'worker'"):
        Settings.from_env({"NODE_TYPE": "worker", "SESSION_SECRET": SECRET})


@pytest.mark.parametrize(
    ("name", "value"),
    [("PORT", "eighty"), ("SYNC_FREQUENCY", "1m"), ("SQL_MAX_OPEN_CONNS", "many"), ("GLOBAL_API_RATE_LIMIT", "x")],
)
def test_non_integer_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    assert caught.value.message == f"{name} must be a whole number, got {value!r}"


def test_bad_flag_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"MEMORY_CACHE_ENABLED must be true or false, got 'maybe'"):
        Settings.from_env({"MEMORY_CACHE_ENABLED": "maybe"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "0"}, "PORT must be between 1 and 65535"),
        ({"PORT": "70000"}, "PORT must be between 1 and 65535"),
        ({"SYNC_FREQUENCY": "0"}, "SYNC_FREQUENCY must be a positive"),
        ({"MAX_REQUEST_BODY_MB": "-1"}, "MAX_REQUEST_BODY_MB must be positive"),
    ],
)
def test_out_of_range_values_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_rate_limit_defaults() -> None:
    s = Settings.from_env({})
    assert s.global_api_rate_limit == RateLimit(True, 360, 180)
    assert s.global_web_rate_limit == RateLimit(True, 120, 180)
    assert s.critical_rate_limit == RateLimit(True, 20, 1200)


@pytest.mark.parametrize("prefix", ["GLOBAL_API_RATE_LIMIT", "GLOBAL_WEB_RATE_LIMIT", "CRITICAL_RATE_LIMIT"])
def test_rate_limit_env_triples(prefix: str) -> None:
    env = {prefix: "7", f"{prefix}_ENABLE": "false", f"{prefix}_DURATION": "30"}
    s = Settings.from_env(env)
    assert getattr(s, prefix.lower()) == RateLimit(False, 7, 30)


def test_load_dotenv_parses_lines(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment line\n"
        "\n"
        "PORT=3100\n"
        "export SQL_DSN=root:p@ss=word@tcp(db:3306)/newapi\n"
        "SESSION_SECRET = 'quoted value'\n"
        'CRYPTO_SECRET="double # not a comment"\n'
        "NOT_A_PAIR\n",
        encoding="utf-8",
    )
    assert load_dotenv(env_file) == {
        "PORT": "3100",
        "SQL_DSN": "root:p@ss=word@tcp(db:3306)/newapi",
        "SESSION_SECRET": "quoted value",
        "CRYPTO_SECRET": "double # not a comment",
    }


def test_load_dotenv_strips_inline_comments_of_unquoted_values(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=3200 # the console port\nHASHY=a#b\nQUOTED='x # y' # why\n", encoding="utf-8")
    assert load_dotenv(env_file) == {"PORT": "3200", "HASHY": "a#b", "QUOTED": "x # y"}


def test_load_dotenv_missing_file_is_empty(tmp_path: Path) -> None:
    assert load_dotenv(tmp_path / "absent.env") == {}


def test_from_env_reads_dotenv_and_real_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"PORT=3300\nSESSION_SECRET={SECRET}\nSYNC_FREQUENCY=15\n", encoding="utf-8")
    for name in ("PORT", "SESSION_SECRET", "SYNC_FREQUENCY", "NODE_TYPE", "REDIS_CONN_STRING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYNC_FREQUENCY", "30")
    s = Settings.from_env(dotenv=env_file)
    assert s.port == 3300 and s.session_secret == SECRET and not s.session_secret_generated
    assert s.sync_frequency == 30


def test_from_env_reads_dotenv_in_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("PORT=3400\n", encoding="utf-8")
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("NODE_TYPE", raising=False)
    monkeypatch.delenv("REDIS_CONN_STRING", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env().port == 3400


def test_explicit_environ_ignores_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("PORT=3500\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).port == 3000
