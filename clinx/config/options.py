"""The typed registry of runtime options (New API's ``options`` table) and the immutable snapshot.

Every key New API stores is declared once in ``clinx.config.option_keys`` with its type, default, validator and
secret flag. Values are strings in the database (as New API stores them); the snapshot parses them once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from clinx.core.errors import ValidationError

OptionKind = Literal["str", "int", "float", "bool", "json"]
Validator = Callable[[Any], None]


@dataclass(frozen=True)
class OptionSpec:
    key: str
    kind: OptionKind
    default: str
    secret: bool = False
    validate: Validator | None = None
    description: str = ""
    group: str = ""

    def parse(self, raw: str) -> Any:
        """Parse a stored string into its typed value; raise ValidationError naming the key on a bad value."""
        try:
            value = _PARSERS[self.kind](raw)
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"option {self.key} expects {_KIND_HINT[self.kind]}, got {_clip(raw)}") from exc
        if self.validate is not None:
            try:
                self.validate(value)
            except ValidationError as exc:
                raise ValidationError(f"option {self.key}: {exc.message}") from exc
        return value

    def canonical(self, raw: str) -> str:
        """The stored form of a valid ``raw``: ``true``/``false`` and plain numbers, as New API writes them."""
        value = self.parse(raw)
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind in ("int", "float"):
            return format_number(value)
        return raw


def _clip(raw: str, limit: int = 80) -> str:
    return repr(raw if len(raw) <= limit else raw[:limit] + "…")


def format_number(value: float) -> str:
    """A number as Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` writes it: ``2`` not ``2.0``, never exponents."""
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0", ""}:
        return False
    raise ValueError(raw)


def _parse_json(raw: str) -> Any:
    if raw.strip() == "":
        return None
    return json.loads(raw)


def _parse_int(raw: str) -> int:
    return int(raw.strip() or "0")


def _parse_float(raw: str) -> float:
    value = float(raw.strip() or "0")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(raw)
    return value


_PARSERS: dict[OptionKind, Callable[[str], Any]] = {
    "str": str,
    "int": _parse_int,
    "float": _parse_float,
    "bool": _parse_bool,
    "json": _parse_json,
}
_KIND_HINT = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": '"true" or "false"',
    "json": "JSON text",
}


_SECRET_SUFFIXES = ("Token", "Secret", "Key", "secret", "api_key")


def is_secret_key(key: str) -> bool:
    """New API omits keys ending in Token, Secret, Key (and dotted ``…secret`` / ``…api_key``) from
    GET /api/option/; they are write-only."""
    return key.endswith(_SECRET_SUFFIXES)


class OptionRegistry:
    def __init__(self, specs: Iterable[OptionSpec]) -> None:
        self._specs: dict[str, OptionSpec] = {}
        for spec in specs:
            if spec.key in self._specs:
                raise ValueError(f"option {spec.key} declared twice")
            self._specs[spec.key] = spec

    def __contains__(self, key: object) -> bool:
        return key in self._specs

    def __iter__(self) -> Iterator[OptionSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, key: str) -> OptionSpec | None:
        return self._specs.get(key)

    def spec(self, key: str) -> OptionSpec:
        spec = self._specs.get(key)
        if spec is None:
            raise ValidationError(f"unknown option {key!r}")
        return spec

    def defaults(self) -> dict[str, str]:
        return {s.key: s.default for s in self._specs.values()}

    def normalise(self, key: str, value: Any) -> str:
        """Turn a value sent by a client (string, bool or number) into the stored string, validated."""
        spec = self.spec(key)
        if isinstance(value, bool):
            raw = "true" if value else "false"
        elif isinstance(value, (int, float)):
            raw = format_number(value)
        elif isinstance(value, str):
            raw = value
        elif isinstance(value, (dict, list)) and spec.kind == "json":
            raw = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            raise ValidationError(f"option {key} must be sent as a string")
        return spec.canonical(raw)

    def snapshot(self, stored: Mapping[str, str], version: int = 0) -> OptionsSnapshot:
        """Defaults overlaid with stored values. Unknown stored keys are kept as raw text (forward compatible);
        a stored value that no longer parses falls back to the default rather than breaking the start."""
        raw = self.defaults()
        raw.update(stored)
        typed: dict[str, Any] = {}
        for key, value in raw.items():
            spec = self._specs.get(key)
            if spec is None:
                typed[key] = value
                continue
            try:
                typed[key] = spec.parse(value)
            except ValidationError:
                typed[key] = spec.parse(spec.default)
        return OptionsSnapshot(MappingProxyType(raw), MappingProxyType(typed), version)


@dataclass(frozen=True)
class OptionsSnapshot:
    """An immutable view of all options; replaced as a whole when any option changes."""

    raw: Mapping[str, str]
    values: Mapping[str, Any]
    version: int = 0
    # Results derived from this snapshot alone (e.g. a model's resolved price), kept for its lifetime: a new
    # snapshot starts empty, so nothing derived ever outlives the options it came from.
    derived: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def get_bool(self, key: str) -> bool:
        return bool(self.values.get(key, False))

    def get_int(self, key: str) -> int:
        return int(self.values.get(key) or 0)

    def get_float(self, key: str) -> float:
        return float(self.values.get(key) or 0.0)

    def get_str(self, key: str) -> str:
        value = self.values.get(key)
        return "" if value is None else str(value)

    def get_json(self, key: str) -> Any:
        return self.values.get(key)
