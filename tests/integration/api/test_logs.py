"""Usage logs through /api/log: admin and own views, filters, paging, stats, search, deletion."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert

from clinx.store.repos import logs as logs_repo
from clinx.store.tables import channels
from tests.support.app import RunningApp, Session

NOW = 1_730_000_000  # the test clock
LOG_FIELDS = {
    "id", "user_id", "created_at", "type", "content", "username", "token_name", "model_name", "quota",
    "prompt_tokens", "completion_tokens", "use_time", "is_stream", "channel", "channel_name", "token_id", "group",
    "ip", "request_id", "other",
}  # fmt: skip


@pytest.fixture
async def seeded(app: RunningApp, root: Session, alice: Session) -> None:
    async with app.state.dbs.main.begin() as conn:
        await conn.execute(insert(channels).values(id=3, key="k", name="openai-main"))
    admin_info = '{"model_ratio":0.075,"admin_info":{"use_channel":["3"]}}'
    rows: list[dict[str, Any]] = [
        {"user_id": alice.user_id, "username": "alice", "created_at": NOW - 30, "type": 2, "content": "",
         "token_name": "ci-key", "model_name": "gpt-4o-mini", "quota": 102, "prompt_tokens": 13,
         "completion_tokens": 7, "use_time": 1, "channel_id": 3, "token_id": 7, "group": "default",
         "request_id": "req-1", "other": admin_info},
        {"user_id": alice.user_id, "username": "alice", "created_at": NOW - 3600, "type": 1,
         "content": "通过兑换码充值 ＄1.000000 额度，兑换码ID 1", "quota": 500000},
        {"user_id": root.user_id, "username": "root", "created_at": NOW - 10, "type": 2, "token_name": "ops",
         "model_name": "claude-3-haiku", "quota": 40, "prompt_tokens": 100, "completion_tokens": 20,
         "channel_id": 9, "group": "vip", "is_stream": True},
        {"user_id": root.user_id, "username": "root", "created_at": NOW - 7200, "type": 3,
         "content": "管理员将用户额度从 ＄0 修改为 ＄1"},
    ]  # fmt: skip
    await logs_repo.insert_many(app.state.dbs.logs, rows)


async def _items(session: Session, url: str, **params: Any) -> list[dict[str, Any]]:
    body = (await session.get(url, params=params)).json()
    assert body["success"], body
    items: list[dict[str, Any]] = body["data"]["items"]
    assert body["data"]["total"] == len(items)
    return items


@pytest.mark.usefixtures("seeded")
async def test_admin_list_has_new_api_item_shape_and_channel_name(root: Session) -> None:
    items = await _items(root, "/api/log/")
    assert [i["created_at"] for i in items] == [NOW - 10, NOW - 30, NOW - 3600, NOW - 7200]
    first, second = items[0], items[1]
    assert set(first) == LOG_FIELDS
    assert first["is_stream"] is True and first["channel"] == 9 and first["channel_name"] == ""  # unknown channel
    assert first["content"] == "" and first["ip"] == "" and first["request_id"] == "" and first["other"] == ""
    assert second["channel"] == 3 and second["channel_name"] == "openai-main" and second["is_stream"] is False
    assert (second["quota"], second["prompt_tokens"], second["completion_tokens"]) == (102, 13, 7)
    assert second["token_id"] == 7 and second["request_id"] == "req-1" and "admin_info" in second["other"]


@pytest.mark.usefixtures("seeded")
async def test_admin_filters_narrow(root: Session, alice: Session) -> None:
    async def models(**params: Any) -> list[str]:
        return [i["model_name"] or i["content"][:3] for i in await _items(root, "/api/log/", **params)]

    assert await models(type=2) == ["claude-3-haiku", "gpt-4o-mini"]
    assert await models(type=0, username="alice") == ["gpt-4o-mini", "通过兑"]
    assert await models(token_name="ops") == ["claude-3-haiku"]
    assert await models(model_name="gpt-4o-mini") == ["gpt-4o-mini"]
    assert await models(channel=3) == ["gpt-4o-mini"]
    assert await models(group="vip") == ["claude-3-haiku"]
    assert await models(request_id="req-1") == ["gpt-4o-mini"]
    assert await models(start_timestamp=NOW - 3600, end_timestamp=NOW - 30) == ["gpt-4o-mini", "通过兑"]
    assert await models(start_timestamp="", end_timestamp="", type="") == [
        "claude-3-haiku", "gpt-4o-mini", "通过兑", "管理员"
    ]  # fmt: skip


@pytest.mark.usefixtures("seeded")
async def test_paging_and_page_size_cap(root: Session) -> None:
    body = (await root.get("/api/log/", params={"p": 2, "page_size": 3})).json()["data"]
    assert (body["total"], body["page"], body["page_size"], len(body["items"])) == (4, 2, 3, 1)
    assert body["items"][0]["created_at"] == NOW - 7200
    zero = (await root.get("/api/log/", params={"p": 0, "page_size": 1000})).json()["data"]
    assert zero["page"] == 1 and zero["page_size"] == 100 and len(zero["items"]) == 4


@pytest.mark.usefixtures("seeded")
async def test_common_user_sees_only_own_rows_without_admin_details(alice: Session) -> None:
    forbidden = await alice.get("/api/log/")
    assert forbidden.status_code == 403 and forbidden.json()["success"] is False
    items = await _items(alice, "/api/log/self", username="root", channel=9)
    assert [i["user_id"] for i in items] == [alice.user_id, alice.user_id]
    assert all(i["channel_name"] == "" for i in items)
    assert items[0]["other"] == '{"model_ratio":0.075}'
    assert [i["type"] for i in await _items(alice, "/api/log/self", type=1)] == [1]
    assert await _items(alice, "/api/log/self", token_name="ops") == []


@pytest.mark.usefixtures("seeded")
async def test_stat_numbers(app: RunningApp, root: Session, alice: Session) -> None:
    everything = (await root.get("/api/log/stat")).json()
    assert everything == {"success": True, "message": "", "data": {"quota": 142, "rpm": 2, "tpm": 140}}
    own = (await alice.get("/api/log/self/stat")).json()["data"]
    assert own == {"quota": 102, "rpm": 1, "tpm": 20}
    app.clock.advance(45)  # alice's row (now -75 s) leaves the one-minute window, root's (-55 s) stays
    assert (await root.get("/api/log/stat", params={"model_name": "gpt-4o-mini"})).json()["data"] == {
        "quota": 102, "rpm": 0, "tpm": 0
    }  # fmt: skip
    assert (await root.get("/api/log/stat")).json()["data"] == {"quota": 142, "rpm": 1, "tpm": 120}
    assert (await alice.get("/api/log/stat")).status_code == 403


@pytest.mark.usefixtures("seeded")
async def test_search_admin_and_self(root: Session, alice: Session) -> None:
    assert [i["model_name"] for i in await _items(root, "/api/log/search", keyword="haiku")] == ["claude-3-haiku"]
    assert len(await _items(root, "/api/log/search", keyword="alice")) == 2
    hit = await _items(root, "/api/log/search", keyword="gpt-4o")
    assert hit[0]["channel_name"] == "openai-main"
    assert await _items(alice, "/api/log/self/search", keyword="haiku") == []
    own = await _items(alice, "/api/log/self/search", keyword="兑换码")
    assert len(own) == 1 and own[0]["type"] == 1
    assert (await alice.get("/api/log/search", params={"keyword": "x"})).status_code == 403


@pytest.mark.usefixtures("seeded")
async def test_delete_before_timestamp(root: Session, alice: Session) -> None:
    missing = (await root.delete("/api/log/")).json()
    assert missing["success"] is False and "target_timestamp" in missing["message"]
    assert (await alice.delete("/api/log/", params={"target_timestamp": NOW})).status_code == 403
    deleted = (await root.delete("/api/log/", params={"target_timestamp": NOW - 30})).json()
    assert deleted == {"success": True, "message": "", "data": 2}
    assert [i["created_at"] for i in await _items(root, "/api/log/")] == [NOW - 10, NOW - 30]


async def test_bad_numbers_are_a_clear_error_not_a_crash(root: Session) -> None:
    r = await root.get("/api/log/", params={"type": "two"})
    assert r.status_code == 200
    assert r.json()["success"] is False and "type" in r.json()["message"]
