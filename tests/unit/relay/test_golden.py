"""Golden files for every bridge, one parametrized runner.

Layout: ``tests/golden/request/<client>_to_<upstream>/<case>.json`` holds ``{"input": client request,
"output": upstream request}``; ``tests/golden/response/<upstream>_to_<client>/<case>.json`` holds ``{"input":
upstream answer, "output": client answer}``; ``tests/golden/stream/<upstream>_to_<client>/<case>.json`` holds
``{"input": [events], "output": [events]}`` with each event ``{"name": str | null, "data": object | "[DONE]"}``.
Set ``CLINX_REGEN_GOLDEN=1`` to rewrite outputs from the current code (review the diff before committing).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from clinx.relay.convert.base import Bridge, Dialect, Event
from clinx.relay.convert.registry import all_bridges

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
REGEN = os.environ.get("CLINX_REGEN_GOLDEN") == "1"


def _cases(kind: str) -> list[Path]:
    return sorted((GOLDEN / kind).glob("*_to_*/*.json"))


def _bridge(kind: str, path: Path) -> Bridge:
    first, second = path.parent.name.split("_to_")
    client, upstream = (Dialect(first), Dialect(second)) if kind == "request" else (Dialect(second), Dialect(first))
    found = all_bridges().get((client, upstream))
    assert found is not None, f"no bridge for client {client} over upstream {upstream}"
    return found


def _events(raw: list[dict[str, Any]]) -> list[Event]:
    return [Event(data=e["data"], name=e.get("name")) for e in raw]


def _raw(events: list[Event]) -> list[dict[str, Any]]:
    return [{"name": e.name, "data": e.data} for e in events]


def _check(path: Path, case: dict[str, Any], actual: Any) -> None:
    if REGEN:
        case["output"] = actual
        path.write_text(json.dumps(case, ensure_ascii=False, indent=2) + "\n")
        return
    assert actual == case["output"]


@pytest.mark.parametrize("path", _cases("request"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_request(path: Path) -> None:
    case = json.loads(path.read_text())
    _check(path, case, _bridge("request", path).request(case["input"]))


@pytest.mark.parametrize("path", _cases("response"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_response(path: Path) -> None:
    case = json.loads(path.read_text())
    _check(path, case, _bridge("response", path).response(case["input"]))


@pytest.mark.parametrize("path", _cases("stream"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_stream(path: Path) -> None:
    case = json.loads(path.read_text())
    machine = _bridge("stream", path).stream()
    out: list[Event] = []
    for event in _events(case["input"]):
        out.extend(machine.feed(event))
    out.extend(machine.finish())
    _check(path, case, _raw(out))


def test_every_bridge_has_golden_files_of_each_kind() -> None:
    for client, upstream in all_bridges():
        assert list((GOLDEN / "request" / f"{client}_to_{upstream}").glob("*.json")), (client, upstream)
        assert list((GOLDEN / "response" / f"{upstream}_to_{client}").glob("*.json")), (client, upstream)
        assert list((GOLDEN / "stream" / f"{upstream}_to_{client}").glob("*.json")), (client, upstream)
