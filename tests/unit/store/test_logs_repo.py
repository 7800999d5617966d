"""The logs and quota_data repositories on every database: filters, order, stats, search, batched delete,
hourly bucket accumulation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from clinx.store.repos import logs as logs_repo
from clinx.store.repos import model_catalog
from clinx.store.repos import quota_data as quota_data_repo
from clinx.store.repos.logs import LogFilter
from clinx.store.tables import abilities, channels, logs, quota_data
from tests.support.app import RunningApp, running_app

T0 = 1_730_000_000


def _log(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"user_id": 1, "username": "alice", "created_at": T0, "type": 2, "content": ""}
    row.update(values)
    return row


SEED = [
    _log(token_name="ci", model_name="gpt-4o-mini", quota=100, prompt_tokens=10, completion_tokens=5, channel_id=3,
         group="default", request_id="req-a", created_at=T0 - 30),
    _log(token_name="ci", model_name="gpt-4o", quota=200, prompt_tokens=20, completion_tokens=7, channel_id=4,
         group="vip", created_at=T0 - 90),
    _log(user_id=2, username="bob", token_name="web", model_name="claude-3-haiku", quota=50, prompt_tokens=1,
         completion_tokens=1, channel_id=3, group="default", created_at=T0 - 10, is_stream=True),
    _log(type=1, content="通过兑换码充值 ＄1.000000 额度，兑换码ID 5", quota=500000, created_at=T0 - 20),
    _log(user_id=2, username="bob", type=3, content="管理员将用户额度从 100%修改为 200", created_at=T0 - 5000),
]  # fmt: skip


async def _seed(app: RunningApp) -> None:
    assert await logs_repo.insert_many(app.state.dbs.logs, SEED) == len(SEED)


async def _models(app: RunningApp, criteria: LogFilter) -> list[str]:
    page = await logs_repo.list_page(app.state.dbs.logs, criteria, 1, 100)
    assert page.total == len(page.items)
    return [str(r["model_name"] or r["content"][:4]) for r in page.items]


async def test_insert_log_returns_id_and_applies_defaults(any_db: str) -> None:
    async with running_app(any_db) as app:
        first = await logs_repo.insert_log(app.state.dbs.logs, {"user_id": 7, "created_at": T0, "type": 4})
        second = await logs_repo.insert_log(app.state.dbs.logs, {"user_id": 7, "created_at": T0, "type": 4})
        assert second > first > 0
        async with app.state.dbs.logs.connect() as conn:
            row = (await conn.execute(select(logs).where(logs.c.id == first))).mappings().one()
        assert row["username"] == "" and row["token_name"] == "" and row["quota"] == 0
        assert row["is_stream"] is False and row["token_id"] == 0
        assert await logs_repo.insert_many(app.state.dbs.logs, []) == 0


async def test_each_filter_narrows_and_order_is_newest_first(any_db: str) -> None:
    async with running_app(any_db) as app:
        await _seed(app)
        assert await _models(app, LogFilter()) == ["claude-3-haiku", "通过兑换", "gpt-4o-mini", "gpt-4o", "管理员将"]
        assert await _models(app, LogFilter(type=2)) == ["claude-3-haiku", "gpt-4o-mini", "gpt-4o"]
        assert await _models(app, LogFilter(user_id=2)) == ["claude-3-haiku", "管理员将"]
        assert await _models(app, LogFilter(username="alice", type=2)) == ["gpt-4o-mini", "gpt-4o"]
        assert await _models(app, LogFilter(token_name="web")) == ["claude-3-haiku"]
        assert await _models(app, LogFilter(model_name="gpt-4o")) == ["gpt-4o"]
        assert await _models(app, LogFilter(model_name="gpt-4o%")) == ["gpt-4o-mini", "gpt-4o"]
        assert await _models(app, LogFilter(channel=3)) == ["claude-3-haiku", "gpt-4o-mini"]
        assert await _models(app, LogFilter(group="vip")) == ["gpt-4o"]
        assert await _models(app, LogFilter(request_id="req-a")) == ["gpt-4o-mini"]
        window = LogFilter(start_timestamp=T0 - 30, end_timestamp=T0 - 10)
        assert await _models(app, window) == ["claude-3-haiku", "通过兑换", "gpt-4o-mini"]


async def test_same_second_rows_order_by_id_desc_and_pages(any_db: str) -> None:
    async with running_app(any_db) as app:
        await logs_repo.insert_many(app.state.dbs.logs, [_log(model_name=f"m{i}") for i in range(5)])
        first = await logs_repo.list_page(app.state.dbs.logs, LogFilter(), 1, 2)
        last = await logs_repo.list_page(app.state.dbs.logs, LogFilter(), 3, 2)
        assert [r["model_name"] for r in first.items] == ["m4", "m3"]
        assert [r["model_name"] for r in last.items] == ["m0"]
        assert first.total == last.total == 5


async def test_stat_sums_consume_rows_and_counts_the_last_minute(any_db: str) -> None:
    async with running_app(any_db) as app:
        await _seed(app)
        stat = await logs_repo.stat(app.state.dbs.logs, LogFilter(), T0)
        # quota: consume rows only (100 + 200 + 50); the minute holds the rows at -30 and -10.
        assert (stat.quota, stat.rpm, stat.tpm) == (350, 2, 10 + 5 + 1 + 1)
        alice = await logs_repo.stat(app.state.dbs.logs, LogFilter(user_id=1, start_timestamp=T0 - 60), T0)
        assert (alice.quota, alice.rpm, alice.tpm) == (100, 1, 15)
        empty = await logs_repo.stat(app.state.dbs.logs, LogFilter(username="nobody"), T0)
        assert (empty.quota, empty.rpm, empty.tpm) == (0, 0, 0)


async def test_search_matches_fields_literally_and_respects_owner(any_db: str) -> None:
    async with running_app(any_db) as app:
        await _seed(app)
        engine = app.state.dbs.logs
        assert (await logs_repo.search(engine, "haiku", 1, 10)).total == 1
        assert (await logs_repo.search(engine, "bob", 1, 10)).total == 2
        assert (await logs_repo.search(engine, "兑换码", 1, 10)).total == 1
        assert (await logs_repo.search(engine, "100%", 1, 10)).total == 1  # % is literal, not a wildcard
        assert (await logs_repo.search(engine, "bob", 1, 10, user_id=1)).total == 0
        assert (await logs_repo.search(engine, "ci", 1, 10, user_id=1)).total == 2
        page = await logs_repo.search(engine, "", 2, 2)
        assert page.total == len(SEED) and len(page.items) == 2


async def test_delete_before_works_in_batches_and_keeps_newer_rows(any_db: str) -> None:
    async with running_app(any_db) as app:
        engine = app.state.dbs.logs
        await logs_repo.insert_many(engine, [_log(created_at=T0 - 100 + i) for i in range(7)])
        await logs_repo.insert_many(engine, [_log(created_at=T0 + i) for i in range(3)])
        assert await logs_repo.delete_before(engine, T0 - 96, batch=2) == 4
        assert await logs_repo.delete_before(engine, T0, batch=2) == 3
        assert await logs_repo.delete_before(engine, T0, batch=2) == 0
        remaining = await logs_repo.list_page(engine, LogFilter(), 1, 100)
        assert sorted(r["created_at"] for r in remaining.items) == [T0, T0 + 1, T0 + 2]


async def test_channel_names_come_from_the_main_database(any_db: str) -> None:
    async with running_app(any_db) as app:
        async with app.state.dbs.main.begin() as conn:
            await conn.execute(insert(channels), [{"id": 3, "key": "k", "name": "openai-main"},
                                                  {"id": 4, "key": "k", "name": "claude"}])  # fmt: skip
        names = await logs_repo.channel_names(app.state.dbs.main, [3, 3, 0, 9])
        assert names == {3: "openai-main"}
        assert await logs_repo.channel_names(app.state.dbs.main, [0]) == {}


async def test_quota_buckets_accumulate_per_user_model_and_hour(any_db: str) -> None:
    async with running_app(any_db) as app:
        engine = app.state.dbs.main
        hour = T0 - T0 % 3600
        usage = {"user_id": 1, "username": "alice", "model_name": "gpt-4o", "token_used": 10, "count": 1, "quota": 7}
        touched = await quota_data_repo.add_buckets(
            engine,
            [
                {**usage, "created_at": hour + 5},
                {**usage, "created_at": hour + 3599},
                {**usage, "created_at": hour + 3600},
                {**usage, "model_name": "gpt-4o-mini", "created_at": hour},
            ],
        )
        assert touched == 3
        await quota_data_repo.add_buckets(engine, [{**usage, "created_at": hour + 60, "quota": 3}])
        async with engine.connect() as conn:
            rows = (await conn.execute(select(quota_data).order_by(quota_data.c.id))).mappings().all()
        got = [(r["model_name"], r["created_at"], r["count"], r["quota"], r["token_used"]) for r in rows]
        assert got == [
            ("gpt-4o", hour, 3, 17, 30),
            ("gpt-4o", hour + 3600, 1, 7, 10),
            ("gpt-4o-mini", hour, 1, 7, 10),
        ]
        assert await quota_data_repo.add_buckets(engine, []) == 0


async def test_quota_queries_by_user_username_and_totals(any_db: str) -> None:
    async with running_app(any_db) as app:
        engine = app.state.dbs.main
        hour = T0 - T0 % 3600
        base = {"model_name": "gpt-4o", "created_at": hour, "token_used": 10, "count": 1, "quota": 5}
        await quota_data_repo.add_buckets(
            engine,
            [
                {**base, "user_id": 1, "username": "alice"},
                {**base, "user_id": 2, "username": "bob", "quota": 7},
                {**base, "user_id": 2, "username": "bob", "created_at": hour - 7200},
            ],
        )
        assert [r["quota"] for r in await quota_data_repo.for_user(engine, 2, hour - 3600, hour)] == [7]
        assert len(await quota_data_repo.for_username(engine, "bob", 0, hour)) == 2
        totals = await quota_data_repo.totals_by_model(engine, hour, hour)
        assert [(r["model_name"], int(r["count"]), int(r["quota"]), int(r["token_used"])) for r in totals] == [
            ("gpt-4o", 2, 12, 20)
        ]


async def test_model_catalog_reads_enabled_abilities_and_channel_models(any_db: str) -> None:
    async with running_app(any_db) as app:
        async with app.state.dbs.main.begin() as conn:
            await conn.execute(
                insert(abilities),
                [
                    {"group": "default", "model": "gpt-4o", "channel_id": 1, "enabled": True},
                    {"group": "vip", "model": "gpt-4o", "channel_id": 1, "enabled": True},
                    {"group": "vip", "model": "gpt-4o", "channel_id": 2, "enabled": True},
                    {"group": "default", "model": "old-model", "channel_id": 2, "enabled": False},
                ],
            )
            await conn.execute(
                insert(channels),
                [
                    {"type": 1, "key": "k", "name": "a", "models": "gpt-4o, gpt-4o-mini"},
                    {"type": 1, "key": "k", "name": "b", "models": "gpt-4o,o1"},
                    {"type": 14, "key": "k", "name": "c", "models": ""},
                ],
            )
        engine = app.state.dbs.main
        assert await model_catalog.enabled_model_groups(engine) == {"gpt-4o": ["default", "vip"]}
        assert await model_catalog.enabled_models_in_group(engine, "default") == ["gpt-4o"]
        assert await model_catalog.enabled_models_in_group(engine, "none") == []
        assert await model_catalog.models_by_channel_type(engine) == {1: ["gpt-4o", "gpt-4o-mini", "o1"], 14: []}


async def test_overlong_names_are_cut_to_their_columns_instead_of_failing_the_batch(any_db: str) -> None:
    async with running_app(any_db) as app:
        long_name = "m" * 300
        await logs_repo.insert_many(app.state.dbs.logs, [_log(model_name=long_name, request_id="r" * 100)])
        row = (await logs_repo.list_page(app.state.dbs.logs, LogFilter(), 1, 1)).items[0]
        assert row["model_name"] == "m" * 191 and row["request_id"] == "r" * 64
        usage = {"user_id": 1, "username": "u" * 80, "model_name": long_name, "created_at": T0, "count": 1}
        await quota_data_repo.add_buckets(app.state.dbs.main, [usage, usage])
        (bucket,) = await quota_data_repo.for_user(app.state.dbs.main, 1, 0, T0)
        assert bucket["model_name"] == "m" * 64 and bucket["username"] == "u" * 64 and bucket["count"] == 2
