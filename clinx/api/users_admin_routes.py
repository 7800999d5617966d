"""Admin user management: list, search, get, create, update, delete and the ``manage`` actions.

Rules (New API's): an admin acts only on users of a lower role; root acts on everyone but cannot be disabled,
deleted or demoted; only root promotes. Quota changes are logged as type-3 (manage) log rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query

from clinx.api.deps import AdminCaller, Body, Caller, State
from clinx.api.envelope import JSONBody, ok
from clinx.api.serialize import user_out
from clinx.app_state import AppState
from clinx.auth.key_cache import forget_user
from clinx.auth.keys import new_aff_code
from clinx.auth.passwords import check_password_policy, hash_password
from clinx.core.enums import LogType, Role, UserStatus
from clinx.core.errors import ForbiddenError, NotFoundError, ValidationError
from clinx.store.repos import logs as logs_repo
from clinx.store.repos import users as users_repo
from clinx.store.rows import Page, Row, page_args

router = APIRouter(prefix="/api/user", tags=["users"])
MAX_USERNAME = 20
SAME_OR_HIGHER = "无权更新同权限等级或更高权限等级的用户信息"


def _page(page: Page) -> dict[str, Any]:
    return {
        "items": [user_out(r) for r in page.items],
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
    }


def _check_can_act_on(caller: Caller, target: Row) -> None:
    if caller.role != Role.ROOT and caller.role <= int(target["role"] or 0):
        raise ForbiddenError(SAME_OR_HIGHER)


async def _target(state: AppState, user_id: int) -> Row:
    user = await users_repo.get(state.dbs.main, user_id)
    if user is None:
        raise NotFoundError("用户不存在 (user not found)")
    return user


def format_quota(state: AppState, quota: int) -> str:
    """Quota as New API writes it in log texts: US$ when displaying in currency, else raw units."""
    o = state.options.current
    per_unit = o.get_int("QuotaPerUnit") or 500_000
    if o.get_bool("DisplayInCurrencyEnabled"):
        return f"＄{quota / per_unit:.6f} 额度"
    return f"{quota} 点额度"


async def _manage_log(state: AppState, caller: Caller, user: Row, content: str) -> None:
    await logs_repo.insert_log(
        state.dbs.logs,
        {
            "user_id": int(user["id"]),
            "username": user["username"],
            "created_at": state.clock.now(),
            "type": int(LogType.MANAGE),
            "content": f"{content} (by {caller.user['username']})",
        },
    )


@router.get("/", summary="List users (admin)")
async def list_users(
    state: State,
    _caller: AdminCaller,
    p: int = Query(1),
    page_size: int = Query(10),
) -> JSONBody:
    page, size = page_args(p, page_size)
    return ok(_page(await users_repo.list_page(state.dbs.main, page, size)))


@router.get("/search", summary="Search users by id, name, display name or email (admin)")
async def search_users(
    state: State,
    _caller: AdminCaller,
    keyword: str = Query(""),
    group: str = Query(""),
    p: int = Query(1),
    page_size: int = Query(10),
) -> JSONBody:
    page, size = page_args(p, page_size)
    return ok(_page(await users_repo.search(state.dbs.main, keyword.strip(), group.strip(), page, size)))


@router.get("/{user_id:int}", summary="One user (admin)")
async def get_user(state: State, caller: AdminCaller, user_id: int) -> JSONBody:
    user = await _target(state, user_id)
    if caller.id != user_id and caller.role != Role.ROOT and caller.role <= int(user["role"] or 0):
        raise ForbiddenError("无权获取同级或更高等级用户的信息")
    return ok(user_out(user))


@router.post("/", summary="Create a user (admin)")
async def create_user(state: State, caller: AdminCaller, body: Body) -> JSONBody:
    username = str(body.get("username") or "").strip()
    password = str(body.get("password") or "")
    if not username or len(username) > MAX_USERNAME:
        raise ValidationError(f"用户名不能为空且不能超过 {MAX_USERNAME} 个字符 (username 1-{MAX_USERNAME} characters)")
    check_password_policy(password)
    role = int(body.get("role") or Role.COMMON)
    if role not in (Role.COMMON, Role.ADMIN, Role.ROOT) or role >= caller.role:
        raise ForbiddenError("无法创建权限大于等于自己的用户")
    display = str(body.get("display_name") or "").strip() or username
    async with state.dbs.main.begin() as conn:
        await users_repo.create(
            conn,
            {
                "username": username,
                "password": hash_password(password),
                "display_name": display[:MAX_USERNAME],
                "role": role,
                "status": int(UserStatus.ENABLED),
                "quota": state.options.current.get_int("QuotaForNewUser"),
                "group": "default",
                "aff_code": new_aff_code(),
                "created_at": state.clock.now(),
                "setting": "",
            },
        )
    return ok()


def _update_values(body: dict[str, Any], target: Row) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "username" in body:
        username = str(body.get("username") or "").strip()
        if not username or len(username) > MAX_USERNAME:
            raise ValidationError(f"用户名不能为空且不能超过 {MAX_USERNAME} 个字符")
        values["username"] = username
    if "display_name" in body:
        values["display_name"] = (str(body.get("display_name") or "").strip() or target["username"])[:MAX_USERNAME]
    if "group" in body:
        group = str(body.get("group") or "").strip()
        if not group or len(group) > 64:
            raise ValidationError("分组不能为空且不能超过 64 个字符 (group 1-64 characters)")
        values["group"] = group
    if "remark" in body:
        values["remark"] = str(body.get("remark") or "")[:255]
    password = str(body.get("password") or "")
    if password:
        check_password_policy(password)
        values["password"] = hash_password(password)
        values["auth_version"] = int(target.get("auth_version") or 1) + 1
    if "quota" in body and body["quota"] is not None:
        quota = body["quota"]
        if isinstance(quota, bool) or not isinstance(quota, int) or quota < 0:
            raise ValidationError("额度必须是不小于 0 的整数 (quota must be a whole number ≥ 0)")
        values["quota"] = quota
    return values


@router.put("/", summary="Update a user (admin)")
async def update_user(state: State, caller: AdminCaller, body: Body) -> JSONBody:
    user_id = body.get("id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise ValidationError("无效的参数 (id is required)")
    target = await _target(state, user_id)
    _check_can_act_on(caller, target)
    values = _update_values(body, target)
    if values:
        await users_repo.update_fields(state.dbs.main, user_id, values)
        await forget_user(state.cache, user_id)
    if "quota" in values and values["quota"] != int(target["quota"] or 0):
        before, after = format_quota(state, int(target["quota"] or 0)), format_quota(state, values["quota"])
        await _manage_log(state, caller, target, f"管理员将用户额度从 {before}修改为 {after}")
    return ok(user_out(await _target(state, user_id)))


@router.delete("/{user_id:int}", summary="Delete a user (admin)")
async def delete_user(state: State, caller: AdminCaller, user_id: int) -> JSONBody:
    target = await _target(state, user_id)
    if int(target["role"] or 0) >= Role.ROOT:
        raise ForbiddenError("无法删除超级管理员用户")
    _check_can_act_on(caller, target)
    await users_repo.soft_delete(state.dbs.main, user_id)
    await forget_user(state.cache, user_id)
    return ok()


@router.post("/manage", summary="disable, enable, delete, promote, demote or add_quota (admin)")
async def manage_user(state: State, caller: AdminCaller, body: Body) -> JSONBody:
    user_id = body.get("id")
    action = str(body.get("action") or "")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not action:
        raise ValidationError("无效的参数 (id and action are required)")
    target = await _target(state, user_id)
    _check_can_act_on(caller, target)
    role, status = int(target["role"] or 0), int(target["status"] or 0)
    if action == "add_quota":
        await _add_quota(state, caller, target, body)
        target = await _target(state, user_id)
        return ok({"role": int(target["role"]), "status": int(target["status"]), "quota": int(target["quota"] or 0)})
    changes = _manage_changes(caller, action, role, status)
    await users_repo.update_fields(state.dbs.main, user_id, changes)
    await forget_user(state.cache, user_id)
    if action == "delete":
        return ok()
    return ok({"role": changes.get("role", role), "status": changes.get("status", status)})


def _manage_changes(caller: Caller, action: str, role: int, status: int) -> dict[str, Any]:
    if action in {"disable", "delete"} and role >= Role.ROOT:
        raise ForbiddenError("无法禁用超级管理员用户" if action == "disable" else "无法删除超级管理员用户")
    if action == "disable":
        return {"status": int(UserStatus.DISABLED)}
    if action == "enable":
        return {"status": int(UserStatus.ENABLED)}
    if action == "delete":
        return {"deleted_at": datetime.now(UTC).replace(tzinfo=None), "access_token": None}
    if action == "promote":
        if caller.role != Role.ROOT:
            raise ForbiddenError("普通管理员用户无法提升其他用户为管理员")
        if role >= Role.ADMIN:
            raise ValidationError("该用户已经是管理员")
        return {"role": int(Role.ADMIN)}
    if action == "demote":
        if role >= Role.ROOT:
            raise ForbiddenError("无法降级超级管理员用户")
        if role == Role.COMMON:
            raise ValidationError("该用户已经是普通用户")
        return {"role": int(Role.COMMON)}
    raise ValidationError(f"未知的操作 {action!r} (unknown action)")


async def _add_quota(state: AppState, caller: Caller, target: Row, body: dict[str, Any]) -> None:
    mode = str(body.get("mode") or "add")
    value = body.get("value")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("额度必须是不小于 0 的整数 (value must be a whole number ≥ 0)")
    if mode not in {"add", "subtract", "override"}:
        raise ValidationError("mode must be add, subtract or override")
    before = await users_repo.change_quota(state.dbs.main, int(target["id"]), mode, value)
    await forget_user(state.cache, int(target["id"]))
    if before is None:
        raise ValidationError("用户额度不足，无法扣减 (the user's quota is lower than the amount to subtract)")
    after = {"add": before + value, "subtract": before - value, "override": value}[mode]
    await _manage_log(
        state, caller, target, f"管理员将用户额度从 {format_quota(state, before)}修改为 {format_quota(state, after)}"
    )
