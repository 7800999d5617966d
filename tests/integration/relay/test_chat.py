"""Chat completions through the gateway with the official openai SDK: answer, upstream request, billing, log."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select

from clinx.store.tables import logs
from tests.integration.relay.conftest import RelayEnv


async def _consume_logs(env: RelayEnv) -> list[dict[str, Any]]:
    await env.gateway.settle()
    async with env.gateway.state.dbs.logs.connect() as conn:
        rows = (await conn.execute(select(logs).where(logs.c.type == 2).order_by(logs.c.id))).mappings().all()
    return [dict(r) for r in rows]


async def test_non_stream_chat_is_answered_and_billed_exactly(relay_env: RelayEnv) -> None:
    before = await relay_env.user_quota()
    reply = await relay_env.sdk().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "say hello to the world"}]
    )
    assert reply.choices[0].message.content
    usage = reply.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    sent = relay_env.mock.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-upstream-mock-main"
    assert sent.json["model"] == "gpt-4o-mini"
    # gpt-4o-mini: ratio 0.075, completion ratio 4 (built in)
    expected = round((usage.prompt_tokens + usage.completion_tokens * 4) * 0.075) or 1
    rows = await _consume_logs(relay_env)
    assert len(rows) == 1
    row = rows[0]
    assert row["quota"] == expected
    assert row["prompt_tokens"] == usage.prompt_tokens and row["completion_tokens"] == usage.completion_tokens
    assert row["model_name"] == "gpt-4o-mini" and row["channel_id"] == relay_env.channel_id
    assert row["is_stream"] is False or row["is_stream"] == 0
    other = orjson.loads(str(row["other"]))
    assert other["model_ratio"] == 0.075 and other["completion_ratio"] == 4
    assert await relay_env.user_quota() == before - expected


async def test_stream_chat_passes_chunks_and_bills_from_provider_usage(relay_env: RelayEnv) -> None:
    stream = await relay_env.sdk().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi there"}], stream=True
    )
    text = ""
    chunks = 0
    async for chunk in stream:
        chunks += 1
        assert chunk.usage is None  # the client did not ask for usage: the usage chunk is not forwarded
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    assert chunks >= 20 and text
    assert relay_env.mock.last.json["stream_options"] == {"include_usage": True}
    rows = await _consume_logs(relay_env)
    other = orjson.loads(str(rows[0]["other"]))
    assert other["stream_status"] == "ok"
    assert "local_count_tokens" not in other["admin_info"]
    assert rows[0]["completion_tokens"] == 20


async def test_stream_usage_forwarded_when_client_asks(relay_env: RelayEnv) -> None:
    stream = await relay_env.sdk().chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    usages = [chunk.usage async for chunk in stream if chunk.usage is not None]
    assert len(usages) == 1 and usages[0].completion_tokens == 20


async def test_cut_stream_is_billed_for_what_was_delivered(relay_env: RelayEnv) -> None:
    stream = await relay_env.sdk().chat.completions.create(
        model="mock-cut", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    received = ""
    try:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received += chunk.choices[0].delta.content
    except Exception:  # the SDK may raise on the truncated body; what matters is the bill
        pass
    rows = await _consume_logs(relay_env)
    assert len(rows) == 1
    other = orjson.loads(str(rows[0]["other"]))
    assert other["stream_status"] == "upstream_cut"
    assert other["admin_info"]["local_count_tokens"] is True
    assert 0 < rows[0]["completion_tokens"] < 20
    assert int(rows[0]["quota"]) > 0


async def test_missing_usage_is_counted_locally(relay_env: RelayEnv) -> None:
    reply = await relay_env.sdk().chat.completions.create(
        model="mock-nousage", messages=[{"role": "user", "content": "count me"}]
    )
    assert reply.choices[0].message.content
    rows = await _consume_logs(relay_env)
    assert rows[0]["prompt_tokens"] and rows[0]["completion_tokens"]
    assert orjson.loads(str(rows[0]["other"]))["admin_info"]["local_count_tokens"] is True
