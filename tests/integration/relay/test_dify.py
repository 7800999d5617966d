"""Dify channels (type 37) end to end: the official openai SDK against the gateway, the mock provider speaking
Dify's chat-messages, completion-messages and workflows/run streams — what the client got, what Dify received,
what was billed."""

from __future__ import annotations

from typing import Any

import openai
import orjson
import pytest
from sqlalchemy import select

from clinx.store.tables import logs
from tests.integration.relay.conftest import RelayEnv
from tests.support.mock_openai_payloads import reply_text

REPLY = reply_text(20)  # what the mock's Dify app answers (20 words)
MODELS = {"dify-chat": "", "dify-workflow": "workflow", "dify-completion": "completion"}


async def _consume_logs(env: RelayEnv) -> list[dict[str, Any]]:
    await env.gateway.settle()
    async with env.gateway.state.dbs.logs.connect() as conn:
        rows = (await conn.execute(select(logs).where(logs.c.type == 2).order_by(logs.c.id))).mappings().all()
    return [dict(r) for r in rows]


@pytest.fixture
async def dify(relay_env: RelayEnv) -> RelayEnv:
    await relay_env.gateway.set_option("ModelRatio", orjson.dumps(dict.fromkeys(MODELS, 1)).decode())
    for model, kind in MODELS.items():
        await relay_env.gateway.add_channel(
            model, relay_env.mock.base_url + "/v1", model, type=37, key=f"app-{model}", other=kind
        )
    return relay_env


async def _stream(env: RelayEnv, model: str, content: str) -> tuple[str, str, list[Any]]:
    stream = await env.sdk().chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": content}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, reasoning, usages = "", "", []
    async for chunk in stream:
        if chunk.usage is not None:
            usages.append(chunk.usage)
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            reasoning += str((chunk.choices[0].delta.model_extra or {}).get("reasoning_content") or "")
    return text, reasoning, usages


async def test_stream_over_a_chatflow_app(dify: RelayEnv) -> None:
    text, reasoning, usages = await _stream(dify, "dify-chat", "hello there")
    assert text == REPLY
    assert reasoning == "Workflow: wf-mock\nNode: llm\nNode: llm succeeded\nWorkflow: wf-mock succeeded\n"
    assert len(usages) == 1 and (usages[0].prompt_tokens, usages[0].completion_tokens) == (12, 20)
    sent = dify.mock.last
    assert sent.path == "/v1/chat-messages"
    assert sent.headers["authorization"] == "Bearer app-dify-chat"
    assert sent.json["query"] == "hello there" and sent.json["inputs"] == {"query": "hello there"}
    assert sent.json["user"] == "clinx" and sent.json["response_mode"] == "streaming"
    rows = await _consume_logs(dify)
    assert (rows[0]["prompt_tokens"], rows[0]["completion_tokens"]) == (12, 20)
    assert rows[0]["model_name"] == "dify-chat"
    assert orjson.loads(str(rows[0]["other"]))["stream_status"] == "ok"


async def test_stream_over_a_workflow_app(dify: RelayEnv) -> None:
    text, _, usages = await _stream(dify, "dify-workflow", "translate this")
    assert text == REPLY and usages[0].completion_tokens == 20
    sent = dify.mock.last
    assert sent.path == "/v1/workflows/run" and sent.json["inputs"]["query"] == "translate this"
    rows = await _consume_logs(dify)
    assert (rows[0]["prompt_tokens"], rows[0]["completion_tokens"]) == (12, 20)


async def test_stream_over_an_agent_app_passes_the_user_and_conversation(dify: RelayEnv) -> None:
    stream = await dify.sdk().chat.completions.create(
        model="dify-chat",
        messages=[{"role": "user", "content": "mock-dify-agent weather?"}],
        stream=True,
        user="alice-1",
        extra_body={"conversation_id": "conv-9"},
    )
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
    assert text == REPLY
    sent = dify.mock.last.json
    assert sent["user"] == "alice-1" and sent["conversation_id"] == "conv-9"


async def test_non_stream_client_gets_the_gathered_answer(dify: RelayEnv) -> None:
    reply = await dify.sdk().chat.completions.create(
        model="dify-chat",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "mock-dify-agent hi"},
        ],
    )
    assert reply.choices[0].message.content == REPLY and reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens == 20
    assert (reply.model_extra or {}).get("conversation_id", "").startswith("conv-")
    sent = dify.mock.last.json
    assert sent["response_mode"] == "streaming"  # agents cannot answer in blocking mode
    assert sent["query"] == "SYSTEM: Be brief.\n\nUSER: mock-dify-agent hi"
    rows = await _consume_logs(dify)
    assert rows[0]["completion_tokens"] == 20 and rows[0]["prompt_tokens"] == reply.usage.prompt_tokens


async def test_non_stream_over_a_completion_app(dify: RelayEnv) -> None:
    reply = await dify.sdk().chat.completions.create(
        model="dify-completion", messages=[{"role": "user", "content": "write"}]
    )
    assert reply.choices[0].message.content == REPLY
    sent = dify.mock.last
    assert sent.path == "/v1/completion-messages" and sent.json["inputs"]["query"] == "write"


async def test_dify_error_event_reaches_the_client(dify: RelayEnv) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        await dify.sdk().chat.completions.create(
            model="dify-chat", messages=[{"role": "user", "content": "mock-dify-error"}]
        )
    assert "mock failure mid-stream" in err.value.message
    stream = await dify.sdk().chat.completions.create(
        model="dify-chat", messages=[{"role": "user", "content": "mock-dify-error"}], stream=True
    )
    with pytest.raises(openai.APIError, match="mock failure mid-stream"):
        async for _ in stream:
            pass
