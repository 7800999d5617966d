"""Account routes: register, login, logout, the caller's own profile and personal access token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from clinx.api.deps import Body, State, UserCaller
from clinx.api.envelope import JSONBody, fail, ok
from clinx.api.serialize import user_out
from clinx.auth.key_cache import forget_user
from clinx.auth.keys import new_access_token, new_aff_code
from clinx.auth.passwords import check_password_policy, hash_password, verify_password
from clinx.auth.sessions import COOKIE_NAME, MAX_AGE, SessionData
from clinx.core.enums import Role, UserStatus
from clinx.core.errors import ValidationError
from clinx.store.repos import users as users_repo

router = APIRouter(prefix="/api/user", tags=["account"])
LOGIN_FAILED = "用户名或密码错误，或用户已被封禁"
MAX_USERNAME = 20


@router.post("/login", summary="Log in with username and password; sets the session cookie")
async def login(state: State, body: Body) -> JSONBody:
    if not state.options.current.get_bool("PasswordLoginEnabled"):
        return fail("管理员关闭了密码登录")
    username = str(body.get("username") or "").strip()
    password = str(body.get("password") or "")
    if not username or not password:
        return fail("无效的参数 (username and password are required)")
    user = await users_repo.get_by_username(state.dbs.main, username)
    if user is None or not verify_password(password, str(user["password"])):
        return fail(LOGIN_FAILED)
    if int(user["status"] or 0) != UserStatus.ENABLED:
        return fail(LOGIN_FAILED)
    await users_repo.update_fields(state.dbs.main, int(user["id"]), {"last_login_at": state.clock.now()})
    cookie = state.sessions.dumps(SessionData(int(user["id"]), int(user.get("auth_version") or 1)))
    out = user_out(user)
    response = ok(out)
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=state.settings.session_cookie_secure,
    )
    return response


@router.get("/logout", summary="End the session")
async def logout() -> JSONBody:
    response = ok()
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


def _check_username(username: str) -> None:
    if not username:
        raise ValidationError("用户名不能为空 (username is required)")
    if len(username) > MAX_USERNAME:
        raise ValidationError(f"用户名长度不能超过 {MAX_USERNAME} 个字符 (username too long)")


@router.post("/register", summary="Create an account (when registration is enabled)")
async def register(state: State, body: Body) -> JSONBody:
    o = state.options.current
    if not o.get_bool("RegisterEnabled") or not o.get_bool("PasswordRegisterEnabled"):
        return fail("管理员关闭了新用户注册")
    if o.get_bool("EmailVerificationEnabled"):
        return fail("管理员开启了邮箱验证，暂不支持无验证码注册 (email verification is not available yet)")
    username = str(body.get("username") or "").strip()
    password = str(body.get("password") or "")
    _check_username(username)
    check_password_policy(password)
    inviter_id = 0
    aff = str(body.get("aff_code") or "").strip()
    if aff:
        inviter = await users_repo.get_by_aff_code(state.dbs.main, aff)
        inviter_id = int(inviter["id"]) if inviter else 0
    async with state.dbs.main.begin() as conn:
        await users_repo.create(
            conn,
            {
                "username": username,
                "password": hash_password(password),
                "display_name": username,
                "role": int(Role.COMMON),
                "status": int(UserStatus.ENABLED),
                "quota": o.get_int("QuotaForNewUser"),
                "group": "default",
                "aff_code": new_aff_code(),
                "inviter_id": inviter_id,
                "created_at": state.clock.now(),
                "setting": "",
            },
        )
    return ok()


@router.get("/self", summary="The caller's own profile")
async def get_self(caller: UserCaller) -> JSONBody:
    return ok(user_out(caller.user))


@router.put("/self", summary="Update the caller's display name or password")
async def update_self(state: State, caller: UserCaller, body: Body) -> JSONBody:
    changes: dict[str, Any] = {}
    if "display_name" in body:
        name = str(body.get("display_name") or "").strip()
        if len(name) > MAX_USERNAME:
            raise ValidationError("显示名称过长 (display name too long)")
        changes["display_name"] = name or caller.user["username"]
    password = str(body.get("password") or "")
    if password:
        original = str(body.get("original_password") or "")
        if original and not verify_password(original, str(caller.user["password"])):
            return fail("原密码错误 (the current password is wrong)")
        check_password_policy(password)
        changes["password"] = hash_password(password)
    if not changes:
        return ok()
    await users_repo.update_fields(state.dbs.main, caller.id, changes)
    return ok()


@router.delete("/self", summary="Delete the caller's own account (root cannot)")
async def delete_self(state: State, caller: UserCaller) -> JSONBody:
    if caller.role >= Role.ROOT:
        return fail("不能删除超级管理员账户")
    await users_repo.soft_delete(state.dbs.main, caller.id)
    await forget_user(state.cache, caller.id)
    response = ok()
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/token", summary="Issue a new personal access token (replaces the previous one)")
async def generate_access_token(state: State, caller: UserCaller) -> JSONBody:
    token = new_access_token()
    await users_repo.update_fields(state.dbs.main, caller.id, {"access_token": token})
    return ok(token)


@router.get("/aff", summary="The caller's invitation code")
async def get_aff_code(state: State, caller: UserCaller) -> JSONBody:
    code = caller.user.get("aff_code")
    if not code:
        code = new_aff_code()
        await users_repo.update_fields(state.dbs.main, caller.id, {"aff_code": code})
    return ok(code)
