"""Dashboard data (/api/data), the model square (/api/pricing), model lists and usable groups."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import insert

from clinx.store.repos import quota_data as quota_data_repo
from clinx.store.repos import users as users_repo
from clinx.store.tables import abilities, channels
from tests.support.app import RunningApp, Session

NOW = 1_730_000_000  # the test clock
HOUR = NOW - NOW % 3600
DAY = 24 * 3600
BUCKET_FIELDS = {"id", "user_id", "username", "model_name", "created_at", "token_used", "count", "quota",
                 "use_group", "token_id", "channel_id", "node_name"}  # fmt: skip


@pytest.fixture
async def buckets(app: RunningApp, root: Session, alice: Session) -> None:
    usage = {"model_name": "gpt-4o-mini", "token_used": 20, "count": 1, "quota": 102}
    await quota_data_repo.add_buckets(
        app.state.dbs.main,
        [
            {**usage, "user_id": alice.user_id, "username": "alice", "created_at": NOW - 100},
            {**usage, "user_id": alice.user_id, "username": "alice", "created_at": NOW - 200},
            {**usage, "user_id": alice.user_id, "username": "alice", "created_at": NOW - 40 * DAY},
            {**usage, "user_id": root.user_id, "username": "root", "created_at": NOW - 300},
        ],
    )


@pytest.mark.usefixtures("buckets")
async def test_admin_data_per_username_and_totals(root: Session, alice: Session) -> None:
    params = {"start_timestamp": NOW - DAY, "end_timestamp": NOW}
    own = (await root.get("/api/data/", params={**params, "username": "alice"})).json()
    assert own["success"] and len(own["data"]) == 1
    row = own["data"][0]
    assert set(row) == BUCKET_FIELDS
    assert (row["user_id"], row["username"], row["created_at"]) == (alice.user_id, "alice", HOUR)
    assert (row["count"], row["quota"], row["token_used"]) == (2, 204, 40)
    assert row["use_group"] == "" and row["node_name"] == "" and row["channel_id"] == 0
    totals = (await root.get("/api/data/", params=params)).json()["data"]
    assert [(t["model_name"], t["created_at"], t["count"], t["quota"]) for t in totals] == [
        ("gpt-4o-mini", HOUR, 3, 306)
    ]
    everything = (await root.get("/api/data/", params={"username": "alice"})).json()["data"]
    assert len(everything) == 2  # no start: from the beginning
    assert (await alice.get("/api/data/", params=params)).status_code == 403


@pytest.mark.usefixtures("buckets")
async def test_self_data_is_own_and_limited_to_thirty_days(root: Session, alice: Session) -> None:
    rows = (await alice.get("/api/data/self", params={"start_timestamp": NOW - DAY, "end_timestamp": NOW})).json()
    assert [(r["user_id"], r["quota"]) for r in rows["data"]] == [(alice.user_id, 204)]
    too_long = await alice.get("/api/data/self", params={"start_timestamp": NOW - 31 * DAY, "end_timestamp": NOW})
    assert too_long.json()["success"] is False and "1 个月" in too_long.json()["message"]
    default_window = (await alice.get("/api/data/self")).json()
    assert [r["created_at"] for r in default_window["data"]] == [HOUR]  # the 40-day-old bucket is outside
    root_own = (await root.get("/api/data/self", params={"start_timestamp": NOW - DAY})).json()["data"]
    assert [r["username"] for r in root_own] == ["root"]
    bad = (await alice.get("/api/data/self", params={"start_timestamp": "yesterday"})).json()
    assert bad["success"] is False


@pytest.fixture
async def catalog(app: RunningApp) -> None:
    ability = {"channel_id": 1, "enabled": True}
    async with app.state.dbs.main.begin() as conn:
        await conn.execute(
            insert(abilities),
            [
                {**ability, "group": "default", "model": "gpt-4o-mini"},
                {**ability, "group": "vip", "model": "gpt-4o-mini"},
                {**ability, "group": "default", "model": "dall-e-3"},
                {**ability, "group": "default", "model": "my-model"},
                {**ability, "group": "secret", "model": "internal-model"},
                {"channel_id": 2, "enabled": False, "group": "default", "model": "disabled-model"},
            ],
        )
        await conn.execute(
            insert(channels),
            [
                {"type": 1, "key": "k", "name": "openai", "models": "gpt-4o-mini,dall-e-3"},
                {"type": 14, "key": "k", "name": "anthropic", "models": "claude-3-haiku"},
                {"type": 1, "key": "k", "name": "openai-2", "models": "gpt-4o-mini, o1"},
            ],
        )
    app.state.options.apply(
        {
            "ModelRatio": json.dumps({"gpt-4o-mini": 0.075}),
            "CompletionRatio": json.dumps({"gpt-4o-mini": 4}),
            "GroupRatio": json.dumps({"default": 1, "vip": 2, "svip": 0.5, "secret": 3}),
            "UserUsableGroups": json.dumps({"default": "默认分组", "vip": "vip分组"}),
        }
    )


def _by_model(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["model_name"]: item for item in body["data"]}


@pytest.mark.usefixtures("catalog")
async def test_pricing_lists_per_call_and_ratio_models_for_usable_groups(app: RunningApp) -> None:
    body = (await app.client.get("/api/pricing")).json()
    assert body["success"] is True
    assert body["usable_group"] == {"default": "默认分组", "vip": "vip分组"}
    assert body["group_ratio"] == {"default": 1, "vip": 2}
    models = _by_model(body)
    assert set(models) == {"gpt-4o-mini", "dall-e-3", "my-model"}  # secret group and disabled rows hidden
    assert models["gpt-4o-mini"] == {
        "model_name": "gpt-4o-mini", "quota_type": 0, "model_ratio": 0.075, "model_price": 0,
        "completion_ratio": 4, "enable_groups": ["default", "vip"], "owner_by": "",
    }  # fmt: skip
    per_call = models["dall-e-3"]  # ModelPrice unset: New API's default table prices dall-e-3 at $0.04 per call
    assert (per_call["quota_type"], per_call["model_price"], per_call["model_ratio"]) == (1, 0.04, 0)
    assert models["my-model"]["model_ratio"] == 37.5 and models["my-model"]["completion_ratio"] == 1


@pytest.mark.usefixtures("catalog")
async def test_pricing_with_a_session_adds_the_users_own_group(app: RunningApp, alice: Session) -> None:
    await users_repo.update_fields(app.state.dbs.main, alice.user_id, {"group": "secret"})
    body = (await alice.get("/api/pricing")).json()
    assert body["usable_group"]["secret"] == "用户分组"
    assert body["group_ratio"]["secret"] == 3
    assert _by_model(body)["internal-model"]["enable_groups"] == ["secret"]
    app.state.options.apply({"ModelPrice": json.dumps({"my-model": 0.002})})
    mine = _by_model((await alice.get("/api/pricing")).json())["my-model"]
    assert (mine["quota_type"], mine["model_price"]) == (1, 0.002)
    assert "dall-e-3" in _by_model((await alice.get("/api/pricing")).json())
    anonymous = (await app.client.get("/api/pricing", headers={"Authorization": "not-a-token"})).json()
    assert anonymous["success"] is True and "secret" not in anonymous["usable_group"]


@pytest.mark.usefixtures("catalog")
async def test_models_groups_and_user_models(app: RunningApp, root: Session, alice: Session) -> None:
    models = (await alice.get("/api/models")).json()
    assert models["data"] == {"1": ["dall-e-3", "gpt-4o-mini", "o1"], "14": ["claude-3-haiku"]}
    assert (await app.client.get("/api/models")).status_code == 401
    groups = (await root.get("/api/group/")).json()
    assert groups == {"success": True, "message": "", "data": ["default", "secret", "svip", "vip"]}
    assert (await alice.get("/api/group/")).status_code == 403
    usable = (await alice.get("/api/user/self/groups")).json()["data"]
    assert usable == {"default": {"ratio": 1, "desc": "默认分组"}, "vip": {"ratio": 2, "desc": "vip分组"}}
    assert (await alice.get("/api/user/groups")).json()["data"] == usable
    assert (await alice.get("/api/user/models")).json()["data"] == ["dall-e-3", "gpt-4o-mini", "my-model"]
    await users_repo.update_fields(app.state.dbs.main, alice.user_id, {"group": "svip"})
    usable = (await alice.get("/api/user/self/groups")).json()["data"]
    assert usable["svip"] == {"ratio": 0.5, "desc": "用户分组"} and set(usable) == {"default", "vip", "svip"}
    assert (await alice.get("/api/user/models")).json()["data"] == []
