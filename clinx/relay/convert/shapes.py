"""Shape checks shared by the bridges: a client's malformed field becomes a ValidationError naming it."""

from __future__ import annotations

from typing import Any

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json


def as_dict(value: Any, where: str) -> Json:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise ValidationError(f"{where} must be a JSON object")


def as_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise ValidationError(f"{where} must be a JSON array")


def as_str(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise ValidationError(f"{where} must be a string")
