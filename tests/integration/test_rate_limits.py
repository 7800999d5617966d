"""Rate limits end to end: the per-IP global API, web and critical limits in front of the routes (New API's env
vars), and the per-user model request limit on the relay (options), through the official openai SDK."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.integration.relay import conftest as relay_fixtures
from tests.integration.relay.conftest import RelayEnv
from tests.support.app import ROOT_PASSWORD, running_app

# The relay suite's fixtures (its conftest only reaches tests/integration/relay/).
mock = relay_fixtures.mock
relay_env = relay_fixtures.relay_env

CHAT: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}]}


async def test_global_api_limit_refuses_with_the_envelope(sqlite_db: str) -> None:
    async with running_app(sqlite_db, GLOBAL_API_RATE_LIMIT="3") as app:
        for _ in range(3):
            r = await app.client.get("/api/status")
            assert r.status_code == 200 and r.json()["success"] is True
        r = await app.client.get("/api/status")
        assert r.status_code == 429
        body = r.json()
        assert body["success"] is False and "请求过于频繁" in body["message"]
        # The OpenAI-compatible billing routes share the API window and answer in OpenAI's shape.
        r = await app.client.get("/v1/dashboard/billing/subscription")
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "rate_limit_exceeded" and r.json()["error"]["type"] == "new_api_error"
        # Web pages have their own window.
        assert (await app.client.get("/swagger")).status_code == 200


async def test_global_api_limit_can_be_disabled(sqlite_db: str) -> None:
    async with running_app(sqlite_db, GLOBAL_API_RATE_LIMIT="1", GLOBAL_API_RATE_LIMIT_ENABLE="false") as app:
        assert all([(await app.client.get("/api/status")).status_code == 200 for _ in range(5)])


async def test_critical_limit_on_login(sqlite_db: str) -> None:
    async with running_app(sqlite_db, CRITICAL_RATE_LIMIT="2") as app:
        await app.setup_root()
        credentials = {"username": "root", "password": ROOT_PASSWORD}
        assert (await app.client.post("/api/user/login", json=credentials)).json()["success"] is True
        wrong = await app.client.post("/api/user/login", json={"username": "root", "password": "wrong-password"})
        assert wrong.status_code != 429 and wrong.json()["success"] is False  # a failed login counts too
        r = await app.client.post("/api/user/login", json=credentials)
        assert r.status_code == 429 and r.json()["success"] is False
        assert (await app.client.post("/api/user/register", json=credentials)).status_code == 429
        # Only the critical routes are closed to this address; the rest of the API answers.
        assert (await app.client.get("/api/status")).status_code == 200


async def test_global_web_limit_on_pages(sqlite_db: str) -> None:
    async with running_app(sqlite_db, GLOBAL_WEB_RATE_LIMIT="2") as app:
        for _ in range(2):
            assert (await app.client.get("/swagger")).status_code == 200
        r = await app.client.get("/swagger")
        assert r.status_code == 429 and "请求过于频繁" in r.text
        assert (await app.client.get("/swagger-assets/swagger-ui.css")).status_code == 200
        assert (await app.client.get("/api/status")).status_code == 200


async def _enable_model_limit(env: RelayEnv, **options: str) -> None:
    await env.gateway.set_option("ModelRequestRateLimitEnabled", "true")
    for key, value in options.items():
        await env.gateway.set_option(key, value)


async def test_model_request_total_limit(relay_env: RelayEnv) -> None:
    await _enable_model_limit(relay_env, ModelRequestRateLimitCount="2")
    client = relay_env.sdk()
    for _ in range(2):
        await client.chat.completions.create(model="gpt-4o-mini", **CHAT)
    sent = len(relay_env.mock.received)
    with pytest.raises(openai.RateLimitError) as refused:
        await client.chat.completions.create(model="gpt-4o-mini", **CHAT)
    error = refused.value.body
    assert isinstance(error, dict)
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "new_api_error"
    assert "您已达到总请求数限制：1分钟内最多请求2次，包括失败次数，请检查您的请求是否正确" in error["message"]
    assert len(relay_env.mock.received) == sent  # refused before any upstream call


async def test_model_request_total_limit_counts_failures(relay_env: RelayEnv) -> None:
    await _enable_model_limit(relay_env, ModelRequestRateLimitCount="2")
    client = relay_env.sdk()
    for _ in range(2):
        with pytest.raises(openai.APIStatusError) as failed:
            await client.chat.completions.create(model="mock-error-500", **CHAT)
        assert failed.value.status_code != 429
    with pytest.raises(openai.RateLimitError):
        await client.chat.completions.create(model="gpt-4o-mini", **CHAT)


async def test_model_request_success_limit_counts_only_successes(relay_env: RelayEnv) -> None:
    await _enable_model_limit(relay_env, ModelRequestRateLimitSuccessCount="2")
    client = relay_env.sdk()
    for _ in range(3):
        with pytest.raises(openai.APIStatusError) as failed:
            await client.chat.completions.create(model="mock-error-500", **CHAT)
        assert failed.value.status_code >= 500
    for _ in range(2):
        await client.chat.completions.create(model="gpt-4o-mini", **CHAT)
    with pytest.raises(openai.RateLimitError) as refused:
        await client.chat.completions.create(model="gpt-4o-mini", **CHAT)
    error = refused.value.body
    assert isinstance(error, dict) and "您已达到请求数限制：1分钟内最多请求2次" in error["message"]
    assert "总请求数" not in error["message"]


async def test_model_request_group_override(relay_env: RelayEnv) -> None:
    await _enable_model_limit(relay_env, ModelRequestRateLimitGroup='{"default": [1, 1000]}')
    client = relay_env.sdk()
    await client.chat.completions.create(model="gpt-4o-mini", **CHAT)
    with pytest.raises(openai.RateLimitError):
        await client.chat.completions.create(model="gpt-4o-mini", **CHAT)


async def test_model_request_limit_ignores_refused_keys(relay_env: RelayEnv) -> None:
    await _enable_model_limit(relay_env, ModelRequestRateLimitCount="1")
    for _ in range(2):
        with pytest.raises(openai.AuthenticationError):
            await relay_env.sdk("sk-notarealkey0000000000").chat.completions.create(model="gpt-4o-mini", **CHAT)
    client = relay_env.sdk()
    await client.chat.completions.create(model="gpt-4o-mini", **CHAT)
    with pytest.raises(openai.RateLimitError):
        await client.chat.completions.create(model="gpt-4o-mini", **CHAT)


async def test_model_request_limit_is_per_user(relay_env: RelayEnv) -> None:
    await _enable_model_limit(relay_env, ModelRequestRateLimitCount="1")
    await relay_env.sdk().chat.completions.create(model="gpt-4o-mini", **CHAT)
    bob = await relay_env.gateway.add_user("bob", quota=1_000_000)
    try:
        bob_key = await relay_env.gateway.add_key(bob)
        await relay_env.sdk(bob_key).chat.completions.create(model="gpt-4o-mini", **CHAT)
        # A second key of the same user shares that user's window.
        alice_second = await relay_env.gateway.add_key(relay_env.user, name="second")
        with pytest.raises(openai.RateLimitError):
            await relay_env.sdk(alice_second).chat.completions.create(model="gpt-4o-mini", **CHAT)
    finally:
        await bob.client.aclose()
