"""Dashboard data routes: hourly usage buckets (``quota_data``) for everyone (admin) or the caller."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from clinx.api.deps import AdminCaller, State, UserCaller
from clinx.api.envelope import JSONBody, ok
from clinx.api.logs_routes import query_int
from clinx.core.errors import ValidationError
from clinx.store.repos import quota_data as quota_data_repo
from clinx.store.rows import Row

router = APIRouter(prefix="/api/data", tags=["dashboard"])

MAX_SELF_SPAN = 30 * 24 * 3600  # New API: a user's own chart covers at most one month
_INT_FIELDS = ("id", "user_id", "created_at", "token_used", "count", "quota", "token_id", "channel_id")
_TEXT_FIELDS = ("username", "model_name", "use_group", "node_name")


def bucket_out(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {name: int(row.get(name) or 0) for name in _INT_FIELDS}
    out.update({name: str(row.get(name) or "") for name in _TEXT_FIELDS})
    return out


def _range(request: Request, now: int, *, default_span: int) -> tuple[int, int]:
    """(start, end); a missing end means now, a missing start ``default_span`` seconds before the end (0: epoch)."""
    end = query_int(request, "end_timestamp") or now
    if request.query_params.get("start_timestamp", "").strip():
        start = query_int(request, "start_timestamp")
    else:
        start = max(end - default_span, 0) if default_span else 0
    if start > end:
        raise ValidationError("start_timestamp must not be after end_timestamp")
    return start, end


@router.get("/", summary="Hourly usage of all users, or of one username (admin)")
async def all_quota_data(request: Request, state: State, _caller: AdminCaller) -> JSONBody:
    start, end = _range(request, state.clock.now(), default_span=0)
    username = request.query_params.get("username", "").strip()
    if username:
        rows = await quota_data_repo.for_username(state.dbs.main, username, start, end)
    else:
        rows = await quota_data_repo.totals_by_model(state.dbs.main, start, end)
    return ok([bucket_out(r) for r in rows])


@router.get("/self", summary="The caller's hourly usage (a span of at most 30 days)")
async def own_quota_data(request: Request, state: State, caller: UserCaller) -> JSONBody:
    start, end = _range(request, state.clock.now(), default_span=MAX_SELF_SPAN)
    if end - start > MAX_SELF_SPAN:
        raise ValidationError("时间跨度不能超过 1 个月 (the time span must not exceed 30 days)")
    rows = await quota_data_repo.for_user(state.dbs.main, caller.id, start, end)
    return ok([bucket_out(r) for r in rows])
