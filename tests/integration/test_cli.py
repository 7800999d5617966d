"""The ``clinx`` command line: root account from the shell, version, refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from clinx.cli import main
from tests.support.app import running_app


def _env(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    monkeypatch.setenv("SQL_DSN", "")
    monkeypatch.setenv("SQLITE_PATH", str(db))
    monkeypatch.delenv("REDIS_CONN_STRING", raising=False)
    monkeypatch.delenv("SESSION_SECRET", raising=False)
    monkeypatch.delenv("NODE_TYPE", raising=False)


async def test_root_password_creates_then_resets_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cli.db"
    _env(monkeypatch, db)
    # main() runs its own event loop; run it in a worker thread so it does not nest inside the test's loop.
    assert await asyncio.to_thread(main, ["root-password", "--username", "admin", "--password", "First-pass-1"]) == 0
    assert "created" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["root-password", "--password", "Second-pass-2"]) == 0
    assert "reset" in capsys.readouterr().out
    async with running_app(f"local:{db}") as app:
        assert (await app.client.get("/api/setup")).json()["data"]["status"] is True
        old = await app.client.post("/api/user/login", json={"username": "admin", "password": "First-pass-1"})
        assert old.json()["success"] is False
        new = await app.client.post("/api/user/login", json={"username": "admin", "password": "Second-pass-2"})
        assert new.json()["data"]["role"] == 100


def test_root_password_refuses_weak_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, tmp_path / "weak.db")
    assert main(["root-password", "--password", "short"]) == 2


def test_unsafe_settings_are_refused_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, tmp_path / "x.db")
    monkeypatch.setenv("SESSION_SECRET", "random_string")
    assert main(["migrate"]) == 2
    assert "SESSION_SECRET" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("clinx v")
