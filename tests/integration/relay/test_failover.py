"""Routing across channels: priority tiers, failover on retryable errors, auto-disable."""

from __future__ import annotations

import orjson

from tests.integration.relay.conftest import HELLO, RelayEnv
from tests.support.mock_provider import MockProvider


async def _channel_logs(env: RelayEnv) -> list[dict[str, object]]:
    await env.gateway.settle()
    items: list[dict[str, object]] = (await env.gateway.root.get("/api/log/", params={"type": 2})).json()["data"][
        "items"
    ]
    return items


async def test_higher_priority_channel_is_used_first(relay_env: RelayEnv) -> None:
    async with MockProvider() as preferred:
        high = await relay_env.gateway.add_channel("high", preferred.base_url, "gpt-4o-mini", priority=10)
        await relay_env.sdk().chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert len(preferred.received) == 1 and relay_env.mock.received == []
        logs = await _channel_logs(relay_env)
        assert logs[0]["channel"] == high


async def test_failover_to_next_tier_on_500(relay_env: RelayEnv) -> None:
    await relay_env.gateway.set_option("RetryTimes", "1")
    async with MockProvider() as flaky:
        flaky.fail_next = [500]
        high = await relay_env.gateway.add_channel("flaky", flaky.base_url, "gpt-4o-mini", priority=10)
        reply = await relay_env.sdk().chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert reply.choices[0].message.content
        assert len(flaky.received) == 1 and len(relay_env.mock.received) == 1
    logs = await _channel_logs(relay_env)
    assert len(logs) == 1 and logs[0]["channel"] == relay_env.channel_id
    other = orjson.loads(str(logs[0]["other"]))
    assert other["admin_info"]["use_channel"] == [high, relay_env.channel_id]


async def test_no_retry_without_retry_times_and_refund(relay_env: RelayEnv) -> None:
    before = await relay_env.user_quota()
    async with MockProvider() as flaky:
        flaky.fail_next = [500]
        await relay_env.gateway.add_channel("flaky", flaky.base_url, "gpt-4o-mini", priority=10)
        r = await relay_env.gateway.client.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": HELLO},
            headers={"Authorization": f"Bearer {relay_env.key}"},
        )
        assert r.status_code == 500
        assert relay_env.mock.received == []
    await relay_env.gateway.settle()
    assert await relay_env.user_quota() == before


async def test_400_is_never_retried(relay_env: RelayEnv) -> None:
    await relay_env.gateway.set_option("RetryTimes", "3")
    async with MockProvider() as picky:
        picky.fail_next = [400]
        await relay_env.gateway.add_channel("picky", picky.base_url, "gpt-4o-mini", priority=10)
        r = await relay_env.gateway.client.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": HELLO},
            headers={"Authorization": f"Bearer {relay_env.key}"},
        )
        assert r.status_code == 400
        assert relay_env.mock.received == []


async def test_channel_auto_disabled_on_401(relay_env: RelayEnv) -> None:
    await relay_env.gateway.set_option("AutomaticDisableChannelEnabled", "true")
    r = await relay_env.gateway.client.post(
        "/v1/chat/completions",
        json={"model": "mock-error-401", "messages": HELLO},
        headers={"Authorization": f"Bearer {relay_env.key}"},
    )
    assert r.status_code == 401
    await relay_env.gateway.settle()
    channel = (await relay_env.gateway.root.get(f"/api/channel/{relay_env.channel_id}")).json()["data"]
    assert channel["status"] == 3
    again = await relay_env.gateway.client.post(
        "/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": HELLO},
        headers={"Authorization": f"Bearer {relay_env.key}"},
    )
    assert again.status_code == 503
