"""Channel health through the management API against the mock provider: single and all-channel tests (latency,
log without charge, auto-disable, auto-enable) and provider balance queries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from clinx.api.channel_health_routes import channel_test_runner
from clinx.core.enums import ChannelStatus, ChannelType
from clinx.core.errors import UpstreamError, ValidationError
from clinx.core.types import ChannelInfo
from clinx.routing import balance as balances
from clinx.routing import channel_test as probe
from clinx.store.repos import channels as channels_repo
from clinx.store.rows import Row
from clinx.store.tables import logs
from tests.integration.relay.conftest import RelayEnv


async def _channel(env: RelayEnv, channel_id: int) -> Row:
    row = await channels_repo.get(env.gateway.state.dbs.main, channel_id)
    assert row is not None
    return row


async def _test_logs(env: RelayEnv) -> list[dict[str, Any]]:
    query = select(logs).where(logs.c.type == 2, logs.c.token_name == probe.TEST_TOKEN_NAME).order_by(logs.c.id)
    async with env.gateway.state.dbs.logs.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings().all()]


async def _quota(session: Any) -> int:
    return int((await session.get("/api/user/self")).json()["data"]["quota"])


def _routes(env: RelayEnv, model: str = "gpt-4o-mini") -> list[int]:
    return [c.id for tier in env.gateway.state.index.current.tiers("default", model) for c in tier]


async def test_success_records_latency_and_logs_the_cost_without_charging(relay_env: RelayEnv) -> None:
    gw = relay_env.gateway
    root_before, alice_before = await _quota(gw.root), await relay_env.user_quota()
    r = await gw.root.get(f"/api/channel/test/{relay_env.channel_id}")
    body = r.json()
    assert r.status_code == 200 and body["success"] is True and body["message"] == ""
    assert isinstance(body["time"], float) and body["time"] >= 0
    sent = relay_env.mock.last
    assert sent.path == "/v1/chat/completions"
    assert sent.json == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 16}
    row = await _channel(relay_env, relay_env.channel_id)
    assert row["test_time"] and row["test_time"] > 1_700_000_000
    assert row["response_time"] is not None and row["response_time"] >= 0
    [entry] = await _test_logs(relay_env)
    assert entry["user_id"] == gw.root.user_id and entry["channel_id"] == relay_env.channel_id
    assert entry["model_name"] == "gpt-4o-mini" and entry["content"] == "模型测试"
    # gpt-4o-mini: ratio 0.075 and completion ratio 4, as the relay bills it
    expected = round((entry["prompt_tokens"] + entry["completion_tokens"] * 4) * 0.075) or 1
    assert entry["completion_tokens"] > 0 and entry["quota"] == expected
    assert orjson.loads(entry["other"])["model_ratio"] == 0.075
    assert await _quota(gw.root) == root_before and await relay_env.user_quota() == alice_before


async def test_model_choice_mapping_and_embeddings(relay_env: RelayEnv) -> None:
    gw = relay_env.gateway
    mapping = orjson.dumps({"gpt-4o": "gpt-4o-mini"}).decode()
    channel_id = await gw.add_channel("mapped", relay_env.mock.base_url, "gpt-4o,o3-mini", model_mapping=mapping)
    assert (await gw.root.get(f"/api/channel/test/{channel_id}")).json()["success"] is True
    assert relay_env.mock.last.json["model"] == "gpt-4o-mini"  # first model, mapped for the upstream
    assert [e["model_name"] for e in await _test_logs(relay_env)] == ["gpt-4o"]  # the origin name is logged
    await gw.root.get(f"/api/channel/test/{channel_id}", params={"model": "o3-mini"})
    assert relay_env.mock.last.json["max_completion_tokens"] == 16 and "max_tokens" not in relay_env.mock.last.json
    r = await gw.root.get(f"/api/channel/test/{relay_env.channel_id}", params={"model": "text-embedding-3-small"})
    assert r.json()["success"] is True
    assert relay_env.mock.last.path == "/v1/embeddings" and relay_env.mock.last.json["input"] == "hello world"


async def test_failure_answer_shape_and_unknown_channel(relay_env: RelayEnv) -> None:
    gw = relay_env.gateway
    r = await gw.root.get(f"/api/channel/test/{relay_env.channel_id}", params={"model": "mock-error-500"})
    body = r.json()
    assert r.status_code == 200 and body["success"] is False
    assert body["message"] and "request id" not in body["message"]
    assert isinstance(body["time"], float) and isinstance(body["error_code"], str) and body["error_code"]
    assert await _test_logs(relay_env) == []  # nothing answered, nothing logged
    assert (await _channel(relay_env, relay_env.channel_id))["test_time"]  # the attempt is still timed
    missing = (await gw.root.get("/api/channel/test/999999")).json()
    assert missing["success"] is False and "渠道不存在" in missing["message"]


async def test_401_disables_only_when_automatic_disable_is_on(relay_env: RelayEnv) -> None:
    gw = relay_env.gateway
    url = f"/api/channel/test/{relay_env.channel_id}"
    assert (await gw.root.get(url, params={"model": "mock-error-401"})).json()["success"] is False
    assert (await _channel(relay_env, relay_env.channel_id))["status"] == ChannelStatus.ENABLED
    await gw.set_option("AutomaticDisableChannelEnabled", "true")
    assert (await gw.root.get(url, params={"model": "mock-error-401"})).json()["success"] is False
    row = await _channel(relay_env, relay_env.channel_id)
    assert row["status"] == ChannelStatus.AUTO_DISABLED
    assert relay_env.channel_id not in _routes(relay_env)


async def test_clean_test_re_enables_an_auto_disabled_channel(relay_env: RelayEnv) -> None:
    gw = relay_env.gateway
    state = gw.state
    await channels_repo.auto_disable(state.dbs.main, relay_env.channel_id, "test", state.clock.now())
    await state.index.reload(state.dbs.main)
    url = f"/api/channel/test/{relay_env.channel_id}"
    assert (await gw.root.get(url)).json()["success"] is True
    assert (await _channel(relay_env, relay_env.channel_id))["status"] == ChannelStatus.AUTO_DISABLED  # option off
    await gw.set_option("AutomaticEnableChannelEnabled", "true")
    assert (await gw.root.get(url)).json()["success"] is True
    assert (await _channel(relay_env, relay_env.channel_id))["status"] == ChannelStatus.ENABLED
    assert relay_env.channel_id in _routes(relay_env)
    # A channel switched off by hand stays off.
    manual = await gw.add_channel("manual", relay_env.mock.base_url, "gpt-4o-mini", status=2)
    assert (await gw.root.get(f"/api/channel/test/{manual}")).json()["success"] is True
    assert (await _channel(relay_env, manual))["status"] == ChannelStatus.MANUALLY_DISABLED


async def test_test_all_runs_once_at_a_time_and_disables_failing_and_slow_channels(relay_env: RelayEnv) -> None:
    gw = relay_env.gateway
    relay_env.mock.slow_seconds = 1.0
    await gw.set_option("AutomaticDisableChannelEnabled", "true")
    await gw.set_option("ChannelDisableThreshold", "0.5")
    broken = await gw.add_channel("broken", relay_env.mock.base_url, "gpt-4o-mini", test_model="mock-error-401")
    slow = await gw.add_channel("slow", relay_env.mock.base_url, "gpt-4o-mini", test_model="mock-slow")
    first = (await gw.root.get("/api/channel/test")).json()
    assert first == {"success": True, "message": ""}
    again = (await gw.root.get("/api/channel/test")).json()  # the slow channel keeps the first run busy
    assert again == {"success": False, "message": "测试已在运行中"}
    await channel_test_runner(gw.app).wait()
    statuses = {i: (await _channel(relay_env, i))["status"] for i in (relay_env.channel_id, broken, slow)}
    assert statuses == {
        relay_env.channel_id: ChannelStatus.ENABLED,
        broken: ChannelStatus.AUTO_DISABLED,
        slow: ChannelStatus.AUTO_DISABLED,
    }
    assert (await _channel(relay_env, slow))["response_time"] >= 1000
    assert _routes(relay_env) == [relay_env.channel_id]
    # Once finished, a new run may start.
    assert (await gw.root.get("/api/channel/test")).json()["success"] is True
    await channel_test_runner(gw.app).wait()


async def test_balance_of_an_openai_channel_is_limit_minus_usage(relay_env: RelayEnv) -> None:
    gw = relay_env.gateway
    r = await gw.root.get(f"/api/channel/update_balance/{relay_env.channel_id}")
    assert r.json() == {"success": True, "message": "", "balance": 75.0}
    assert relay_env.mock.last.path == "/v1/dashboard/billing/usage"
    assert set(relay_env.mock.last.query) == {"start_date", "end_date"}
    row = await _channel(relay_env, relay_env.channel_id)
    assert row["balance"] == 75.0 and row["balance_updated_time"]


async def test_unsupported_type_and_upstream_refusal_are_business_failures(relay_env: RelayEnv) -> None:
    gw = relay_env.gateway
    claude = await gw.add_channel("claude", relay_env.mock.base_url, "claude-3-haiku", type=14)
    body = (await gw.root.get(f"/api/channel/update_balance/{claude}")).json()
    assert body["success"] is False and body["message"].startswith("尚未实现")
    relay_env.mock.fail_next.append(401)
    r = await gw.root.get(f"/api/channel/update_balance/{relay_env.channel_id}")
    assert r.status_code == 200 and r.json()["success"] is False and "401" in r.json()["message"]


async def test_balance_all_refreshes_enabled_channels_and_disables_exhausted_ones(relay_env: RelayEnv) -> None:
    gw = relay_env.gateway
    await gw.add_channel("claude", relay_env.mock.base_url, "claude-3-haiku", type=14)
    relay_env.mock.used_usd = 100.0
    assert (await gw.root.get("/api/channel/update_balance")).json() == {"success": True, "message": ""}
    row = await _channel(relay_env, relay_env.channel_id)
    assert row["balance"] == 0.0 and row["status"] == ChannelStatus.AUTO_DISABLED


# provider answers, read through an injected fetch


def _info(channel_type: int, base_url: str = "", key: str = "sk-x") -> ChannelInfo:
    return ChannelInfo(
        id=1, type=channel_type, name="c", key=key, base_url=base_url, group="default", priority=0, weight=0
    )


async def _read(channel: ChannelInfo, answers: Mapping[str, Any]) -> float:
    async def fetch(url: str, headers: Mapping[str, str]) -> Any:
        assert headers == {"Authorization": "Bearer sk-x"}
        return answers[url]

    return await balances.query_balance(channel, fetch, today=date(2025, 3, 15), cny_per_usd=8.0)


@pytest.mark.parametrize(
    ("channel", "answers", "expected"),
    [
        (
            _info(ChannelType.DEEPSEEK),
            {"https://api.deepseek.com/user/balance": {"balance_infos": [{"currency": "CNY", "total_balance": "80"}]}},
            10.0,
        ),
        (
            _info(ChannelType.DEEPSEEK),
            {"https://api.deepseek.com/user/balance": {"balance_infos": [{"currency": "USD", "total_balance": "3.5"}]}},
            3.5,
        ),
        (
            _info(ChannelType.SILICONFLOW),
            {"https://api.siliconflow.cn/v1/user/info": {"code": 20000, "data": {"totalBalance": "16.00"}}},
            2.0,
        ),
        (
            _info(ChannelType.OPENROUTER),
            {"https://openrouter.ai/api/v1/credits": {"data": {"total_credits": 100.5, "total_usage": 25.75}}},
            74.75,
        ),
        (
            _info(ChannelType.OPENAI, "https://reseller.example"),
            {
                "https://reseller.example/v1/dashboard/billing/subscription": {"hard_limit_usd": 20},
                "https://reseller.example/v1/dashboard/billing/usage?start_date=2024-12-05&end_date=2025-03-15": {
                    "total_usage": 550
                },
            },
            14.5,
        ),
    ],
)
async def test_provider_balance_answers(channel: ChannelInfo, answers: Mapping[str, Any], expected: float) -> None:
    assert await _read(channel, answers) == pytest.approx(expected)


async def test_balance_refusals() -> None:
    with pytest.raises(ValidationError, match="尚未实现"):
        await _read(_info(ChannelType.AZURE), {})
    with pytest.raises(ValidationError, match="多密钥"):
        await _read(_info(ChannelType.OPENAI, key="sk-a\nsk-b"), {})
    with pytest.raises(UpstreamError, match="totalBalance"):
        await _read(_info(ChannelType.SILICONFLOW), {"https://api.siliconflow.cn/v1/user/info": {"data": {}}})
