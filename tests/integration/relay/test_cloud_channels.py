"""AWS Bedrock (type 33) and Vertex AI (type 41) channels end to end: the official SDKs against the gateway, the
mock provider verifying SigV4 signatures, JWT assertions and bearer tokens as AWS and Google would."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import orjson
import pytest

from tests.integration.relay.conftest import HELLO, RATIOS, RelayEnv
from tests.support.mock_cloud import (
    AWS_ACCESS_KEY,
    AWS_SECRET_KEY,
    BEDROCK_API_KEY,
    SERVICE_ACCOUNT_EMAIL,
    VERTEX_API_KEY,
    access_token,
    service_account,
)

BEDROCK_MODEL = "claude-3-5-sonnet-20240620"
BEDROCK_PATH = "/model/us.anthropic.claude-3-5-sonnet-20240620-v1:0"
VERTEX_CLAUDE = "claude-sonnet-4-20250514"
VERTEX_PREFIX = "/v1/projects/mock-project/locations/us-east5/publishers"


def _claude(env: RelayEnv) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=env.gateway.base_url, api_key=env.key, max_retries=0)


async def _logs(env: RelayEnv) -> list[dict[str, Any]]:
    await env.gateway.settle()
    items: list[dict[str, Any]] = (await env.gateway.root.get("/api/log/", params={"type": 2})).json()["data"]["items"]
    return items


async def _ratios(env: RelayEnv, *models: str) -> None:
    await env.gateway.set_option("ModelRatio", orjson.dumps({**RATIOS, **dict.fromkeys(models, 1.0)}).decode())


def _token_requests(env: RelayEnv) -> int:
    return sum(1 for rec in env.mock.received if rec.path == "/token")


@pytest.fixture
async def bedrock(relay_env: RelayEnv) -> int:
    await _ratios(relay_env, BEDROCK_MODEL)
    key = f"{AWS_ACCESS_KEY}|{AWS_SECRET_KEY}|us-east-1"
    return await relay_env.gateway.add_channel("bedrock", relay_env.mock.base_url, BEDROCK_MODEL, type=33, key=key)


@pytest.fixture
async def vertex(relay_env: RelayEnv) -> int:
    await _ratios(relay_env, "gemini-2.0-flash", VERTEX_CLAUDE)
    return await relay_env.gateway.add_channel(
        "vertex",
        relay_env.mock.base_url,
        f"gemini-2.0-flash,{VERTEX_CLAUDE}",
        type=41,
        key=service_account(relay_env.mock.base_url + "/token"),
        other="us-east5",
    )


# AWS Bedrock


async def test_bedrock_chat_is_signed_with_sigv4(relay_env: RelayEnv, bedrock: int) -> None:
    reply = await relay_env.sdk().chat.completions.create(model=BEDROCK_MODEL, messages=HELLO, max_tokens=50)
    assert reply.choices[0].message.content and reply.usage is not None and reply.usage.completion_tokens == 20
    sent = relay_env.mock.last
    assert sent.path == BEDROCK_PATH + "/invoke"
    assert sent.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY}/")
    assert sent.json["anthropic_version"] == "bedrock-2023-05-31" and sent.json["max_tokens"] == 50
    assert "model" not in sent.json and "stream" not in sent.json
    assert (await _logs(relay_env))[0]["completion_tokens"] == 20


async def test_bedrock_event_stream_reaches_an_openai_client(relay_env: RelayEnv, bedrock: int) -> None:
    stream = await relay_env.sdk().chat.completions.create(
        model=BEDROCK_MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        usage = chunk.usage or usage
    assert text and usage is not None and usage.completion_tokens == 20
    assert relay_env.mock.last.path == BEDROCK_PATH + "/invoke-with-response-stream"
    row = (await _logs(relay_env))[0]
    assert row["completion_tokens"] == 20 and row["prompt_tokens"] == usage.prompt_tokens


async def test_bedrock_stream_to_a_claude_client_carries_anthropic_beta(relay_env: RelayEnv, bedrock: int) -> None:
    async with _claude(relay_env).messages.stream(
        model=BEDROCK_MODEL,
        max_tokens=64,
        messages=[{"role": "user", "content": "hello"}],
        extra_headers={"anthropic-beta": "output-128k-2025-02-19"},
    ) as stream:
        text = "".join([piece async for piece in stream.text_stream])
        final = await stream.get_final_message()
    assert text and final.stop_reason == "end_turn" and final.usage.output_tokens == 20
    sent = relay_env.mock.last
    assert sent.json["anthropic_beta"] == ["output-128k-2025-02-19"] and "anthropic-beta" not in sent.headers


async def test_bedrock_api_key_is_a_bearer_token(relay_env: RelayEnv) -> None:
    await _ratios(relay_env, BEDROCK_MODEL)
    key = f"{BEDROCK_API_KEY}|us-east-1"
    await relay_env.gateway.add_channel("bedrock-key", relay_env.mock.base_url, BEDROCK_MODEL, type=33, key=key)
    reply = await relay_env.sdk().chat.completions.create(model=BEDROCK_MODEL, messages=HELLO)
    assert reply.choices[0].message.content
    assert relay_env.mock.last.headers["authorization"] == f"Bearer {BEDROCK_API_KEY}"


async def test_bedrock_wrong_secret_is_refused_by_the_signature_check(relay_env: RelayEnv) -> None:
    await _ratios(relay_env, BEDROCK_MODEL)
    key = f"{AWS_ACCESS_KEY}|not-the-secret|us-east-1"
    await relay_env.gateway.add_channel("bedrock-bad", relay_env.mock.base_url, BEDROCK_MODEL, type=33, key=key)
    with pytest.raises(openai.APIStatusError) as caught:
        await relay_env.sdk().chat.completions.create(model=BEDROCK_MODEL, messages=HELLO)
    assert caught.value.status_code == 403


# Vertex AI


async def test_vertex_gemini_with_a_service_account_token(relay_env: RelayEnv, vertex: int) -> None:
    reply = await relay_env.sdk().chat.completions.create(model="gemini-2.0-flash", messages=HELLO)
    assert reply.choices[0].message.content
    sent = relay_env.mock.last
    assert sent.path == VERTEX_PREFIX + "/google/models/gemini-2.0-flash:generateContent"
    assert sent.headers["authorization"] == "Bearer " + access_token(SERVICE_ACCOUNT_EMAIL)
    stream = await relay_env.sdk().chat.completions.create(model="gemini-2.0-flash", messages=HELLO, stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert relay_env.mock.last.query.get("alt") == "sse"
    assert _token_requests(relay_env) == 1  # the second call used the cached token
    assert len(await _logs(relay_env)) == 2


async def test_vertex_claude_through_raw_predict(relay_env: RelayEnv, vertex: int) -> None:
    message = await _claude(relay_env).messages.create(
        model=VERTEX_CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "hello"}]
    )
    assert message.content[0].type == "text" and message.usage.output_tokens == 20
    sent = relay_env.mock.last
    assert sent.path == VERTEX_PREFIX + "/anthropic/models/claude-sonnet-4@20250514:rawPredict"
    assert sent.json["anthropic_version"] == "vertex-2023-10-16" and "model" not in sent.json
    async with _claude(relay_env).messages.stream(
        model=VERTEX_CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "hello"}]
    ) as stream:
        assert "".join([piece async for piece in stream.text_stream])
    assert relay_env.mock.last.path.endswith(":streamRawPredict")


async def test_openai_client_reaches_claude_on_vertex(relay_env: RelayEnv, vertex: int) -> None:
    reply = await relay_env.sdk().chat.completions.create(model=VERTEX_CLAUDE, messages=HELLO, max_tokens=40)
    assert reply.choices[0].message.content
    sent = relay_env.mock.last
    assert "/publishers/anthropic/" in sent.path and sent.json["max_tokens"] == 40


async def test_claude_client_reaches_gemini_on_vertex(relay_env: RelayEnv, vertex: int) -> None:
    # The dialect follows the model (dialect_for_model), not the client: a Claude client asking for a Gemini model
    # must get the Gemini request on Google's publisher path.
    message = await _claude(relay_env).messages.create(
        model="gemini-2.0-flash", max_tokens=64, messages=[{"role": "user", "content": "hello"}]
    )
    assert message.content[0].type == "text"
    assert relay_env.mock.last.path == VERTEX_PREFIX + "/google/models/gemini-2.0-flash:generateContent"


async def test_vertex_express_mode_api_key(relay_env: RelayEnv) -> None:
    await _ratios(relay_env, "gemini-2.0-flash")
    await relay_env.gateway.add_channel(
        "vertex-express", relay_env.mock.base_url, "gemini-2.0-flash", type=41, key=VERTEX_API_KEY
    )
    reply = await relay_env.sdk().chat.completions.create(model="gemini-2.0-flash", messages=HELLO)
    assert reply.choices[0].message.content
    sent = relay_env.mock.last
    assert sent.path == "/v1/publishers/google/models/gemini-2.0-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == VERTEX_API_KEY and _token_requests(relay_env) == 0


async def test_vertex_pretty_printed_service_account_key(relay_env: RelayEnv) -> None:
    # Key files are pasted as Google issues them, over many lines: the channel must read them as one key.
    await _ratios(relay_env, "gemini-2.0-flash")
    key = service_account(relay_env.mock.base_url + "/token", pretty=True)
    await relay_env.gateway.add_channel("vertex-pretty", relay_env.mock.base_url, "gemini-2.0-flash", type=41, key=key)
    reply = await relay_env.sdk().chat.completions.create(model="gemini-2.0-flash", messages=HELLO)
    assert reply.choices[0].message.content and _token_requests(relay_env) == 1
