"""Admin user management: who may act on whom, manage actions, quota changes logged."""

from __future__ import annotations

from sqlalchemy import select

from clinx.store.repos import users as users_repo
from clinx.store.tables import logs
from tests.support.app import RunningApp, Session


async def _register(app: RunningApp, username: str, password: str = "User-pass-1") -> Session:
    r = await app.client.post("/api/user/register", json={"username": username, "password": password})
    assert r.json()["success"], r.text
    return await app.login(username, password)


async def _make_admin(app: RunningApp, username: str) -> Session:
    session = await _register(app, username)
    await users_repo.update_fields(app.state.dbs.main, session.user_id, {"role": 10})
    return session


async def test_root_lists_searches_and_reads_users(app: RunningApp, root: Session) -> None:
    alice = await _register(app, "alice")
    page = (await root.get("/api/user/", params={"p": 0, "page_size": 10})).json()["data"]
    assert page["total"] == 2 and page["page"] == 1
    assert {u["username"] for u in page["items"]} == {"root", "alice"}
    assert all(u["password"] == "" for u in page["items"])
    found = (await root.get("/api/user/search", params={"keyword": "ali"})).json()["data"]["items"]
    assert [u["id"] for u in found] == [alice.user_id]
    one = (await root.get(f"/api/user/{alice.user_id}")).json()["data"]
    assert one["username"] == "alice" and "access_token" not in one


async def test_admin_creates_users_only_below_own_role(app: RunningApp, root: Session) -> None:
    admin = await _make_admin(app, "boss")
    made = await admin.post("/api/user/", json={"username": "bob", "password": "Bob-pass-12", "display_name": "Bob"})
    assert made.json() == {"success": True, "message": ""}
    peer = await admin.post("/api/user/", json={"username": "carl", "password": "Carl-pass-1", "role": 10})
    assert peer.status_code == 403 and peer.json()["success"] is False
    dup = await root.post("/api/user/", json={"username": "bob", "password": "Bob-pass-12"})
    assert dup.json()["success"] is False and "exists" in dup.json()["message"]


async def test_admin_cannot_touch_peers_or_root(app: RunningApp, root: Session) -> None:
    admin = await _make_admin(app, "boss")
    other = await _make_admin(app, "boss2")
    r = await admin.post("/api/user/manage", json={"id": other.user_id, "action": "disable"})
    assert r.status_code == 403
    r = await admin.post("/api/user/manage", json={"id": root.user_id, "action": "disable"})
    assert r.status_code == 403
    r = await root.post("/api/user/manage", json={"id": root.user_id, "action": "disable"})
    assert r.json()["success"] is False
    assert (await root.get("/api/user/self")).json()["success"] is True


async def test_manage_actions_change_role_and_status(app: RunningApp, root: Session) -> None:
    alice = await _register(app, "alice")
    r = (await root.post("/api/user/manage", json={"id": alice.user_id, "action": "promote"})).json()
    assert r == {"success": True, "message": "", "data": {"role": 10, "status": 1}}
    again = (await root.post("/api/user/manage", json={"id": alice.user_id, "action": "promote"})).json()
    assert again["success"] is False
    r = (await root.post("/api/user/manage", json={"id": alice.user_id, "action": "demote"})).json()
    assert r["data"] == {"role": 1, "status": 1}
    r = (await root.post("/api/user/manage", json={"id": alice.user_id, "action": "disable"})).json()
    assert r["data"] == {"role": 1, "status": 2}
    blocked = await alice.get("/api/user/self")
    assert blocked.status_code == 403 and blocked.json()["message"] == "用户已被封禁"
    login = await app.client.post("/api/user/login", json={"username": "alice", "password": "User-pass-1"})
    assert login.json()["success"] is False
    await root.post("/api/user/manage", json={"id": alice.user_id, "action": "enable"})
    assert (await alice.get("/api/user/self")).json()["success"] is True
    unknown = (await root.post("/api/user/manage", json={"id": alice.user_id, "action": "explode"})).json()
    assert unknown["success"] is False


async def test_delete_hides_user_and_ends_access(app: RunningApp, root: Session) -> None:
    alice = await _register(app, "alice")
    assert (await root.delete(f"/api/user/{alice.user_id}")).json()["success"] is True
    assert (await alice.get("/api/user/self")).status_code == 401
    assert (await root.get(f"/api/user/{alice.user_id}")).json()["success"] is False
    assert (await root.delete(f"/api/user/{root.user_id}")).json()["success"] is False


async def test_quota_changes_are_atomic_and_logged(app: RunningApp, root: Session) -> None:
    alice = await _register(app, "alice")
    r = await root.post(
        "/api/user/manage", json={"id": alice.user_id, "action": "add_quota", "mode": "add", "value": 500}
    )
    assert r.json()["data"]["quota"] == 500
    short = await root.post(
        "/api/user/manage", json={"id": alice.user_id, "action": "add_quota", "mode": "subtract", "value": 501}
    )
    assert short.json()["success"] is False
    await root.post(
        "/api/user/manage", json={"id": alice.user_id, "action": "add_quota", "mode": "override", "value": 7}
    )
    r = await root.put("/api/user/", json={"id": alice.user_id, "quota": 1000, "display_name": "Al"})
    assert r.json()["data"]["quota"] == 1000 and r.json()["data"]["display_name"] == "Al"
    async with app.state.dbs.logs.connect() as conn:
        rows = (await conn.execute(select(logs.c.type, logs.c.content).where(logs.c.user_id == alice.user_id))).all()
    assert len(rows) == 3 and all(t == 3 for t, _ in rows)
    assert any("修改为" in c for _, c in rows)


async def test_password_change_by_admin_ends_sessions(app: RunningApp, root: Session) -> None:
    alice = await _register(app, "alice")
    r = await root.put("/api/user/", json={"id": alice.user_id, "password": "New-pass-123"})
    assert r.json()["success"] is True
    assert (await alice.get("/api/user/self")).status_code == 401
    assert (await app.login("alice", "New-pass-123")).user_id == alice.user_id
