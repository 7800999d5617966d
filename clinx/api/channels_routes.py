"""Channel management (admin): list, search, create, edit, status, tags, delete, copy, abilities rebuild.
The key is never served except to root through POST /api/channel/{id}/key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from clinx.api import channel_schemas as schemas
from clinx.api.deps import AdminCaller, Body, RootCaller, State
from clinx.api.envelope import JSONBody, ok
from clinx.app_state import AppState
from clinx.config.default_prices import default_prices
from clinx.core.enums import ChannelStatus
from clinx.core.errors import NotFoundError, ValidationError
from clinx.routing.changes import channels_changed
from clinx.store.repos import abilities as abilities_repo
from clinx.store.repos import channels as channels_repo
from clinx.store.rows import page_args

router = APIRouter(prefix="/api/channel", tags=["channels"])


async def _reindex(state: AppState) -> None:
    """Channel writes apply to routing at once on this node, and on the others as soon as they hear of it."""
    await channels_changed(state.index, state.dbs.main, state.relay.notifier)


NOT_FOUND = "渠道不存在 (no channel with this id)"

Page = Annotated[int | None, Query(alias="p")]
PageSize = Annotated[int | None, Query()]
TypeFilter = Annotated[int | None, Query(alias="type", ge=-(2**31), le=schemas.MAX_ID)]
ChannelId = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]


def _status_filter(status: str) -> int | None:
    if status in ("enabled", "1"):
        return int(ChannelStatus.ENABLED)
    if status in ("disabled", "0"):
        return 0
    return None


async def _paged(state: State, query: channels_repo.ChannelQuery, p: int | None, page_size: int | None) -> JSONBody:
    page, size = page_args(p, page_size)
    found = await channels_repo.list_page(state.dbs.main, query, page, size)
    return ok(
        {
            "items": [schemas.channel_out(row) for row in found.page.items],
            "total": found.page.total,
            "page": found.page.page,
            "page_size": found.page.page_size,
            "type_counts": {str(t): n for t, n in sorted(found.type_counts.items())},
        }
    )


@router.get("/", summary="Channels, by priority (or id with id_sort); keys are never listed")
async def list_channels(
    state: State,
    _: AdminCaller,
    p: Page = None,
    page_size: PageSize = None,
    id_sort: bool = False,
    tag_mode: bool = False,
    status: str = "",
    channel_type: TypeFilter = None,
) -> JSONBody:
    query = channels_repo.ChannelQuery(
        status=_status_filter(status), type=channel_type, id_sort=id_sort, tag_mode=tag_mode
    )
    return await _paged(state, query, p, page_size)


@router.get("/search", summary="Channels whose name, id, base URL or tag match the keyword")
async def search_channels(
    state: State,
    _: AdminCaller,
    keyword: str = "",
    group: str = "",
    model: str = "",
    p: Page = None,
    page_size: PageSize = None,
    id_sort: bool = False,
    tag_mode: bool = False,
    status: str = "",
    channel_type: TypeFilter = None,
) -> JSONBody:
    query = channels_repo.ChannelQuery(
        status=_status_filter(status),
        type=channel_type,
        id_sort=id_sort,
        keyword=keyword.strip(),
        group=group.strip(),
        model=model.strip(),
        tag_mode=tag_mode,
    )
    return await _paged(state, query, p, page_size)


@router.get("/models", summary="Every known model name (default price tables and existing channels)")
async def list_models(state: State, _: AdminCaller) -> JSONBody:
    names = set(default_prices().known_models()) | await channels_repo.model_names(state.dbs.main)
    return ok([schemas.model_item(name) for name in sorted(names)])


@router.get("/models_enabled", summary="Models served by at least one enabled channel")
async def list_enabled_models(state: State, _: AdminCaller) -> JSONBody:
    return ok(await abilities_repo.models_enabled(state.dbs.main))


@router.get("/{channel_id:int}", summary="One channel, without its key")
async def get_channel(state: State, _: AdminCaller, channel_id: ChannelId) -> JSONBody:
    row = await channels_repo.get(state.dbs.main, channel_id)
    if row is None:
        raise NotFoundError(NOT_FOUND)
    return ok(schemas.channel_out(row))


@router.post("/{channel_id:int}/key", summary="Reveal a channel's key (root only)")
async def reveal_key(state: State, _: RootCaller, channel_id: ChannelId) -> JSONBody:
    row = await channels_repo.get(state.dbs.main, channel_id)
    if row is None:
        raise NotFoundError(NOT_FOUND)
    return ok({"key": row["key"]})


@router.post("/", summary="Add channels: v0.6 body (the channel) or {mode: single|batch|multi_to_single, channel}")
async def create_channels(state: State, _: AdminCaller, body: Body) -> JSONBody:
    rows = schemas.creation_rows(body, state.clock.now())
    await channels_repo.create_many(state.dbs.main, rows)
    await _reindex(state)
    return ok()


def _channel_id(body: dict[str, Any]) -> int:
    channel_id = body.get("id")
    if not schemas.is_channel_id(channel_id):
        raise ValidationError("参数错误 (id is required: the channel to edit)")
    return channel_id


@router.put("/", summary="Edit a channel: fields present are written; an empty key keeps the stored one")
async def update_channel(state: State, _: AdminCaller, body: Body) -> JSONBody:
    channel_id = _channel_id(body)
    existing = await channels_repo.get(state.dbs.main, channel_id)
    if existing is None:
        raise NotFoundError(NOT_FOUND)
    row = await channels_repo.update_fields(state.dbs.main, channel_id, schemas.update_values(body, existing))
    if row is None:
        raise NotFoundError(NOT_FOUND)
    await _reindex(state)
    return ok(schemas.channel_out(row))


@router.post("/{channel_id:int}/status", summary="Enable (1) or disable (2 manual, 3 automatic) a channel")
async def set_status(state: State, _: AdminCaller, channel_id: ChannelId, body: Body) -> JSONBody:
    status = body.get("status")
    if isinstance(status, bool) or status not in (1, 2, 3):
        raise ValidationError("status 只能是 1、2 或 3 (status must be 1 enabled, 2 disabled or 3 auto-disabled)")
    if not await channels_repo.set_status(state.dbs.main, channel_id, int(status)):
        raise NotFoundError(NOT_FOUND)
    await _reindex(state)
    return ok()


@router.delete("/disabled", summary="Delete every disabled channel (status 2 or 3)")
async def delete_disabled(state: State, _: AdminCaller) -> JSONBody:
    result = await channels_repo.delete_disabled(state.dbs.main)
    await _reindex(state)
    return ok(result)


@router.delete("/{channel_id:int}", summary="Delete a channel and its abilities")
async def delete_channel(state: State, _: AdminCaller, channel_id: ChannelId) -> JSONBody:
    if not await channels_repo.delete_many(state.dbs.main, [channel_id]):
        raise NotFoundError(NOT_FOUND)
    await _reindex(state)
    return ok()


@router.post("/batch", summary="Delete channels by id; data = how many")
async def delete_batch(state: State, _: AdminCaller, body: Body) -> JSONBody:
    result = await channels_repo.delete_many(state.dbs.main, schemas.id_list(body))
    await _reindex(state)
    return ok(result)


@router.post("/batch/tag", summary="Set (or clear with null) the tag of channels by id")
async def tag_batch(state: State, _: AdminCaller, body: Body) -> JSONBody:
    ids = schemas.id_list(body)
    result = await channels_repo.set_tag(state.dbs.main, ids, schemas.optional_tag(body.get("tag")))
    await _reindex(state)
    return ok(result)


@router.post("/tag/disabled", summary="Disable every channel of a tag")
async def disable_tag(state: State, _: AdminCaller, body: Body) -> JSONBody:
    status = int(ChannelStatus.MANUALLY_DISABLED)
    await channels_repo.edit_by_tag(state.dbs.main, schemas.tag_of(body), {"status": status})
    await _reindex(state)
    return ok()


@router.post("/tag/enabled", summary="Enable every channel of a tag")
async def enable_tag(state: State, _: AdminCaller, body: Body) -> JSONBody:
    status = int(ChannelStatus.ENABLED)
    await channels_repo.edit_by_tag(state.dbs.main, schemas.tag_of(body), {"status": status})
    await _reindex(state)
    return ok()


@router.put("/tag", summary="Edit every channel of a tag (new_tag, priority, weight, models, groups, mapping)")
async def edit_tag(state: State, _: AdminCaller, body: Body) -> JSONBody:
    values = schemas.tag_edit_values(body)
    await channels_repo.edit_by_tag(state.dbs.main, schemas.tag_of(body), values)
    await _reindex(state)
    return ok()


@router.post("/fix", summary="Rebuild the abilities routing index from the channels")
async def fix_abilities(state: State, _: AdminCaller) -> JSONBody:
    count = await channels_repo.rebuild_abilities(state.dbs.main)
    await _reindex(state)
    return ok({"success": count, "fails": 0})


@router.post("/copy/{channel_id:int}", summary="Duplicate a channel (new id, name + suffix) with its abilities")
async def copy_channel(
    state: State, _: AdminCaller, channel_id: ChannelId, suffix: str = "_复制", reset_balance: bool = True
) -> JSONBody:
    origin = await channels_repo.get(state.dbs.main, channel_id)
    if origin is None:
        raise NotFoundError(NOT_FOUND)
    changes: dict[str, Any] = {
        "name": schemas.text_field("name", f"{origin.get('name') or ''}{suffix}"),
        "created_time": state.clock.now(),
        "used_quota": 0,
        "test_time": 0,
        "response_time": 0,
    }
    if reset_balance:
        changes.update(balance=0.0, balance_updated_time=0)
    new_id = await channels_repo.copy(state.dbs.main, channel_id, changes)
    if new_id is None:
        raise NotFoundError(NOT_FOUND)
    await _reindex(state)
    return ok({"id": new_id})
