"""Request dependencies: the app state, the JSON body, and the caller's identity and role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request

from clinx.api.envelope import MALFORMED
from clinx.app_state import AppState
from clinx.auth.sessions import COOKIE_NAME
from clinx.core.enums import Role, UserStatus
from clinx.core.errors import AuthError, ForbiddenError, ValidationError
from clinx.store.repos import users as users_repo
from clinx.store.rows import Row


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.clinx
    return state


State = Annotated[AppState, Depends(get_state)]


async def json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; a clear message for anything else."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationError("无效的参数 (the request body is not valid JSON)", code=MALFORMED) from None
    if not isinstance(body, dict):
        raise ValidationError("无效的参数 (the request body must be a JSON object)", code=MALFORMED)
    return body


Body = Annotated[dict[str, Any], Depends(json_body)]


@dataclass(frozen=True)
class Caller:
    user: Row
    via_session: bool

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def role(self) -> int:
        return int(self.user["role"] or 0)


async def _identify(request: Request, state: AppState) -> Caller:
    cookie = request.cookies.get(COOKIE_NAME)
    header_user = request.headers.get("New-Api-User", "").strip()
    user: Row | None = None
    via_session = False
    if cookie:
        data = state.sessions.loads(cookie)
        if data is not None:
            user = await users_repo.get(state.dbs.main, data.user_id)
            if user is not None and int(user.get("auth_version") or 1) != data.auth_version:
                user = None
            via_session = user is not None
    if user is None:
        auth = request.headers.get("Authorization", "").strip()
        token = auth.removeprefix("Bearer ").strip()
        if not token:
            raise AuthError("无权进行此操作，未登录且未提供 access token")
        user = await users_repo.get_by_access_token(state.dbs.main, token)
        if user is None:
            raise AuthError("无权进行此操作，access token 无效")
    if via_session and not header_user:
        # Required with a cookie: a custom header cannot be forged cross-site (CSRF guard).
        raise AuthError("无权进行此操作，未提供 New-Api-User")
    if header_user:
        if not header_user.isdigit():
            raise AuthError("无权进行此操作，New-Api-User 格式错误")
        if int(header_user) != int(user["id"]):
            raise AuthError("无权进行此操作，New-Api-User 与登录用户不匹配")
    if int(user["status"] or 0) != UserStatus.ENABLED:
        raise ForbiddenError("用户已被封禁")
    return Caller(user=user, via_session=via_session)


def require(role: Role) -> Any:
    async def dependency(request: Request, state: State) -> Caller:
        caller = await _identify(request, state)
        if caller.role < role:
            raise ForbiddenError("无权进行此操作，权限不足")
        return caller

    return Depends(dependency)


UserCaller = Annotated[Caller, require(Role.COMMON)]
AdminCaller = Annotated[Caller, require(Role.ADMIN)]
RootCaller = Annotated[Caller, require(Role.ROOT)]


async def optional_caller(request: Request, state: State) -> Caller | None:
    """The logged-in caller when valid credentials are sent; None for anonymous visitors (public pages)."""
    if not request.cookies.get(COOKIE_NAME) and not request.headers.get("Authorization"):
        return None
    try:
        return await _identify(request, state)
    except AuthError:  # bad credentials on a public page just mean "anonymous"
        return None


MaybeCaller = Annotated[Caller | None, Depends(optional_caller)]
