"""Every management route, called by every role: who may call what.

Anonymous callers of a protected route get 401, logged-in callers below its level get 403, callers at or
above it get neither. Every route of the OpenAPI document must be classified here, so a new route cannot
ship without a decision on who may call it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from clinx.store.repos import users as users_repo
from tests.support.app import RunningApp, Session

PUBLIC, USER, ADMIN, ROOT = 0, 1, 10, 100

LEVELS: dict[tuple[str, str], int] = {
    ("GET", "/api/status"): PUBLIC,
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/api/notice"): PUBLIC,
    ("GET", "/api/about"): PUBLIC,
    ("GET", "/api/home_page_content"): PUBLIC,
    ("GET", "/api/setup"): PUBLIC,
    ("POST", "/api/setup"): PUBLIC,
    ("POST", "/api/user/login"): PUBLIC,
    ("GET", "/api/user/logout"): PUBLIC,
    ("POST", "/api/user/register"): PUBLIC,
    ("GET", "/api/pricing"): PUBLIC,
    ("GET", "/api/user/self"): USER,
    ("PUT", "/api/user/self"): USER,
    ("GET", "/api/user/token"): USER,
    ("GET", "/api/user/aff"): USER,
    ("GET", "/api/models"): USER,
    ("GET", "/api/user/groups"): USER,
    ("GET", "/api/user/self/groups"): USER,
    ("GET", "/api/user/models"): USER,
    ("GET", "/api/token/"): USER,
    ("POST", "/api/token/"): USER,
    ("PUT", "/api/token/"): USER,
    ("GET", "/api/token/search"): USER,
    ("POST", "/api/token/batch/keys"): USER,
    ("POST", "/api/token/batch"): USER,
    ("GET", "/api/token/{token_id}"): USER,
    ("DELETE", "/api/token/{token_id}"): USER,
    ("POST", "/api/token/{token_id}/key"): USER,
    ("GET", "/api/log/self"): USER,
    ("GET", "/api/log/self/stat"): USER,
    ("GET", "/api/log/self/search"): USER,
    ("GET", "/api/data/self"): USER,
    ("GET", "/api/group/"): ADMIN,
    ("GET", "/api/user/"): ADMIN,
    ("POST", "/api/user/"): ADMIN,
    ("PUT", "/api/user/"): ADMIN,
    ("GET", "/api/user/search"): ADMIN,
    ("GET", "/api/user/{user_id}"): ADMIN,
    ("DELETE", "/api/user/{user_id}"): ADMIN,
    ("POST", "/api/user/manage"): ADMIN,
    ("GET", "/api/channel/"): ADMIN,
    ("POST", "/api/channel/"): ADMIN,
    ("PUT", "/api/channel/"): ADMIN,
    ("GET", "/api/channel/search"): ADMIN,
    ("GET", "/api/channel/models"): ADMIN,
    ("GET", "/api/channel/models_enabled"): ADMIN,
    ("GET", "/api/channel/{channel_id}"): ADMIN,
    ("DELETE", "/api/channel/{channel_id}"): ADMIN,
    ("POST", "/api/channel/{channel_id}/status"): ADMIN,
    ("DELETE", "/api/channel/disabled"): ADMIN,
    ("POST", "/api/channel/batch"): ADMIN,
    ("POST", "/api/channel/batch/tag"): ADMIN,
    ("POST", "/api/channel/tag/disabled"): ADMIN,
    ("POST", "/api/channel/tag/enabled"): ADMIN,
    ("PUT", "/api/channel/tag"): ADMIN,
    ("POST", "/api/channel/fix"): ADMIN,
    ("POST", "/api/channel/copy/{channel_id}"): ADMIN,
    ("GET", "/api/channel/test"): ADMIN,
    ("GET", "/api/channel/test/{channel_id}"): ADMIN,
    ("GET", "/api/channel/update_balance"): ADMIN,
    ("GET", "/api/channel/update_balance/{channel_id}"): ADMIN,
    ("GET", "/api/log/"): ADMIN,
    ("DELETE", "/api/log/"): ADMIN,
    ("GET", "/api/log/stat"): ADMIN,
    ("GET", "/api/log/search"): ADMIN,
    ("GET", "/api/data/"): ADMIN,
    ("POST", "/api/channel/{channel_id}/key"): ROOT,
    ("GET", "/api/option/"): ROOT,
    ("PUT", "/api/option/"): ROOT,
    ("POST", "/api/option/rest_model_ratio"): ROOT,
    # Last: it deletes the caller.
    ("DELETE", "/api/user/self"): USER,
}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "999999", path)


async def _session(app: RunningApp, name: str, role: int) -> Session:
    password = "Walk-pass-123"
    r = await app.client.post("/api/user/register", json={"username": name, "password": password})
    assert r.json()["success"], r.text
    session = await app.login(name, password)
    if role != USER:
        await users_repo.update_fields(app.state.dbs.main, session.user_id, {"role": role})
    return session


async def test_every_route_is_classified(app: RunningApp) -> None:
    doc = (await app.client.get("/api/openapi.json")).json()
    routes = {(m.upper(), p) for p, methods in doc["paths"].items() for m in methods}
    assert routes - set(LEVELS) == set(), "classify these routes in LEVELS"
    assert set(LEVELS) - routes == set(), "these classified routes no longer exist"


@pytest.mark.parametrize("level", [USER, ADMIN, ROOT])
async def test_role_walk(app: RunningApp, root: Session, level: int) -> None:
    sessions = {USER: await _session(app, "walkuser", USER), ADMIN: await _session(app, "walkadmin", ADMIN)}
    sessions[ROOT] = root
    routes = [(m, p) for (m, p), need in LEVELS.items() if need == level]
    for method, path in routes:
        url = _concrete(path)
        kwargs: dict[str, Any] = {"json": {}} if method in {"POST", "PUT"} else {}
        anonymous = await app.client.request(method, url, **kwargs)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.json()["success"] is False
        for role, session in sessions.items():
            if role == ROOT and (method, path) == ("DELETE", "/api/user/self"):
                continue
            r = await session.request(method, url, **kwargs)
            if role < level:
                assert r.status_code == 403, (method, path, role, r.text)
                assert r.json()["success"] is False
            else:
                assert r.status_code not in (401, 403), (method, path, role, r.text)
                assert r.status_code < 500, (method, path, role, r.text)


async def test_public_routes_answer_anonymous_callers(app: RunningApp) -> None:
    for (method, path), need in LEVELS.items():
        if need != PUBLIC:
            continue
        kwargs: dict[str, Any] = {"json": {}} if method in {"POST", "PUT"} else {}
        r = await app.client.request(method, _concrete(path), **kwargs)
        assert r.status_code not in (401, 403) and r.status_code < 500, (method, path, r.text)
