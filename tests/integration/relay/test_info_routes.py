"""Read-only key routes through the real gateway: /v1/models (OpenAI, Anthropic and Gemini forms, with the openai
and anthropic SDKs), the legacy billing endpoints, /api/usage/token and the public /api/log/token."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import orjson
import pytest
from sqlalchemy import select

from clinx.store.tables import logs
from tests.integration.relay.conftest import RATIOS, RelayEnv
from tests.support.app import Session

QUOTA_PER_UNIT = 500_000


@pytest.fixture
async def env(relay_env: RelayEnv) -> RelayEnv:
    """relay_env plus a vip-only channel and an unpriced model in the default group."""
    gw = relay_env.gateway
    await gw.set_option("ModelRatio", orjson.dumps({**RATIOS, "vip-model": 1.0}).decode())
    await gw.add_channel("mock-vip", relay_env.mock.base_url, "vip-model", group="vip")
    await gw.add_channel("mock-unpriced", relay_env.mock.base_url, "unpriced-model")
    return relay_env


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _token_id(owner: Session, name: str) -> int:
    items = (await owner.get("/api/token/search", params={"keyword": name})).json()["data"]["items"]
    return int(next(t["id"] for t in items if t["name"] == name))


async def _chat(env: RelayEnv, key: str, model: str = "gpt-4o-mini") -> None:
    async with env.sdk(key) as sdk:
        reply = await sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content


async def _model_ids(env: RelayEnv, key: str | None = None) -> list[str]:
    async with env.sdk(key) as sdk:
        return [m.id for m in (await sdk.models.list()).data]


async def _consume_rows(env: RelayEnv) -> list[dict[str, Any]]:
    await env.gateway.settle()
    async with env.gateway.state.dbs.logs.connect() as conn:
        rows = (await conn.execute(select(logs).where(logs.c.type == 2).order_by(logs.c.id))).mappings().all()
    return [dict(r) for r in rows]


# --- /v1/models -----------------------------------------------------------------------------------------------


async def test_models_list_is_the_key_groups_priced_models(env: RelayEnv) -> None:
    async with env.sdk() as sdk:
        page = await sdk.models.list()
    ids = {m.id for m in page.data}
    assert ids >= {"gpt-4o-mini", "gpt-4o", "mock-slow"}
    assert "vip-model" not in ids  # served only in the vip group
    assert "unpriced-model" not in ids  # no ratio or price, self-use mode off
    mini = next(m for m in page.data if m.id == "gpt-4o-mini")
    assert mini.owned_by == "openai" and mini.created == 1626777600 and mini.object == "model"

    raw = (await env.gateway.client.get("/v1/models", headers=_auth(env.key))).json()
    assert raw["success"] is True and raw["object"] == "list"
    item = next(m for m in raw["data"] if m["id"] == "mock-slow")
    assert item["owned_by"] == "custom" and item["root"] == "mock-slow" and item["parent"] is None
    assert item["permission"][0]["object"] == "model_permission"


async def test_models_list_follows_the_key_group(env: RelayEnv) -> None:
    vip_key = await env.gateway.add_key(env.user, "vip-key", group="vip")
    assert await _model_ids(env, vip_key) == ["vip-model"]


async def test_models_list_is_cut_to_the_key_allow_list(env: RelayEnv) -> None:
    limited = await env.gateway.add_key(
        env.user, "limited", model_limits_enabled=True, model_limits="gpt-4o,unpriced-model,not-served"
    )
    assert await _model_ids(env, limited) == ["gpt-4o"]
    async with env.sdk(limited) as sdk:
        assert (await sdk.models.retrieve("gpt-4o")).id == "gpt-4o"
    r = await env.gateway.client.get("/v1/models/gpt-4o-mini", headers=_auth(limited))
    assert r.status_code == 200 and r.json()["error"]["code"] == "model_not_found"


async def test_unpriced_models_are_listed_in_self_use_mode(env: RelayEnv) -> None:
    await env.gateway.set_option("SelfUseModeEnabled", "true")
    ids = await _model_ids(env)
    assert "unpriced-model" in ids and "gpt-4o-mini" in ids


async def test_models_list_in_anthropic_form(env: RelayEnv) -> None:
    async with anthropic.AsyncAnthropic(base_url=env.gateway.base_url, api_key=env.key, max_retries=0) as client:
        models = [m async for m in client.models.list()]
    ids = [m.id for m in models]
    assert "gpt-4o-mini" in ids and "vip-model" not in ids
    assert models[0].type == "model" and models[0].display_name == models[0].id
    assert models[0].created_at.year == 2021

    raw = (
        await env.gateway.client.get("/v1/models", headers={"x-api-key": env.key, "anthropic-version": "2023-06-01"})
    ).json()
    assert raw["has_more"] is False and raw["first_id"] == raw["data"][0]["id"]
    assert raw["last_id"] == raw["data"][-1]["id"] and raw["data"][0]["created_at"] == "2021-07-20T10:40:00Z"


async def test_models_list_in_gemini_form(env: RelayEnv) -> None:
    by_query = (await env.gateway.client.get("/v1/models", params={"key": env.key})).json()
    by_header = (await env.gateway.client.get("/v1/models", headers={"x-goog-api-key": env.key})).json()
    assert by_query == by_header and by_query["nextPageToken"] is None
    mini = next(m for m in by_query["models"] if m["name"] == "models/gpt-4o-mini")
    assert mini["displayName"] == "gpt-4o-mini"
    assert mini["supportedGenerationMethods"] == ["generateContent", "streamGenerateContent"]


async def test_retrieve_model(env: RelayEnv) -> None:
    async with env.sdk() as sdk:
        model = await sdk.models.retrieve("gpt-4o-mini")
    assert model.id == "gpt-4o-mini" and model.owned_by == "openai"
    r = await env.gateway.client.get("/v1/models/no-such-model", headers=_auth(env.key))
    assert r.status_code == 200
    assert r.json() == {
        "error": {
            "message": "The model 'no-such-model' does not exist",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    hidden = await env.gateway.client.get("/v1/models/vip-model", headers=_auth(env.key))
    assert hidden.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/gpt-4o", "/v1/dashboard/billing/usage"])
async def test_key_routes_refuse_missing_and_unknown_keys(env: RelayEnv, path: str) -> None:
    for headers in ({}, _auth("sk-" + "x" * 48)):
        r = await env.gateway.client.get(path, headers=headers)
        assert r.status_code == 401
        error = r.json()["error"]
        assert error["type"] == "new_api_error" and "request id" in error["message"]
        assert r.headers["X-Oneapi-Request-Id"]


# --- /dashboard/billing/* -------------------------------------------------------------------------------------


async def test_billing_for_a_limited_key_after_a_billed_call(env: RelayEnv) -> None:
    key = await env.gateway.add_key(env.user, "budget", unlimited_quota=False, remain_quota=100_000)
    client = env.gateway.client
    await _chat(env, key)
    [row] = await _consume_rows(env)
    charged = int(row["quota"])
    assert charged > 0

    for prefix in ("", "/v1"):
        sub = (await client.get(f"{prefix}/dashboard/billing/subscription", headers=_auth(key))).json()
        assert sub == {
            "object": "billing_subscription",
            "has_payment_method": True,
            "soft_limit_usd": pytest.approx(100_000 / QUOTA_PER_UNIT),
            "hard_limit_usd": pytest.approx(100_000 / QUOTA_PER_UNIT),
            "system_hard_limit_usd": pytest.approx(100_000 / QUOTA_PER_UNIT),
            "access_until": 0,
        }
        usage = (await client.get(f"{prefix}/dashboard/billing/usage", headers=_auth(key))).json()
        assert usage == {"object": "list", "total_usage": pytest.approx(charged / QUOTA_PER_UNIT * 100)}

    await env.gateway.set_option("DisplayInCurrencyEnabled", "false")
    sub = (await client.get("/v1/dashboard/billing/subscription", headers=_auth(key))).json()
    assert sub["hard_limit_usd"] == 100_000
    usage = (await client.get("/v1/dashboard/billing/usage", headers=_auth(key))).json()
    assert usage["total_usage"] == charged * 100


async def test_unlimited_key_and_the_wallet_view(env: RelayEnv) -> None:
    client = env.gateway.client
    expiring = await env.gateway.add_key(env.user, "expiring", expired_time=4_102_444_800)
    sub = (await client.get("/v1/dashboard/billing/subscription", headers=_auth(expiring))).json()
    assert sub["hard_limit_usd"] == 100_000_000 and sub["access_until"] == 4_102_444_800

    await _chat(env, env.key)
    [row] = await _consume_rows(env)
    wallet_total = await env.user_quota() + int(row["quota"])  # quota left + used_quota
    await env.gateway.set_option("DisplayTokenStatEnabled", "false")
    sub = (await client.get("/v1/dashboard/billing/subscription", headers=_auth(env.key))).json()
    assert sub["hard_limit_usd"] == pytest.approx(wallet_total / QUOTA_PER_UNIT) and sub["access_until"] == 0
    usage = (await client.get("/dashboard/billing/usage", headers=_auth(expiring))).json()
    assert usage["total_usage"] == pytest.approx(int(row["quota"]) / QUOTA_PER_UNIT * 100)  # the owner's spend


# --- /api/usage/token -----------------------------------------------------------------------------------------


async def test_token_usage_is_readable_by_an_exhausted_key(env: RelayEnv) -> None:
    key = await env.gateway.add_key(
        env.user, "empty", unlimited_quota=False, remain_quota=0, model_limits_enabled=True, model_limits="gpt-4o"
    )
    client = env.gateway.client
    refused = await client.get("/v1/dashboard/billing/usage", headers=_auth(key))
    assert refused.status_code == 401  # the relay's check refuses an exhausted key
    for path in ("/api/usage/token", "/api/usage/token/"):
        r = await client.get(path, headers=_auth(key))
        assert r.status_code == 200, r.text
        assert r.json() == {
            "code": True,
            "message": "ok",
            "data": {
                "object": "token_usage",
                "name": "empty",
                "total_granted": 0,
                "total_used": 0,
                "total_available": 0,
                "unlimited_quota": False,
                "model_limits": {"gpt-4o": True},
                "model_limits_enabled": True,
                "expires_at": 0,
            },
        }


async def test_token_usage_counts_spend_and_refuses_disabled_keys(env: RelayEnv) -> None:
    key = await env.gateway.add_key(env.user, "spender", unlimited_quota=False, remain_quota=100_000)
    await _chat(env, key)
    [row] = await _consume_rows(env)
    data = (await env.gateway.client.get("/api/usage/token", headers=_auth(key))).json()["data"]
    assert data["total_used"] == row["quota"] and data["total_available"] == 100_000 - row["quota"]
    assert data["total_granted"] == 100_000

    token_id = await _token_id(env.user, "spender")
    r = await env.user.put("/api/token/", params={"status_only": "true"}, json={"id": token_id, "status": 2})
    assert r.json()["success"], r.text
    for headers in (_auth(key), _auth("sk-" + "y" * 48), {}):
        refused = await env.gateway.client.get("/api/usage/token", headers=headers)
        assert refused.status_code == 401 and refused.json()["success"] is False


# --- /api/log/token -------------------------------------------------------------------------------------------


async def test_key_logs_show_only_that_keys_consume_rows(env: RelayEnv) -> None:
    other = await env.gateway.add_key(env.user, "other-key")
    await _chat(env, env.key)
    await _chat(env, other, "gpt-4o")
    await _chat(env, env.key, "gpt-4o")
    rows = await _consume_rows(env)
    mine = [r for r in rows if r["token_name"] == "test-key"]
    assert len(mine) == 2 and len(rows) == 3

    r = await env.gateway.client.get("/api/log/token", params={"key": env.key})
    assert r.headers["access-control-allow-origin"] == "*"
    body = r.json()
    assert body["success"] is True and body["message"] == ""
    assert [item["id"] for item in body["data"]] == [row["id"] for row in reversed(mine)]  # newest first
    own = (await env.user.get("/api/log/self", params={"type": 2, "page_size": 100})).json()["data"]["items"]
    by_id = {item["id"]: item for item in own}
    for item in body["data"]:
        assert item == by_id[item["id"]]  # the same item as the owner's console shows
        assert "admin_info" not in item["other"]


async def test_key_logs_with_a_bad_key(env: RelayEnv) -> None:
    for params in ({"key": "sk-" + "z" * 48}, {}):
        r = await env.gateway.client.get("/api/log/token", params=params)
        assert r.status_code == 200
        body = r.json()
        assert body["success"] is False and body["message"]


async def test_key_logs_are_public_even_without_relay_auth(env: RelayEnv) -> None:
    async with httpx.AsyncClient(base_url=env.gateway.base_url) as anonymous:
        await _chat(env, env.key)
        await env.gateway.settle()
        r = await anonymous.get("/api/log/token", params={"key": env.key.removeprefix("sk-")})
    assert r.json()["success"] is True and len(r.json()["data"]) == 1
