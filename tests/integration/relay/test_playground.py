"""The console playground bills the logged-in user's wallet, not a key."""

from __future__ import annotations

from tests.integration.relay.conftest import RelayEnv


async def test_playground_uses_the_session_and_bills_the_wallet(relay_env: RelayEnv) -> None:
    before = await relay_env.user_quota()
    r = await relay_env.user.post(
        "/pg/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"]
    await relay_env.gateway.settle()
    logs = (await relay_env.user.get("/api/log/self", params={"type": 2})).json()["data"]["items"]
    assert len(logs) == 1 and logs[0]["token_name"] == "playground"
    assert await relay_env.user_quota() == before - logs[0]["quota"]


async def test_playground_refuses_without_session_or_header(relay_env: RelayEnv) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    anonymous = await relay_env.gateway.client.post("/pg/chat/completions", json=body)
    assert anonymous.status_code == 401
    no_header = await relay_env.user.client.post("/pg/chat/completions", json=body)
    assert no_header.status_code == 401
