"""Channel types that shape the upstream URL: Azure deployments, Custom full URLs; spend counters."""

from __future__ import annotations

from tests.integration.relay.conftest import HELLO, RelayEnv


async def test_azure_channel_uses_deployment_url_and_api_key(relay_env: RelayEnv) -> None:
    await relay_env.gateway.add_channel(
        "azure", relay_env.mock.base_url, "gpt-4o", type=3, other="2024-10-21", key="azure-secret", priority=5
    )
    reply = await relay_env.sdk().chat.completions.create(model="gpt-4o", messages=HELLO)
    assert reply.choices[0].message.content
    sent = relay_env.mock.last
    assert sent.path == "/openai/deployments/gpt-4o/chat/completions"
    assert sent.query["api-version"] == "2024-10-21"
    assert sent.headers["api-key"] == "azure-secret" and "authorization" not in sent.headers


async def test_custom_channel_uses_full_url_with_model(relay_env: RelayEnv) -> None:
    url = relay_env.mock.base_url + "/v1/chat/completions?m={model}"
    await relay_env.gateway.add_channel("custom", url, "gpt-4o", type=8, priority=5)
    await relay_env.sdk().chat.completions.create(model="gpt-4o", messages=HELLO)
    sent = relay_env.mock.last
    assert sent.path == "/v1/chat/completions" and sent.query["m"] == "gpt-4o"


async def test_spend_counters_and_dashboard_bucket(relay_env: RelayEnv) -> None:
    await relay_env.sdk().chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    await relay_env.sdk().chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    await relay_env.gateway.settle()
    logs = (await relay_env.gateway.root.get("/api/log/", params={"type": 2})).json()["data"]["items"]
    spent = sum(row["quota"] for row in logs)
    me = (await relay_env.user.get("/api/user/self")).json()["data"]
    assert me["used_quota"] == spent and me["request_count"] == 2
    channel = (await relay_env.gateway.root.get(f"/api/channel/{relay_env.channel_id}")).json()["data"]
    assert channel["used_quota"] == spent
    tokens = (await relay_env.user.get("/api/token/")).json()["data"]["items"]
    assert tokens[0]["used_quota"] == spent
    buckets = (await relay_env.user.get("/api/data/self")).json()["data"]
    assert len(buckets) == 1 and buckets[0]["count"] == 2 and buckets[0]["quota"] == spent


async def test_overhead_header_on_answers_rewritten_by_the_gateway(relay_env: RelayEnv) -> None:
    channel = (await relay_env.gateway.root.get(f"/api/channel/{relay_env.channel_id}")).json()["data"]
    channel["setting"] = '{"thinking_to_content": true}'
    assert (await relay_env.gateway.root.put("/api/channel/", json=channel)).json()["success"]
    raw = await relay_env.sdk().chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HELLO)
    overhead = float(raw.headers["x-clinx-overhead-duration-ms"])
    assert 0 <= overhead < 1000
    assert raw.parse().choices[0].message.content
