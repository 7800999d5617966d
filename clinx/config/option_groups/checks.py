"""Validators for option values: each takes the parsed value and raises ValidationError saying what is wrong.

The option key is added by ``OptionSpec.parse``, so messages here describe only the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from clinx.core.errors import ValidationError

Check = Callable[[Any], None]
MAX_INT32 = 2_147_483_647
STATUS_MIN, STATUS_MAX = 100, 599


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"value must be a JSON object of {what}")
    return value


def _array(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError(f"value must be a JSON array of {what}")
    return value


def at_least(low: float) -> Check:
    def check(value: Any) -> None:
        if value < low:
            raise ValidationError(f"value must be at least {low:g}, got {value:g}")

    return check


def between(low: float, high: float) -> Check:
    def check(value: Any) -> None:
        if not low <= value <= high:
            raise ValidationError(f"value must be between {low:g} and {high:g}, got {value:g}")

    return check


def positive(value: Any) -> None:
    if value <= 0:
        raise ValidationError(f"value must be greater than 0, got {value:g}")


def one_of(*choices: str) -> Check:
    def check(value: Any) -> None:
        if value not in choices:
            raise ValidationError(f"value must be one of {', '.join(choices)}; got {value!r}")

    return check


def ratio_map(value: Any) -> None:
    """``{"name": number ≥ 0, …}`` — ModelRatio, ModelPrice, GroupRatio and the other ratio tables."""
    for name, ratio in _object(value, "name → number").items():
        if not _is_number(ratio) or ratio < 0:
            raise ValidationError(f"ratio for {name!r} must be a number ≥ 0, got {ratio!r}")


def nested_ratio_map(value: Any) -> None:
    """``{"user group": {"using group": number ≥ 0}}`` — GroupGroupRatio."""
    for name, inner in _object(value, "group → {group → number}").items():
        try:
            ratio_map(inner)
        except ValidationError as exc:
            raise ValidationError(f"{name!r}: {exc.message}") from None


def string_map(value: Any) -> None:
    for name, text in _object(value, "name → text").items():
        if not isinstance(text, str):
            raise ValidationError(f"value for {name!r} must be text, got {text!r}")


def nested_string_map(value: Any) -> None:
    for name, inner in _object(value, "group → {name → text}").items():
        try:
            string_map(inner)
        except ValidationError as exc:
            raise ValidationError(f"{name!r}: {exc.message}") from None


def int_map(value: Any) -> None:
    """``{"model": whole number ≥ 0}`` — claude.default_max_tokens."""
    for name, number in _object(value, "name → whole number").items():
        if not _is_int(number) or number < 0:
            raise ValidationError(f"value for {name!r} must be a whole number ≥ 0, got {number!r}")


def json_object(value: Any) -> None:
    _object(value, "settings")


def string_list(value: Any) -> None:
    for item in _array(value, "text"):
        if not isinstance(item, str):
            raise ValidationError(f"every entry must be text, got {item!r}")


def positive_int_list(value: Any) -> None:
    for item in _array(value, "whole numbers"):
        if not _is_int(item) or item <= 0:
            raise ValidationError(f"every entry must be a whole number > 0, got {item!r}")


def object_list(value: Any) -> None:
    for item in _array(value, "objects"):
        if not isinstance(item, dict):
            raise ValidationError(f"every entry must be a JSON object, got {item!r}")


def string_object_list(value: Any) -> None:
    """``[{"k": "text", …}, …]`` — PayMethods."""
    for item in _array(value, "objects"):
        try:
            string_map(item)
        except ValidationError as exc:
            raise ValidationError(f"entry {item!r}: {exc.message}") from None


def chats(value: Any) -> None:
    """``[{"name": "url template"}, …]`` — one entry per object, as the console expects."""
    for item in _array(value, '{"name": "url template"} objects'):
        if not isinstance(item, dict) or len(item) != 1 or not all(isinstance(v, str) for v in item.values()):
            raise ValidationError(f'every entry must be one {{"name": "url template"}} pair, got {item!r}')


def header_settings(value: Any) -> None:
    """``{"model": {"Header-Name": ["value", …]}}`` — claude.model_headers_settings."""
    for model, headers in _object(value, "model → {header → [values]}").items():
        for header, values in _object(headers, f"header → [values] for {model!r}").items():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValidationError(f"headers of {model!r}: {header!r} must be a list of text")


def amount_discount(value: Any) -> None:
    """``{"amount": discount}`` or ``[{"min_amount": n, "discount": d}, …]`` — payment_setting.amount_discount."""
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, dict) or not _is_number(item.get("discount")):
                raise ValidationError(f'every threshold must be {{"min_amount": n, "discount": d}}, got {item!r}')
        return
    ratio_map(value)


def rate_limit_groups(value: Any) -> None:
    """``{"group": [max requests ≥ 0, max successes ≥ 1]}`` — ModelRequestRateLimitGroup."""
    for group, limits in _object(value, "group → [requests, successes]").items():
        ok = isinstance(limits, list) and len(limits) == 2 and all(_is_int(n) for n in limits)
        if not ok or not (0 <= limits[0] <= MAX_INT32 and 1 <= limits[1] <= MAX_INT32):
            raise ValidationError(
                f"group {group!r} must be [max requests ≥ 0, max successes ≥ 1] (each ≤ {MAX_INT32}), got {limits!r}"
            )


def _status_token(token: str) -> tuple[int, int]:
    start_text, dash, end_text = token.partition("-")
    if dash and (not start_text or not end_text or "-" in end_text):
        raise ValueError(token)
    start = int(start_text)
    end = int(end_text) if dash else start
    if start > end or start < STATUS_MIN or end > STATUS_MAX:
        raise ValueError(token)
    return start, end


def parse_status_ranges(text: str) -> list[tuple[int, int]]:
    """Parse ``"401"`` / ``"100-199,300-399"`` (full-width commas allowed, as New API) into sorted ranges."""
    ranges: list[tuple[int, int]] = []
    bad: list[str] = []
    for part in text.replace("，", ",").split(","):
        token = part.replace(" ", "").strip()
        if not token:
            continue
        try:
            ranges.append(_status_token(token))
        except ValueError:
            bad.append(token)
    if bad:
        raise ValidationError(
            f'invalid HTTP status codes or ranges: {", ".join(bad)} (use codes 100-599 like "401,500-503")'
        )
    return sorted(ranges)


def status_ranges(value: Any) -> None:
    parse_status_ranges(str(value))
