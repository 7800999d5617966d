"""A ``logs`` row as New API's clients read it (the channel id is named ``channel``), and what its owner may
see of it (no ``admin_info``: users never learn which channels served them)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

TEXT_FIELDS = ("content", "username", "token_name", "model_name", "group", "ip", "request_id", "other")
INT_FIELDS = ("id", "user_id", "created_at", "type", "quota", "prompt_tokens", "completion_tokens", "use_time",
              "token_id")  # fmt: skip


def log_out(row: Mapping[str, Any], channel_name: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {name: int(row.get(name) or 0) for name in INT_FIELDS}
    out.update({name: str(row.get(name) or "") for name in TEXT_FIELDS})
    out["is_stream"] = bool(row.get("is_stream"))
    out["channel"] = int(row.get("channel_id") or 0)
    out["channel_name"] = channel_name
    return out


def owner_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as its owner sees it (/api/log/self, /api/log/token)."""
    out = log_out(row)
    out["other"] = without_admin_info(out["other"])
    return out


def without_admin_info(other: str) -> str:
    if "admin_info" not in other:
        return other
    try:
        parsed = json.loads(other)
    except ValueError:
        return other
    if not isinstance(parsed, dict):
        return other
    parsed.pop("admin_info", None)
    return json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))
