"""Channel management routes: New API shapes, keys never listed, abilities kept in step, validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import delete, select

from clinx.auth.keys import new_aff_code
from clinx.auth.passwords import hash_password
from clinx.core.enums import Role
from clinx.store.repos import users as users_repo
from clinx.store.tables import abilities
from tests.support.app import ROOT_PASSWORD, RunningApp, Session, running_app

SECRET = "sk-upstream-secret-1234567890"


def _channel(name: str = "openai-main", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": 1, "name": name, "key": SECRET, "models": "gpt-4o-mini,gpt-4o", "group": "default"}
    body.update(extra)
    return body


async def _create(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = (await session.post("/api/channel/", json=body)).json()
    return answer


async def _list(session: Session, query: str = "") -> dict[str, Any]:
    answer = (await session.get(f"/api/channel/?p=0&page_size=50{query}")).json()
    assert answer["success"], answer
    data: dict[str, Any] = answer["data"]
    return data


async def _id_of(session: Session, name: str) -> int:
    items = (await _list(session))["items"]
    return next(int(c["id"]) for c in items if c["name"] == name)


async def _abilities(app: RunningApp) -> set[tuple[str, str, int, bool]]:
    async with app.state.dbs.main.connect() as conn:
        rows = (await conn.execute(select(abilities))).mappings().all()
    return {(r["group"], r["model"], r["channel_id"], bool(r["enabled"])) for r in rows}


async def _user_session(app: RunningApp, username: str, role: Role) -> Session:
    async with app.state.dbs.main.begin() as conn:
        await users_repo.create(
            conn,
            {"username": username, "password": hash_password("User-pass-123"), "display_name": username,
             "role": int(role), "status": 1, "group": "default", "aff_code": new_aff_code(), "setting": ""},
        )  # fmt: skip
    return await app.login(username, "User-pass-123")


async def test_create_v06_body_and_read_back_without_key(app: RunningApp, root: Session) -> None:
    created = await _create(root, _channel(setting='{"thinking_to_content":true}', tag="main"))
    assert created == {"success": True, "message": ""}
    data = await _list(root)
    assert data["total"] == 1 and data["page"] == 1 and data["page_size"] == 50
    assert data["type_counts"] == {"1": 1}
    channel = data["items"][0]
    assert channel["key"] == "" and SECRET not in json.dumps(data)
    assert channel["created_time"] == app.clock.now() and channel["status"] == 1 and channel["auto_ban"] == 1
    assert channel["openai_organization"] is None and channel["remark"] is None
    assert channel["used_quota"] == 0 and channel["balance"] == 0 and channel["tag"] == "main"
    assert channel["channel_info"]["is_multi_key"] is False
    got = (await root.get(f"/api/channel/{channel['id']}")).json()
    assert got["success"] and got["data"]["key"] == "" and got["data"]["name"] == "openai-main"
    found = (await root.get("/api/channel/search?keyword=openai")).json()["data"]
    assert found["total"] == 1 and SECRET not in json.dumps(found)
    assert await _abilities(app) == {
        ("default", "gpt-4o-mini", channel["id"], True),
        ("default", "gpt-4o", channel["id"], True),
    }
    revealed = (await root.post(f"/api/channel/{channel['id']}/key")).json()
    assert revealed == {"success": True, "message": "", "data": {"key": SECRET}}


async def test_roles_common_user_refused_and_only_root_reveals_key(app: RunningApp, root: Session) -> None:
    await _create(root, _channel())
    channel_id = await _id_of(root, "openai-main")
    common = await _user_session(app, "common", Role.COMMON)
    for method, url in [("GET", "/api/channel/"), ("POST", "/api/channel/"), ("GET", f"/api/channel/{channel_id}")]:
        refused = await common.request(method, url, json=_channel())
        assert refused.status_code == 403 and refused.json()["success"] is False
    admin = await _user_session(app, "admin", Role.ADMIN)
    listed = await _list(admin)
    assert listed["items"][0]["key"] == ""
    reveal = await admin.post(f"/api/channel/{channel_id}/key")
    assert reveal.status_code == 403 and SECRET not in reveal.text


async def test_latest_body_modes(app: RunningApp, root: Session) -> None:
    assert await _create(root, {"mode": "single"}) == {"success": False, "message": "channel cannot be empty"}
    assert (await _create(root, {"mode": "weird", "channel": _channel()}))["success"] is False
    lines = "sk-aaaaaaaaaa1\n\nsk-bbbbbbbbbb2\n"
    batch = {"mode": "batch", "batch_add_set_key_prefix_2_name": True, "channel": _channel("b", key=lines)}
    assert (await _create(root, batch))["success"] is True
    multi = {"mode": "multi_to_single", "multi_key_mode": "polling", "channel": _channel("m", key=lines)}
    assert (await _create(root, multi))["success"] is True
    names = sorted(c["name"] for c in (await _list(root))["items"])
    assert names == ["b sk-aaaaa", "b sk-bbbbb", "m"]
    multi_id = await _id_of(root, "m")
    info = (await root.get(f"/api/channel/{multi_id}")).json()["data"]["channel_info"]
    assert info["is_multi_key"] is True and info["multi_key_size"] == 2 and info["multi_key_mode"] == "polling"
    key = (await root.post(f"/api/channel/{multi_id}/key")).json()["data"]["key"]
    assert key == "sk-aaaaaaaaaa1\nsk-bbbbbbbbbb2"
    assert len({a[2] for a in await _abilities(app)}) == 3


async def test_v06_multi_line_key_creates_one_channel_per_line(root: Session) -> None:
    assert (await _create(root, _channel("v06", key="k1\nk2\nk3")))["success"] is True
    items = (await _list(root))["items"]
    assert [c["name"] for c in items] == ["v06", "v06", "v06"]
    keys = {(await root.post(f"/api/channel/{c['id']}/key")).json()["data"]["key"] for c in items}
    assert keys == {"k1", "k2", "k3"}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"name": "x", "key": "k", "models": "m"}, "type"),
        (_channel(type="1"), "type"),
        (_channel(key=""), "key"),
        (_channel(models=" , "), "models"),
        (_channel(model_mapping="{not json"), "model_mapping"),
        (_channel(param_override="[1, 2]"), "param_override"),
        (_channel(header_override="3"), "header_override"),
        (_channel(setting="nope"), "setting"),
        (_channel(settings='"text"'), "settings"),
        (_channel(status_code_mapping="[]"), "status_code_mapping"),
        (_channel(model_mapping='{"a": "b", "b": "c", "c": "a"}'), "model_mapping_contains_cycle"),
        (_channel(priority="high"), "priority"),
        (_channel(weight=-1), "weight"),
        (_channel(models="m," + "x" * 256), "模型名称过长"),
    ],
)
async def test_create_validation_messages(app: RunningApp, root: Session, body: dict[str, Any], needle: str) -> None:
    answer = await _create(root, body)
    assert answer["success"] is False and needle in answer["message"], answer
    assert (await _list(root))["total"] == 0 and await _abilities(app) == set()


async def test_mapping_chains_and_self_mapping_are_accepted(root: Session) -> None:
    mapping = '{"gpt-4o": "gpt-4o-2024", "gpt-4o-2024": "gpt-4o-2024-08-06", "x": "x"}'
    assert (await _create(root, _channel(model_mapping=mapping)))["success"] is True


async def test_update_writes_present_fields_keeps_key_and_rebuilds_abilities(app: RunningApp, root: Session) -> None:
    await _create(root, _channel(priority=3, remark="note"))
    channel_id = await _id_of(root, "openai-main")
    answer = (
        await root.put("/api/channel/", json={"id": channel_id, "key": "", "models": "m9", "group": "vip,default"})
    ).json()
    assert answer["success"] is True and answer["data"]["models"] == "m9"
    assert answer["data"]["priority"] == 3 and answer["data"]["remark"] == "note" and answer["data"]["key"] == ""
    assert (await root.post(f"/api/channel/{channel_id}/key")).json()["data"]["key"] == SECRET
    assert await _abilities(app) == {("vip", "m9", channel_id, True), ("default", "m9", channel_id, True)}
    disabled = (await root.put("/api/channel/", json={"id": channel_id, "status": 2, "key": "sk-new"})).json()
    assert disabled["data"]["status"] == 2
    assert await _abilities(app) == {("vip", "m9", channel_id, False), ("default", "m9", channel_id, False)}
    assert (await root.post(f"/api/channel/{channel_id}/key")).json()["data"]["key"] == "sk-new"
    bad = (await root.put("/api/channel/", json={"id": channel_id, "model_mapping": '{"a":"b","b":"a"}'})).json()
    assert bad["success"] is False and "model_mapping_contains_cycle" in bad["message"]
    missing = (await root.put("/api/channel/", json={"id": 999, "name": "x"})).json()
    assert missing["success"] is False


async def test_status_route_flips_abilities(app: RunningApp, root: Session) -> None:
    await _create(root, _channel())
    channel_id = await _id_of(root, "openai-main")
    assert (await root.post(f"/api/channel/{channel_id}/status", json={"status": 3})).json()["success"] is True
    assert {a[3] for a in await _abilities(app)} == {False}
    assert (await root.get("/api/channel/models_enabled")).json()["data"] == []
    assert (await root.post(f"/api/channel/{channel_id}/status", json={"status": 7})).json()["success"] is False
    await root.post(f"/api/channel/{channel_id}/status", json={"status": 1})
    assert (await root.get("/api/channel/models_enabled")).json()["data"] == ["gpt-4o", "gpt-4o-mini"]
    assert (await _list(root, "&status=enabled"))["total"] == 1
    assert (await _list(root, "&status=disabled"))["total"] == 0


async def test_list_order_filters_and_search(root: Session) -> None:
    await _create(root, _channel("low", priority=1, base_url="https://low.example"))
    await _create(root, _channel("high", priority=9, type=14, models="claude-3", group="vip"))
    await _create(root, _channel("mid", priority=5, tag="team"))
    assert [c["name"] for c in (await _list(root))["items"]] == ["high", "mid", "low"]
    assert [c["name"] for c in (await _list(root, "&id_sort=true"))["items"]] == ["mid", "high", "low"]
    typed = await _list(root, "&type=14")
    assert [c["name"] for c in typed["items"]] == ["high"] and typed["type_counts"] == {"1": 2, "14": 1}
    paged = (await root.get("/api/channel/?p=2&page_size=2")).json()["data"]
    assert [c["name"] for c in paged["items"]] == ["low"] and paged["total"] == 3

    async def names(query: str) -> list[str]:
        data = (await root.get(f"/api/channel/search?{query}")).json()["data"]
        return sorted(c["name"] for c in data["items"])

    low_id = await _id_of(root, "low")
    assert await names("keyword=low.example") == ["low"]
    assert await names(f"keyword={low_id}") == ["low"]
    assert await names("keyword=team") == ["mid"]
    assert await names("keyword=&model=claude") == ["high"]
    assert await names("group=vip") == ["high"]
    assert await names("group=vi") == []
    tagged = (await root.get("/api/channel/?tag_mode=true")).json()["data"]
    assert tagged["total"] == 1 and [c["name"] for c in tagged["items"]] == ["mid"]


async def test_models_lists(root: Session) -> None:
    await _create(root, _channel(models="my-private-model,gpt-4o"))
    models = (await root.get("/api/channel/models")).json()["data"]
    by_id = {m["id"]: m for m in models}
    assert by_id["my-private-model"] == {"id": "my-private-model", "object": "model", "created": 1626777600,
                                         "owned_by": "custom"}  # fmt: skip
    assert by_id["gpt-4o"]["owned_by"] == "openai" and len(models) > 100


async def test_deletes_remove_abilities(app: RunningApp, root: Session) -> None:
    for name in ("a", "b", "c", "d"):
        await _create(root, _channel(name))
    ids = {name: await _id_of(root, name) for name in ("a", "b", "c", "d")}
    assert (await root.delete(f"/api/channel/{ids['a']}")).json()["success"] is True
    assert (await root.delete(f"/api/channel/{ids['a']}")).json()["success"] is False
    await root.post(f"/api/channel/{ids['b']}/status", json={"status": 2})
    await root.post(f"/api/channel/{ids['c']}/status", json={"status": 3})
    assert (await root.delete("/api/channel/disabled")).json()["data"] == 2
    assert {a[2] for a in await _abilities(app)} == {ids["d"]}
    assert (await root.post("/api/channel/batch", json={"ids": []})).json()["success"] is False
    assert (await root.post("/api/channel/batch", json={"ids": [ids["d"], 999]})).json()["data"] == 1
    assert await _abilities(app) == set() and (await _list(root))["total"] == 0


async def test_tag_routes_keep_abilities_in_step(app: RunningApp, root: Session) -> None:
    for name in ("a", "b", "c"):
        await _create(root, _channel(name))
    a, b, c = [await _id_of(root, n) for n in ("a", "b", "c")]
    assert (await root.post("/api/channel/batch/tag", json={"ids": [a, b], "tag": "team"})).json()["data"] == 2
    assert (await root.post("/api/channel/tag/disabled", json={"tag": "team"})).json()["success"] is True
    assert {(x[2], x[3]) for x in await _abilities(app)} == {(a, False), (b, False), (c, True)}
    await root.post("/api/channel/tag/enabled", json={"tag": "team"})
    edit = {"tag": "team", "new_tag": "crew", "priority": 7, "models": "m1", "groups": "vip"}
    assert (await root.put("/api/channel/tag", json=edit)).json()["success"] is True
    assert await _abilities(app) == {
        ("vip", "m1", a, True), ("vip", "m1", b, True),
        ("default", "gpt-4o-mini", c, True), ("default", "gpt-4o", c, True),
    }  # fmt: skip
    async with app.state.dbs.main.connect() as conn:
        rows = await conn.execute(select(abilities.c.tag, abilities.c.priority).where(abilities.c.channel_id == a))
        assert rows.all() == [("crew", 7)]
    assert (await root.post("/api/channel/tag/disabled", json={})).json()["success"] is False
    await root.post("/api/channel/batch/tag", json={"ids": [a], "tag": None})
    assert (await root.get(f"/api/channel/{a}")).json()["data"]["tag"] is None


async def test_fix_rebuilds_abilities_after_manual_corruption(app: RunningApp, root: Session) -> None:
    await _create(root, _channel("a"))
    await _create(root, _channel("b", status=2))
    expected = await _abilities(app)
    async with app.state.dbs.main.begin() as conn:
        await conn.execute(delete(abilities))
    assert await _abilities(app) == set()
    answer = (await root.post("/api/channel/fix")).json()
    assert answer == {"success": True, "message": "", "data": {"success": 2, "fails": 0}}
    assert await _abilities(app) == expected


async def test_copy_duplicates_channel_and_abilities(app: RunningApp, root: Session) -> None:
    await _create(root, _channel("orig"))
    origin = await _id_of(root, "orig")
    answer = (await root.post(f"/api/channel/copy/{origin}?suffix=_copy&reset_balance=true")).json()
    new_id = answer["data"]["id"]
    assert answer["success"] is True and new_id != origin
    copy = (await root.get(f"/api/channel/{new_id}")).json()["data"]
    assert copy["name"] == "orig_copy" and copy["used_quota"] == 0 and copy["balance"] == 0
    assert (await root.post(f"/api/channel/{new_id}/key")).json()["data"]["key"] == SECRET
    assert {a[2] for a in await _abilities(app)} == {origin, new_id}
    assert (await root.post("/api/channel/copy/999")).json()["success"] is False


async def test_search_group_model_and_tag_mode_on_every_database(any_db: str) -> None:
    async with running_app(any_db) as app:
        await app.setup_root()
        root = await app.login("root", ROOT_PASSWORD)
        await _create(root, _channel("alpha", group="default,vip", models="gpt-4o", tag="t1", priority=2))
        await _create(root, _channel("beta", group="vip2", models="claude-3-haiku", tag="t2", priority=1))
        await _create(root, _channel("gamma", models="gpt-4o-mini"))

        async def names(query: str) -> list[str]:
            answer = (await root.get(f"/api/channel/search?{query}")).json()
            assert answer["success"], answer
            return [c["name"] for c in answer["data"]["items"]]

        assert await names("group=vip") == ["alpha"]
        assert await names("group=vip2&keyword=be") == ["beta"]
        assert await names("model=gpt-4o") == ["alpha", "gamma"]
        assert await names("keyword=99999999999") == []
        assert await names("keyword=t&tag_mode=true") == ["alpha", "beta"]
        tagged = (await root.get("/api/channel/?tag_mode=true&page_size=1&p=2")).json()["data"]
        assert tagged["total"] == 2 and [c["name"] for c in tagged["items"]] == ["beta"]
        assert (await root.get("/api/channel/99999999999")).json()["success"] is False
        await root.client.aclose()


async def test_multi_key_update_appends_or_replaces_keys(root: Session) -> None:
    multi = {"mode": "multi_to_single", "channel": _channel("m", key="k1\nk2")}
    assert (await _create(root, multi))["success"] is True
    channel_id = await _id_of(root, "m")
    appended = (await root.put("/api/channel/", json={"id": channel_id, "key": "k2\nk3", "key_mode": "append"})).json()
    assert appended["data"]["channel_info"]["multi_key_size"] == 3 and appended["data"]["key"] == ""
    assert (await root.post(f"/api/channel/{channel_id}/key")).json()["data"]["key"] == "k1\nk2\nk3"
    replaced = (await root.put("/api/channel/", json={"id": channel_id, "key": "k9", "key_mode": "replace"})).json()
    assert replaced["data"]["channel_info"]["multi_key_size"] == 1
    assert (await root.post(f"/api/channel/{channel_id}/key")).json()["data"]["key"] == "k9"
