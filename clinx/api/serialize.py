"""Output shapes of the management API: what each row looks like on the wire (secrets never included)."""

from __future__ import annotations

from typing import Any

from clinx.store.rows import Row

USER_FIELDS = (
    "id", "username", "display_name", "role", "status", "email", "group", "quota", "used_quota",
    "request_count", "aff_code", "aff_count", "aff_quota", "inviter_id", "github_id", "oidc_id",
    "wechat_id", "telegram_id", "linux_do_id", "discord_id", "setting", "remark", "stripe_customer",
    "created_at", "last_login_at",
)  # fmt: skip
_STRING_FIELDS = {"email", "github_id", "oidc_id", "wechat_id", "telegram_id", "linux_do_id", "discord_id",
                  "aff_code", "display_name", "remark", "stripe_customer", "group"}  # fmt: skip


def user_out(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in USER_FIELDS:
        value = row.get(name)
        if value is None:
            value = "" if name in _STRING_FIELDS else 0
        out[name] = value
    out["setting"] = row.get("setting") or ""
    out["aff_history_quota"] = row.get("aff_history") or 0
    out["password"] = ""  # v0.6 clients expect the key; never the hash.
    return out
