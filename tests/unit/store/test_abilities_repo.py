"""The abilities routing index on every database: channel writes keep it exact, in one transaction."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from clinx.store.repos import abilities as abilities_repo
from clinx.store.repos import channels as channels_repo
from clinx.store.tables import abilities
from tests.support.app import RunningApp, running_app

Ability = tuple[str, str, int, bool, int, int, str | None]


def _channel(name: str, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"type": 1, "key": "sk-" + name, "name": name, "models": "m1,m2", "group": "default"}
    values.update(extra)
    return values


async def _abilities(app: RunningApp) -> set[Ability]:
    async with app.state.dbs.main.connect() as conn:
        rows = (await conn.execute(select(abilities))).mappings().all()
    return {
        (r["group"], r["model"], r["channel_id"], bool(r["enabled"]), r["priority"], r["weight"], r["tag"])
        for r in rows
    }


async def test_create_update_delete_keep_abilities_exact(any_db: str) -> None:
    async with running_app(any_db) as app:
        engine = app.state.dbs.main
        first, second = await channels_repo.create_many(
            engine,
            [
                _channel("a", group="default,vip", models="m1, m2,m1", priority=5, weight=3, tag="t"),
                _channel("b", models="m2", status=2),
            ],
        )
        assert await _abilities(app) == {
            ("default", "m1", first, True, 5, 3, "t"),
            ("default", "m2", first, True, 5, 3, "t"),
            ("vip", "m1", first, True, 5, 3, "t"),
            ("vip", "m2", first, True, 5, 3, "t"),
            ("default", "m2", second, False, 0, 0, None),
        }
        await channels_repo.update_fields(engine, first, {"models": "m3", "group": "vip", "priority": 1})
        await channels_repo.set_status(engine, second, 1)
        assert await _abilities(app) == {
            ("vip", "m3", first, True, 1, 3, "t"),
            ("default", "m2", second, True, 0, 0, None),
        }
        assert await abilities_repo.models_enabled(engine) == ["m2", "m3"]
        assert await channels_repo.delete_many(engine, [first]) == 1
        assert await _abilities(app) == {("default", "m2", second, True, 0, 0, None)}


async def test_list_enabled_and_rebuild_all_after_corruption(any_db: str) -> None:
    async with running_app(any_db) as app:
        engine = app.state.dbs.main
        on, off = await channels_repo.create_many(engine, [_channel("on", priority=2), _channel("off", status=3)])
        expected = await _abilities(app)
        enabled = await abilities_repo.list_enabled(engine)
        assert {(r["group"], r["model"], r["channel_id"], r["priority"]) for r in enabled} == {
            ("default", "m1", on, 2),
            ("default", "m2", on, 2),
        }
        async with engine.begin() as conn:
            await conn.execute(delete(abilities).where(abilities.c.channel_id == on))
            await conn.execute(insert(abilities).values(group="ghost", model="x", channel_id=999, enabled=True))
        assert await channels_repo.rebuild_abilities(engine) == 2
        assert await _abilities(app) == expected
        assert {r[2] for r in expected} == {on, off}


async def test_many_abilities_are_inserted_in_chunks(any_db: str) -> None:
    async with running_app(any_db) as app:
        models = ",".join(f"model-{i}" for i in range(120))
        (channel_id,) = await channels_repo.create_many(app.state.dbs.main, [_channel("big", models=models)])
        rows = await abilities_repo.list_for_channel(app.state.dbs.main, channel_id)
        assert len(rows) == 120 > abilities_repo.CHUNK
        assert {r["model"] for r in rows} == {f"model-{i}" for i in range(120)}


async def test_failed_write_leaves_channels_and_abilities_untouched(any_db: str) -> None:
    async with running_app(any_db) as app:
        engine = app.state.dbs.main
        await channels_repo.create_many(engine, [_channel("keep")])
        before = await _abilities(app)
        broken = _channel("broken")
        broken["key"] = None  # NOT NULL: the second insert fails after the first channel's abilities were written
        with pytest.raises(IntegrityError):
            await channels_repo.create_many(engine, [_channel("rolled-back"), broken])
        assert await _abilities(app) == before
        page = await channels_repo.list_page(engine, channels_repo.ChannelQuery(), 1, 10)
        assert [row["name"] for row in page.page.items] == ["keep"]


async def test_auto_disable_records_reason_and_disables_abilities_once(any_db: str) -> None:
    async with running_app(any_db) as app:
        engine = app.state.dbs.main
        enabled, manual = await channels_repo.create_many(engine, [_channel("on"), _channel("manual", status=2)])
        assert await channels_repo.auto_disable(engine, enabled, "401 invalid key", 1_730_000_123) is True
        assert await channels_repo.auto_disable(engine, enabled, "again", 1_730_000_999) is False
        assert await channels_repo.auto_disable(engine, manual, "ignored", 1) is False
        row = await channels_repo.get(engine, enabled)
        assert row is not None and row["status"] == 3
        assert json.loads(row["other_info"]) == {"status_reason": "401 invalid key", "status_time": 1_730_000_123}
        assert {a[3] for a in await _abilities(app) if a[2] == enabled} == {False}
        manual_row = await channels_repo.get(engine, manual)
        assert manual_row is not None and manual_row["status"] == 2
