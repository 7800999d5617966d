"""API keys through /api/token: own keys only, masked lists, reveal, edits, status rules, validation, deletes."""

from __future__ import annotations

from typing import Any

import pytest

from clinx.auth.key_cache import cache_key
from clinx.store.repos import tokens as tokens_repo
from tests.support.app import RunningApp, Session

TOKEN_FIELDS = {
    "id", "user_id", "key", "status", "name", "created_time", "accessed_time", "expired_time", "remain_quota",
    "unlimited_quota", "model_limits_enabled", "model_limits", "allow_ips", "used_quota", "group",
    "cross_group_retry", "auto_groups",
}  # fmt: skip


async def create(session: Session, name: str = "ci-key", **fields: Any) -> dict[str, Any]:
    """Create a key and answer it as the list shows it (the create answer holds neither key nor id)."""
    body = {"name": name, "remain_quota": 500000, "expired_time": -1, **fields}
    r = (await session.post("/api/token/", json=body)).json()
    assert r == {"success": True, "message": ""}, r
    items: list[dict[str, Any]] = (await session.get("/api/token/")).json()["data"]["items"]
    return items[0]


async def reveal(session: Session, token_id: int) -> str:
    r = (await session.post(f"/api/token/{token_id}/key")).json()
    assert r["success"], r
    key: str = r["data"]["key"]
    return key


async def test_create_then_list_masks_key_and_has_every_field(root: Session) -> None:
    token = await create(root, "ci-key", model_limits="gpt-4o, gpt-4o-mini", allow_ips="10.0.0.1\n10.1.0.0/16")
    assert set(token) == TOKEN_FIELDS
    assert token["user_id"] == root.user_id and token["name"] == "ci-key" and token["status"] == 1
    assert token["created_time"] == token["accessed_time"] == 1_730_000_000
    assert token["expired_time"] == -1 and token["remain_quota"] == 500000 and token["used_quota"] == 0
    assert token["unlimited_quota"] is False and token["model_limits_enabled"] is False
    assert token["cross_group_retry"] is False and token["auto_groups"] is None
    assert token["model_limits"] == "gpt-4o,gpt-4o-mini" and token["allow_ips"] == "10.0.0.1\n10.1.0.0/16"
    assert token["group"] == ""
    full = await reveal(root, token["id"])
    assert len(full) == 48 and full.isalnum() and not full.startswith("sk-")
    assert token["key"] == f"{full[:4]}{'*' * 10}{full[-4:]}"
    one = (await root.get(f"/api/token/{token['id']}")).json()
    assert one["success"] and one["data"] == token


async def test_list_is_newest_first_and_paged(root: Session) -> None:
    for i in range(3):
        await create(root, f"key-{i}")
    page = (await root.get("/api/token/?p=0&size=2")).json()["data"]
    assert [t["name"] for t in page["items"]] == ["key-2", "key-1"]
    assert page["total"] == 3 and page["page"] == 1 and page["page_size"] == 2
    second = (await root.get("/api/token/?p=2&page_size=2")).json()["data"]
    assert [t["name"] for t in second["items"]] == ["key-0"] and second["page"] == 2


async def test_search_by_name_and_key_fragment(root: Session) -> None:
    await create(root, "prod-a")
    target = await create(root, "test_b")
    await create(root, "prod-c")
    by_name = (await root.get("/api/token/search", params={"keyword": "prod"})).json()["data"]
    assert [t["name"] for t in by_name["items"]] == ["prod-c", "prod-a"] and by_name["total"] == 2
    # LIKE wildcards in the user's text are literal: "_" must not match "-".
    literal = (await root.get("/api/token/search", params={"keyword": "prod_"})).json()["data"]
    assert literal["total"] == 0
    key = await reveal(root, target["id"])
    by_key = (await root.get("/api/token/search", params={"token": f"sk-{key[5:20]}"})).json()["data"]
    assert [t["id"] for t in by_key["items"]] == [target["id"]]
    assert by_key["items"][0]["key"] != key


async def test_other_users_tokens_are_invisible_and_untouchable(root: Session, alice: Session) -> None:
    mine = await create(root, "root-key")
    theirs = await create(alice, "alice-key")
    assert [t["name"] for t in (await alice.get("/api/token/")).json()["data"]["items"]] == ["alice-key"]
    for response in (
        await alice.get(f"/api/token/{mine['id']}"),
        await alice.post(f"/api/token/{mine['id']}/key"),
        await alice.delete(f"/api/token/{mine['id']}"),
        await alice.put("/api/token/", json={"id": mine["id"], "name": "stolen"}),
        await alice.put("/api/token/?status_only=true", json={"id": mine["id"], "status": 2}),
    ):
        body = response.json()
        assert body["success"] is False and "not found" in body["message"] and "data" not in body
    searched = (await alice.get("/api/token/search", params={"keyword": "root"})).json()["data"]
    assert searched["total"] == 0
    keys = (await alice.post("/api/token/batch/keys", json={"ids": [mine["id"], theirs["id"]]})).json()
    assert list(keys["data"]["keys"]) == [str(theirs["id"])]
    deleted = (await alice.post("/api/token/batch", json={"ids": [mine["id"]]})).json()
    assert deleted == {"success": True, "message": "", "data": 0}
    still = (await root.get(f"/api/token/{mine['id']}")).json()["data"]
    assert still["name"] == "root-key" and still["status"] == 1


async def test_batch_keys_reveal_full_keys_and_cap_at_100(root: Session) -> None:
    a = await create(root, "a")
    b = await create(root, "b")
    keys = (await root.post("/api/token/batch/keys", json={"ids": [a["id"], b["id"]]})).json()["data"]["keys"]
    assert keys == {str(a["id"]): await reveal(root, a["id"]), str(b["id"]): await reveal(root, b["id"])}
    too_many = (await root.post("/api/token/batch/keys", json={"ids": list(range(1, 102))})).json()
    assert too_many["success"] is False and "100" in too_many["message"]
    empty = (await root.post("/api/token/batch/keys", json={"ids": []})).json()
    assert empty["success"] is False and "ids" in empty["message"]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"name": ""}, "name is required"),
        ({"name": "x" * 51}, "令牌名称过长"),
        ({"remain_quota": -1}, "额度值不能为负数"),
        ({"remain_quota": "100"}, "remain_quota must be an integer"),
        ({"expired_time": 1_729_999_999}, "expired_time"),
        ({"expired_time": 0}, "expired_time"),
        ({"unlimited_quota": "yes"}, "unlimited_quota must be true or false"),
        ({"allow_ips": "10.0.0.1\nnot-an-ip\n10.0.0.0/8"}, "not-an-ip"),
        ({"allow_ips": "10.0.0.0/33"}, "10.0.0.0/33"),
        ({"group": "svip"}, "svip"),
    ],
)
async def test_create_validation_names_the_problem(root: Session, fields: dict[str, Any], fragment: str) -> None:
    body = {"name": "k", "remain_quota": 0, "expired_time": -1, **fields}
    r = (await root.post("/api/token/", json=body)).json()
    assert r["success"] is False and fragment in r["message"], r
    assert (await root.get("/api/token/")).json()["data"]["total"] == 0


async def test_create_accepts_usable_group_future_expiry_and_unlimited(root: Session) -> None:
    token = await create(root, "vip-key", group="vip", expired_time=1_730_000_100, unlimited_quota=True)
    assert token["group"] == "vip" and token["expired_time"] == 1_730_000_100 and token["unlimited_quota"] is True
    own_group = await create(root, "default-key", group="default")
    assert own_group["group"] == "default"


async def test_update_writes_fields_and_answers_masked_token(app: RunningApp, root: Session) -> None:
    token = await create(root)
    key = await reveal(root, token["id"])
    await app.state.cache.set(cache_key(key), b"cached")
    body = {
        **token,
        "name": "renamed",
        "remain_quota": 42,
        "expired_time": 1_730_086_400,
        "model_limits_enabled": True,
        "model_limits": "gpt-4o",
        "allow_ips": "192.168.1.0/24",
        "group": "vip",
        "status": 2,
        "key": "ignored",
    }
    r = (await root.put("/api/token/", json=body)).json()
    assert r["success"], r
    updated = r["data"]
    assert updated["name"] == "renamed" and updated["remain_quota"] == 42 and updated["expired_time"] == 1_730_086_400
    assert updated["model_limits_enabled"] is True and updated["model_limits"] == "gpt-4o"
    assert updated["allow_ips"] == "192.168.1.0/24" and updated["group"] == "vip"
    assert updated["status"] == 1 and updated["key"] == token["key"]
    assert await reveal(root, token["id"]) == key
    assert await app.state.cache.get(cache_key(key)) is None
    assert (await root.get(f"/api/token/{token['id']}")).json()["data"] == updated


async def test_update_validates_like_create(root: Session) -> None:
    token = await create(root)
    bad = (await root.put("/api/token/", json={"id": token["id"], "allow_ips": "1.2.3"})).json()
    assert bad["success"] is False and "1.2.3" in bad["message"]
    group = (await root.put("/api/token/", json={"id": token["id"], "group": "nope"})).json()
    assert group["success"] is False and "nope" in group["message"]
    assert (await root.get(f"/api/token/{token['id']}")).json()["data"] == token


async def test_update_of_expired_token_keeps_its_old_expiry(app: RunningApp, root: Session) -> None:
    token = await create(root, expired_time=1_730_000_060)
    app.clock.advance(120)
    r = (await root.put("/api/token/", json={"id": token["id"], "name": "still-expired"})).json()
    assert r["success"] and r["data"]["expired_time"] == 1_730_000_060
    moved_back = (await root.put("/api/token/", json={"id": token["id"], "expired_time": 1_730_000_100})).json()
    assert moved_back["success"] is False and "expired_time" in moved_back["message"]


async def test_status_only_changes_status_and_forgets_cached_key(app: RunningApp, root: Session) -> None:
    token = await create(root)
    key = await reveal(root, token["id"])
    await app.state.cache.set(cache_key(key), b"cached")
    r = (await root.put("/api/token/?status_only=true", json={"id": token["id"], "status": 2, "name": "x"})).json()
    assert r["success"] and r["data"]["status"] == 2 and r["data"]["name"] == "ci-key"
    assert await app.state.cache.get(cache_key(key)) is None
    again = (await root.put("/api/token/?status_only=true", json={"id": token["id"], "status": 1})).json()
    assert again["success"] and again["data"]["status"] == 1
    invalid = (await root.put("/api/token/?status_only=true", json={"id": token["id"], "status": 5})).json()
    assert invalid["success"] is False and "status" in invalid["message"]


async def test_enabling_expired_or_exhausted_token_is_refused(app: RunningApp, root: Session) -> None:
    expired = await create(root, "expiring", expired_time=1_730_000_010)
    exhausted = await create(root, "empty", remain_quota=0)
    unlimited = await create(root, "unlimited", remain_quota=0, unlimited_quota=True)
    app.clock.advance(60)
    for token in (expired, exhausted, unlimited):
        await root.put("/api/token/?status_only=true", json={"id": token["id"], "status": 2})
    r = (await root.put("/api/token/?status_only=true", json={"id": expired["id"], "status": 1})).json()
    assert r == {"success": False, "message": "令牌已过期，无法启用，请先修改令牌过期时间，或者设置为永不过期"}
    r = (await root.put("/api/token/?status_only=true", json={"id": exhausted["id"], "status": 1})).json()
    assert r == {"success": False, "message": "令牌可用额度已用尽，无法启用，请先修改令牌剩余额度，或者设置为无限额度"}
    assert (await root.get(f"/api/token/{exhausted['id']}")).json()["data"]["status"] == 2
    ok = (await root.put("/api/token/?status_only=true", json={"id": unlimited["id"], "status": 1})).json()
    assert ok["success"] and ok["data"]["status"] == 1


async def test_delete_is_soft_and_hides_the_token(app: RunningApp, root: Session) -> None:
    token = await create(root)
    key = await reveal(root, token["id"])
    await app.state.cache.set(cache_key(key), b"cached")
    assert (await root.delete(f"/api/token/{token['id']}")).json() == {"success": True, "message": ""}
    assert await app.state.cache.get(cache_key(key)) is None
    assert (await root.get("/api/token/")).json()["data"]["total"] == 0
    assert (await root.get(f"/api/token/{token['id']}")).json()["success"] is False
    assert (await root.post(f"/api/token/{token['id']}/key")).json()["success"] is False
    assert (await root.delete(f"/api/token/{token['id']}")).json()["success"] is False
    async with app.state.dbs.main.connect() as conn:
        assert await tokens_repo.get_by_key(conn, key) is None


async def test_batch_delete_answers_count(root: Session) -> None:
    ids = [(await create(root, f"k{i}"))["id"] for i in range(3)]
    r = (await root.post("/api/token/batch", json={"ids": [ids[0], ids[1], 999_999]})).json()
    assert r == {"success": True, "message": "", "data": 2}
    assert [t["id"] for t in (await root.get("/api/token/")).json()["data"]["items"]] == [ids[2]]
    bad = (await root.post("/api/token/batch", json={"ids": ["1"]})).json()
    assert bad["success"] is False


async def test_create_refused_at_1000_tokens(app: RunningApp, alice: Session) -> None:
    async with app.state.dbs.main.begin() as conn:
        for i in range(1000):
            await tokens_repo.create(conn, {"user_id": alice.user_id, "key": f"{i:048d}", "name": f"k{i}"})
    r = (await alice.post("/api/token/", json={"name": "one-more"})).json()
    assert r["success"] is False and "1000" in r["message"]
    newest = (await alice.get("/api/token/")).json()["data"]["items"][0]["id"]
    assert (await alice.delete(f"/api/token/{newest}")).json()["success"] is True
    assert (await alice.post("/api/token/", json={"name": "one-more"})).json()["success"] is True


async def test_token_routes_require_login(app: RunningApp) -> None:
    r = await app.client.get("/api/token/")
    assert r.status_code == 401 and r.json()["success"] is False
