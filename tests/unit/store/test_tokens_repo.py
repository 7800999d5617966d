"""The tokens repository on every database: owner scoping, paging, search, soft delete."""

from __future__ import annotations

from typing import Any

import pytest

from clinx.auth.keys import new_api_key
from clinx.core.errors import ConflictError
from clinx.store.repos import tokens as tokens_repo
from tests.support.app import RunningApp, running_app


def _token(user_id: int, name: str, **extra: Any) -> dict[str, Any]:
    return {"user_id": user_id, "name": name, "key": new_api_key(), "created_time": 1, "accessed_time": 1, **extra}


async def _seed(app: RunningApp, rows: list[dict[str, Any]]) -> list[int]:
    async with app.state.dbs.main.begin() as conn:
        return [await tokens_repo.create(conn, row) for row in rows]


async def test_create_applies_new_api_defaults_and_scopes_reads_to_owner(any_db: str) -> None:
    async with running_app(any_db) as app:
        engine = app.state.dbs.main
        (token_id,) = await _seed(app, [_token(1, "mine")])
        async with engine.connect() as conn:
            row = await tokens_repo.get_for_user(conn, token_id, 1)
            assert await tokens_repo.get_for_user(conn, token_id, 2) is None
            assert await tokens_repo.count_for_user(conn, 1) == 1
            assert await tokens_repo.count_for_user(conn, 2) == 0
        assert row is not None
        assert row["status"] == 1 and row["expired_time"] == -1 and row["remain_quota"] == 0
        assert row["used_quota"] == 0 and row["group"] == ""
        assert row["unlimited_quota"] is False and row["model_limits_enabled"] is False
        async with engine.connect() as conn:
            by_key = await tokens_repo.get_by_key(conn, str(row["key"]))
        assert by_key is not None and by_key["id"] == token_id


async def test_duplicate_key_is_a_conflict(any_db: str) -> None:
    async with running_app(any_db) as app:
        key = new_api_key()
        await _seed(app, [_token(1, "a", key=key)])
        with pytest.raises(ConflictError):
            await _seed(app, [_token(1, "b", key=key)])


async def test_list_and_search_are_newest_first_paged_and_literal(any_db: str) -> None:
    async with running_app(any_db) as app:
        engine = app.state.dbs.main
        ids = await _seed(app, [_token(1, "alpha-1"), _token(1, "alpha_2"), _token(2, "alpha-3"), _token(1, "beta")])
        async with engine.connect() as conn:
            first = await tokens_repo.list_for_user(conn, 1, 1, 2)
            second = await tokens_repo.list_for_user(conn, 1, 2, 2)
            found = await tokens_repo.search_for_user(conn, 1, "alpha", "", 1, 10)
            underscore = await tokens_repo.search_for_user(conn, 1, "a_2", "", 1, 10)
            key = str(first.items[0]["key"])
            by_key = await tokens_repo.search_for_user(conn, 1, "", key[10:30], 1, 10)
        assert [r["name"] for r in first.items] == ["beta", "alpha_2"] and first.total == 3
        assert [r["name"] for r in second.items] == ["alpha-1"]
        assert [r["id"] for r in found.items] == [ids[1], ids[0]] and found.total == 2
        assert [r["name"] for r in underscore.items] == ["alpha_2"]
        assert [r["name"] for r in by_key.items] == ["beta"]


async def test_soft_deleted_tokens_are_invisible_everywhere(any_db: str) -> None:
    async with running_app(any_db) as app:
        engine = app.state.dbs.main
        keep, gone, other = await _seed(app, [_token(1, "keep"), _token(1, "gone"), _token(2, "other")])
        async with engine.begin() as conn:
            deleted = await tokens_repo.soft_delete_many(conn, 1, [gone, other])
        assert len(deleted) == 1
        async with engine.begin() as conn:
            assert await tokens_repo.soft_delete_many(conn, 1, [gone]) == []
            assert not await tokens_repo.update_fields(conn, gone, 1, {"name": "revived"})
            assert not await tokens_repo.set_status(conn, gone, 1, 2)
            assert await tokens_repo.set_status(conn, keep, 1, 2)
        async with engine.connect() as conn:
            assert await tokens_repo.get_for_user(conn, gone, 1) is None
            assert await tokens_repo.get_by_key(conn, deleted[0]) is None
            kept = await tokens_repo.get_for_user(conn, keep, 1)
            assert kept is not None
            assert await tokens_repo.keys_for_user(conn, 1, [keep, gone]) == {keep: kept["key"]}
            assert await tokens_repo.count_for_user(conn, 1) == 1
            assert await tokens_repo.count_for_user(conn, 2) == 1
            page = await tokens_repo.list_for_user(conn, 1, 1, 10)
            searched = await tokens_repo.search_for_user(conn, 1, "gone", "", 1, 10)
        assert [r["id"] for r in page.items] == [keep] and page.items[0]["status"] == 2
        assert searched.total == 0


async def test_get_by_key_is_case_sensitive(any_db: str) -> None:
    async with running_app(any_db) as app:
        key = "a" * 24 + "B" * 24
        await _seed(app, [_token(1, "cased", key=key)])
        async with app.state.dbs.main.connect() as conn:
            assert await tokens_repo.get_by_key(conn, key) is not None
            assert await tokens_repo.get_by_key(conn, key.swapcase()) is None
            assert await tokens_repo.get_by_key(conn, "") is None
