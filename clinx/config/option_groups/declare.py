"""Short constructors for option declarations: one call per key, secret flag derived from the key's name."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from clinx.config.option_groups.checks import Check, at_least
from clinx.config.options import OptionKind, OptionSpec, format_number, is_secret_key

_non_negative = at_least(0)


def _spec(key: str, kind: OptionKind, default: str, description: str, validate: Check | None) -> OptionSpec:
    return OptionSpec(key, kind, default, is_secret_key(key), validate, description)


def text(key: str, default: str, description: str, *, validate: Check | None = None) -> OptionSpec:
    return _spec(key, "str", default, description, validate)


def flag(key: str, default: bool, description: str) -> OptionSpec:
    return _spec(key, "bool", "true" if default else "false", description, None)


def whole(key: str, default: int, description: str, *, validate: Check | None = _non_negative) -> OptionSpec:
    """An integer option; ≥ 0 unless another check is given."""
    return _spec(key, "int", str(default), description, validate)


def number(key: str, default: float, description: str, *, validate: Check | None = _non_negative) -> OptionSpec:
    """A decimal option; ≥ 0 unless another check is given."""
    return _spec(key, "float", format_number(default), description, validate)


def structured(key: str, default: Any, description: str, *, validate: Check | None = None) -> OptionSpec:
    """A JSON option; ``default`` is the Python value or already-serialised JSON text."""
    raw = default if isinstance(default, str) else json.dumps(default, ensure_ascii=False, separators=(",", ":"))
    return _spec(key, "json", raw, description, validate)


def grouped(group: str, specs: Iterable[OptionSpec]) -> list[OptionSpec]:
    """Tag every spec with the settings group it is documented under."""
    return [replace(spec, group=group) for spec in specs]
