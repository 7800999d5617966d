"""After the call: charge the real cost (or refund on failure) and queue the consume log and hourly bucket."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from clinx.billing.ledger import QuotaLedger
from clinx.billing.pricing import quota_for
from clinx.billing.usage_log import UsageLogWriter
from clinx.core.enums import LogType
from clinx.core.types import Usage
from clinx.relay.context import RelayContext

log = logging.getLogger(__name__)


def log_other(ctx: RelayContext, usage: Usage, stream_status: str) -> dict[str, Any]:
    price = ctx.price
    other: dict[str, Any] = {
        "model_ratio": price.model_ratio,
        "group_ratio": price.group_ratio,
        "completion_ratio": price.completion_ratio,
        "cache_tokens": usage.cached_tokens,
        "cache_ratio": price.cache_ratio,
        "model_price": price.model_price if price.per_call else -1,
        "frt": int((ctx.first_byte - ctx.started) * 1000) if ctx.first_byte else -1000,
        "request_path": ctx.request.endpoint.value,
        "admin_info": {"use_channel": ctx.tried},
    }
    if usage.cache_write_tokens:
        other["cache_creation_tokens"] = usage.cache_write_tokens
        other["cache_creation_ratio"] = price.create_cache_ratio
    if ctx.upstream_model and ctx.upstream_model != ctx.model:
        other["is_model_mapped"] = True
        other["upstream_model_name"] = ctx.upstream_model
    if ctx.request.stream:
        other["stream_status"] = stream_status
    if usage.estimated:
        other["admin_info"]["local_count_tokens"] = True
    return other


async def settle(
    ctx: RelayContext,
    usage: Usage,
    *,
    ledger: QuotaLedger,
    writer: UsageLogWriter,
    now: int,
    upstream_request_id: str = "",
    stream_status: str = "ok",
    log_consume: bool = True,
) -> int:
    """Charge ``usage`` against the reservation; returns the quota charged (what the log row says)."""
    actual = quota_for(usage, ctx.price)
    channel_id = ctx.channel.id if ctx.channel else 0
    charged = await ledger.settle(ctx.account, ctx.reserved, actual, channel_id)
    if charged != actual:
        log.warning("request %s: charge capped at %d of %d (balance ran out)", ctx.request.request_id, charged, actual)
    if not log_consume:
        return charged
    other = log_other(ctx, usage, stream_status)
    if charged != actual:
        other["charge_capped_from"] = actual
    content = "上游没有返回计费信息，已按本地计数计费 (usage counted locally)" if usage.estimated else ""
    token_name = ctx.token.name if ctx.token else "playground"
    writer.add(
        {
            "user_id": ctx.user.id,
            "created_at": now,
            "type": int(LogType.CONSUME),
            "content": content,
            "username": ctx.user.username,
            "token_name": token_name,
            "model_name": ctx.model,
            "quota": charged,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "use_time": int(time.monotonic() - ctx.started),
            "is_stream": ctx.request.stream,
            "channel_id": channel_id,
            "token_id": ctx.token.id if ctx.token else 0,
            "group": ctx.group,
            "ip": "",
            "request_id": ctx.request.request_id,
            "upstream_request_id": upstream_request_id[:128],
            "other": orjson.dumps(other).decode(),
        },
        {
            "user_id": ctx.user.id,
            "username": ctx.user.username,
            "model_name": ctx.model,
            "created_at": now,
            "token_used": usage.total_tokens,
            "count": 1,
            "quota": charged,
        },
    )
    return charged


def refund(ctx: RelayContext, ledger: QuotaLedger) -> None:
    ledger.refund(ctx.account, ctx.reserved)
    ctx.reserved = 0
