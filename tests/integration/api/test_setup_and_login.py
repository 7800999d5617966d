"""First run: no default account; setup creates root once; login and session rules."""

from __future__ import annotations

from tests.support.app import ROOT_PASSWORD, RunningApp, Session


async def test_fresh_database_is_not_set_up_and_has_no_account(app: RunningApp) -> None:
    setup = (await app.client.get("/api/setup")).json()
    assert setup["success"] and setup["data"]["status"] is False
    assert setup["data"]["database_type"] == "sqlite"
    status = (await app.client.get("/api/status")).json()["data"]
    assert status["setup"] is False
    r = await app.client.post("/api/user/login", json={"username": "root", "password": "123456"})
    assert r.json() == {"success": False, "message": "用户名或密码错误，或用户已被封禁"}


async def test_setup_creates_root_once(app: RunningApp) -> None:
    await app.setup_root()
    again = await app.client.post(
        "/api/setup", json={"username": "other", "password": "Other-pass-1", "confirmPassword": "Other-pass-1"}
    )
    assert again.status_code == 400
    assert again.json() == {"success": False, "message": "系统已经初始化完成"}
    session = await app.login("root", ROOT_PASSWORD)
    me = (await session.get("/api/user/self")).json()["data"]
    assert me["role"] == 100 and me["quota"] == 100_000_000 and me["display_name"] == "Root User"
    assert me["password"] == ""
    assert (await app.client.get("/api/setup")).json()["data"]["status"] is True


async def test_setup_rejects_bad_passwords(app: RunningApp) -> None:
    short = await app.client.post(
        "/api/setup", json={"username": "root", "password": "short", "confirmPassword": "short"}
    )
    assert short.json()["success"] is False
    mismatch = await app.client.post(
        "/api/setup", json={"username": "root", "password": "Long-enough-1", "confirmPassword": "Different-1"}
    )
    assert mismatch.json()["success"] is False
    assert (await app.client.get("/api/setup")).json()["data"]["status"] is False


async def test_session_cookie_requires_matching_new_api_user_header(root: Session) -> None:
    no_header = await root.client.get("/api/user/self")
    assert no_header.status_code == 401 and no_header.json()["success"] is False
    wrong = await root.client.get("/api/user/self", headers={"New-Api-User": "999"})
    assert wrong.status_code == 401
    assert (await root.get("/api/user/self")).json()["success"] is True


async def test_access_token_authenticates_and_rotates(app: RunningApp, root: Session) -> None:
    token = (await root.get("/api/user/token")).json()["data"]
    assert 29 <= len(token) <= 32
    r = await app.client.get("/api/user/self", headers={"Authorization": token, "New-Api-User": str(root.user_id)})
    assert r.json()["data"]["username"] == "root"
    bearer = await app.client.get("/api/user/self", headers={"Authorization": f"Bearer {token}"})
    assert bearer.json()["success"] is True
    newer = (await root.get("/api/user/token")).json()["data"]
    stale = await app.client.get("/api/user/self", headers={"Authorization": token})
    assert stale.status_code == 401
    assert newer != token


async def test_invalid_json_body_is_a_clear_error(app: RunningApp) -> None:
    r = await app.client.post("/api/user/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["success"] is False and "JSON" in r.json()["message"]
