"""Usage log routes: the admin's view of every row, each user's own rows, stats, search and cleanup."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from clinx.api.deps import AdminCaller, State, UserCaller
from clinx.api.envelope import JSONBody, ok
from clinx.core.errors import ValidationError
from clinx.core.log_items import log_out, owner_view
from clinx.store.repos import logs as logs_repo
from clinx.store.repos.logs import LogFilter, LogStat
from clinx.store.rows import Page, page_args

router = APIRouter(prefix="/api/log", tags=["logs"])


def query_int(request: Request, name: str) -> int:
    """An integer query parameter; absent or empty means 0 (as New API's lenient parsing)."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(f"无效的参数 ({name} must be a whole number, got {raw!r})") from None


def _query_str(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()


def _filter(request: Request, *, user_id: int = 0) -> LogFilter:
    """The filters of a log query; a user's own view ignores ``username`` and ``channel``."""
    own = user_id != 0
    return LogFilter(
        user_id=user_id,
        type=query_int(request, "type"),
        start_timestamp=query_int(request, "start_timestamp"),
        end_timestamp=query_int(request, "end_timestamp"),
        username="" if own else _query_str(request, "username"),
        token_name=_query_str(request, "token_name"),
        model_name=_query_str(request, "model_name"),
        channel=0 if own else query_int(request, "channel"),
        group=_query_str(request, "group"),
        request_id=_query_str(request, "request_id"),
        upstream_request_id=_query_str(request, "upstream_request_id"),
    )


def _paging(request: Request) -> tuple[int, int]:
    return page_args(query_int(request, "p"), query_int(request, "page_size"))


async def _admin_page(state: State, page: Page) -> dict[str, Any]:
    names = await logs_repo.channel_names(state.dbs.main, (int(r.get("channel_id") or 0) for r in page.items))
    items = [log_out(r, names.get(int(r.get("channel_id") or 0), "")) for r in page.items]
    return {"items": items, "total": page.total, "page": page.page, "page_size": page.page_size}


def _user_page(page: Page) -> dict[str, Any]:
    items = []
    for row in page.items:
        item = owner_view(row)
        items.append(item)
    return {"items": items, "total": page.total, "page": page.page, "page_size": page.page_size}


def _stat_out(stat: LogStat) -> dict[str, int]:
    return {"quota": stat.quota, "rpm": stat.rpm, "tpm": stat.tpm}


@router.get("/", summary="All usage logs (admin), newest first")
async def list_logs(request: Request, state: State, _caller: AdminCaller) -> JSONBody:
    page, size = _paging(request)
    result = await logs_repo.list_page(state.dbs.logs, _filter(request), page, size)
    return ok(await _admin_page(state, result))


@router.get("/self", summary="The caller's own usage logs, newest first")
async def list_own_logs(request: Request, state: State, caller: UserCaller) -> JSONBody:
    page, size = _paging(request)
    result = await logs_repo.list_page(state.dbs.logs, _filter(request, user_id=caller.id), page, size)
    return ok(_user_page(result))


@router.get("/stat", summary="Spend, requests and tokens per minute over all logs (admin)")
async def log_stat(request: Request, state: State, _caller: AdminCaller) -> JSONBody:
    stat = await logs_repo.stat(state.dbs.logs, _filter(request), state.clock.now())
    return ok(_stat_out(stat))


@router.get("/self/stat", summary="Spend, requests and tokens per minute over the caller's logs")
async def own_log_stat(request: Request, state: State, caller: UserCaller) -> JSONBody:
    stat = await logs_repo.stat(state.dbs.logs, _filter(request, user_id=caller.id), state.clock.now())
    return ok(_stat_out(stat))


@router.get("/search", summary="Search all logs by token, model, user name or content (admin)")
async def search_logs(request: Request, state: State, _caller: AdminCaller) -> JSONBody:
    page, size = _paging(request)
    result = await logs_repo.search(state.dbs.logs, _query_str(request, "keyword"), page, size)
    return ok(await _admin_page(state, result))


@router.get("/self/search", summary="Search the caller's own logs")
async def search_own_logs(request: Request, state: State, caller: UserCaller) -> JSONBody:
    page, size = _paging(request)
    result = await logs_repo.search(state.dbs.logs, _query_str(request, "keyword"), page, size, user_id=caller.id)
    return ok(_user_page(result))


@router.delete("/", summary="Delete logs older than target_timestamp (admin); answers how many were deleted")
async def delete_old_logs(request: Request, state: State, _caller: AdminCaller) -> JSONBody:
    target = query_int(request, "target_timestamp")
    if target <= 0:
        raise ValidationError("target timestamp is required (target_timestamp: unix seconds; older logs are deleted)")
    deleted = await logs_repo.delete_before(state.dbs.logs, target)
    return ok(deleted)
