"""Relay errors: OpenAI's shape, the right status, the request id, and nothing charged."""

from __future__ import annotations

import httpx
import openai
import pytest
from sqlalchemy import update

from clinx.store.tables import tokens
from tests.integration.relay.conftest import RelayEnv


def _error(r: httpx.Response) -> dict[str, str]:
    body = r.json()
    assert set(body) == {"error"}, body
    error: dict[str, str] = body["error"]
    assert {"message", "type", "param", "code"} <= set(error)
    assert "(request id: " in error["message"]
    assert r.headers.get("content-type", "").startswith("application/json")
    return error


async def _chat(env: RelayEnv, body: dict[str, object], key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key or env.key}"}
    return await env.gateway.client.post("/v1/chat/completions", json=body, headers=headers)


HELLO = [{"role": "user", "content": "hi"}]


async def test_unknown_key_is_401(relay_env: RelayEnv) -> None:
    r = await _chat(relay_env, {"model": "gpt-4o-mini", "messages": HELLO}, key="sk-" + "x" * 48)
    assert r.status_code == 401
    _error(r)
    with pytest.raises(openai.AuthenticationError):
        await relay_env.sdk(key="sk-nope").chat.completions.create(model="gpt-4o-mini", messages=HELLO)  # type: ignore[arg-type]


async def test_missing_key_is_401(relay_env: RelayEnv) -> None:
    r = await relay_env.gateway.client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": HELLO})
    assert r.status_code == 401
    _error(r)


async def test_bad_json_is_400(relay_env: RelayEnv) -> None:
    r = await relay_env.gateway.client.post(
        "/v1/chat/completions", content=b"{oops", headers={"Authorization": f"Bearer {relay_env.key}"}
    )
    assert r.status_code == 400
    _error(r)


async def test_body_over_limit_is_413(sqlite_db: str) -> None:
    from tests.support.gateway import serving

    async with serving(sqlite_db, MAX_REQUEST_BODY_MB="1") as gateway:
        r = await gateway.client.post(
            "/v1/chat/completions",
            content=b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"' + b"a" * (2 << 20) + b'"}]}',
            headers={"Authorization": "Bearer sk-whatever", "Content-Type": "application/json"},
        )
        assert r.status_code == 413
        assert _error(r)["code"] == "read_request_body_failed"


async def test_model_without_channel_is_503(relay_env: RelayEnv) -> None:
    await relay_env.gateway.set_option("ModelRatio", '{"gpt-4o-mini":0.075,"no-such-model":1}')
    r = await _chat(relay_env, {"model": "no-such-model", "messages": HELLO})
    assert r.status_code == 503
    assert _error(r)["code"] == "model_not_found"


async def test_unpriced_model_is_400_unless_self_use(relay_env: RelayEnv) -> None:
    await relay_env.gateway.add_channel("extra", relay_env.mock.base_url, "unpriced-model")
    r = await _chat(relay_env, {"model": "unpriced-model", "messages": HELLO})
    assert r.status_code == 400
    assert _error(r)["code"] == "model_price_error"
    await relay_env.gateway.set_option("SelfUseModeEnabled", "true")
    ok = await _chat(relay_env, {"model": "unpriced-model", "messages": HELLO})
    assert ok.status_code == 200, ok.text


async def test_upstream_error_passes_through_and_refunds(relay_env: RelayEnv) -> None:
    before = await relay_env.user_quota()
    r = await _chat(relay_env, {"model": "mock-error-400", "messages": HELLO})
    assert r.status_code == 400
    error = _error(r)
    assert error["type"] == "invalid_request_error"
    await relay_env.gateway.settle()
    assert await relay_env.user_quota() == before
    logs = (await relay_env.gateway.root.get("/api/log/", params={"type": 2})).json()["data"]
    assert logs["total"] == 0


async def test_status_code_mapping_rewrites_upstream_status(relay_env: RelayEnv) -> None:
    channel = (await relay_env.gateway.root.get(f"/api/channel/{relay_env.channel_id}")).json()["data"]
    channel["status_code_mapping"] = '{"400": "422"}'
    r = await relay_env.gateway.root.put("/api/channel/", json=channel)
    assert r.json()["success"], r.text
    resp = await _chat(relay_env, {"model": "mock-error-400", "messages": HELLO})
    assert resp.status_code == 422


async def test_exhausted_key_and_expired_key(relay_env: RelayEnv) -> None:
    limited = await relay_env.gateway.add_key(relay_env.user, name="tiny", unlimited_quota=False, remain_quota=1)
    r = await _chat(relay_env, {"model": "gpt-4o-mini", "messages": HELLO, "max_tokens": 100}, key=limited)
    assert r.status_code == 403
    assert _error(r)["code"] == "pre_consume_token_quota_failed"
    expired = await relay_env.gateway.add_key(relay_env.user, name="old", expired_time=4_000_000_000)
    async with relay_env.gateway.state.dbs.main.begin() as conn:
        await conn.execute(update(tokens).where(tokens.c.key == expired.removeprefix("sk-")).values(expired_time=1))
    r = await _chat(relay_env, {"model": "gpt-4o-mini", "messages": HELLO}, key=expired)
    assert r.status_code == 401


async def test_wallet_too_small_is_403(relay_env: RelayEnv) -> None:
    poor = await relay_env.gateway.add_user("poor", quota=10)
    key = await relay_env.gateway.add_key(poor)
    r = await _chat(relay_env, {"model": "gpt-4o", "messages": HELLO, "max_tokens": 1000}, key=key)
    assert r.status_code == 403
    assert _error(r)["code"] == "insufficient_user_quota"
    await poor.client.aclose()


async def test_model_allow_list_and_ip_allow_list(relay_env: RelayEnv) -> None:
    only_4o = await relay_env.gateway.add_key(
        relay_env.user, name="only4o", model_limits_enabled=True, model_limits="gpt-4o"
    )
    r = await _chat(relay_env, {"model": "gpt-4o-mini", "messages": HELLO}, key=only_4o)
    assert r.status_code == 403
    assert (await _chat(relay_env, {"model": "gpt-4o", "messages": HELLO}, key=only_4o)).status_code == 200
    elsewhere = await relay_env.gateway.add_key(relay_env.user, name="ipkey", allow_ips="10.0.0.0/8")
    assert (await _chat(relay_env, {"model": "gpt-4o", "messages": HELLO}, key=elsewhere)).status_code == 403
    local = await relay_env.gateway.add_key(relay_env.user, name="localkey", allow_ips="127.0.0.1/32")
    assert (await _chat(relay_env, {"model": "gpt-4o", "messages": HELLO}, key=local)).status_code == 200


async def test_channel_pin_is_for_admins_only(relay_env: RelayEnv) -> None:
    r = await _chat(
        relay_env, {"model": "gpt-4o-mini", "messages": HELLO}, key=f"{relay_env.key}-{relay_env.channel_id}"
    )
    assert r.status_code == 403
    root_key = await relay_env.gateway.add_key(relay_env.gateway.root, name="rootkey")
    ok = await _chat(relay_env, {"model": "gpt-4o-mini", "messages": HELLO}, key=f"{root_key}-{relay_env.channel_id}")
    assert ok.status_code == 200, ok.text
