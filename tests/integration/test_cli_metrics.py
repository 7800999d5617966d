"""``clinx serve --workers N`` gives its workers one shared metrics directory for the node, and removes it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from clinx.cli import main, shared_metrics_dir


def test_one_worker_needs_no_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINX_METRICS_DIR", raising=False)
    with shared_metrics_dir(1) as directory:
        assert directory == "" and "CLINX_METRICS_DIR" not in os.environ


def test_several_workers_get_a_fresh_directory_removed_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINX_METRICS_DIR", raising=False)
    with shared_metrics_dir(3) as directory:
        assert Path(directory).is_dir() and not any(Path(directory).iterdir())
        assert os.environ["CLINX_METRICS_DIR"] == directory
        (Path(directory) / "worker-1.json").write_text("[]")
    assert not Path(directory).exists()
    assert "CLINX_METRICS_DIR" not in os.environ


def test_a_directory_the_operator_chose_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLINX_METRICS_DIR", str(tmp_path))
    with shared_metrics_dir(4) as directory:
        assert directory == str(tmp_path)
    assert tmp_path.is_dir() and os.environ["CLINX_METRICS_DIR"] == str(tmp_path)


def test_serve_with_workers_hands_the_directory_to_uvicorn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SQL_DSN", "")
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "serve.db"))
    monkeypatch.setenv("SESSION_SECRET", "serve-secret-" + "y" * 20)
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("CLINX_SKIP_MIGRATE", "false")  # serve sets it for its workers: restored after the test
    for name in ("CLINX_METRICS_DIR", "REDIS_CONN_STRING", "NODE_TYPE", "PORT"):
        monkeypatch.delenv(name, raising=False)
    seen: dict[str, Any] = {}

    def fake_run(app: str, **kw: Any) -> None:
        seen["dir"] = os.environ.get("CLINX_METRICS_DIR", "")
        seen["existed"] = Path(seen["dir"]).is_dir() if seen["dir"] else False
        seen["workers"] = kw["workers"]

    monkeypatch.setattr(uvicorn, "run", fake_run)
    assert main(["serve", "--workers", "2"]) == 0
    assert seen["workers"] == 2 and seen["existed"] is True
    assert not Path(seen["dir"]).exists()
