"""Every dialect in, every dialect out: the official anthropic and openai SDKs (and raw Gemini calls) against
the gateway, with channels speaking OpenAI, Claude and Gemini — asserting what the client got and what the
upstream received."""

from __future__ import annotations

from typing import Any, cast

import anthropic
import orjson
import pytest
from anthropic.types import MessageParam, ToolParam
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from tests.integration.relay.conftest import HELLO, RelayEnv

PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
WEATHER_TOOL: ToolParam = {
    "name": "get_weather",
    "description": "Weather of a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _claude(env: RelayEnv, key: str | None = None) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=env.gateway.base_url, api_key=key or env.key, max_retries=0)


async def _logs(env: RelayEnv) -> list[dict[str, Any]]:
    await env.gateway.settle()
    items: list[dict[str, Any]] = (await env.gateway.root.get("/api/log/", params={"type": 2})).json()["data"]["items"]
    return items


@pytest.fixture
async def claude_channel(relay_env: RelayEnv) -> int:
    await relay_env.gateway.set_option(
        "ModelRatio",
        orjson.dumps({"claude-sonnet-4": 1.5, "mock-tool": 1, "mock-cached": 1, "mock-thinking": 1}).decode(),
    )
    return await relay_env.gateway.add_channel(
        "claude",
        relay_env.mock.base_url,
        "claude-sonnet-4,mock-cached,mock-thinking",
        type=14,
        key="sk-ant-up",
        priority=5,
    )


@pytest.fixture
async def gemini_channel(relay_env: RelayEnv) -> int:
    await relay_env.gateway.set_option("ModelRatio", orjson.dumps({"gemini-2.0-flash": 0.05}).decode())
    return await relay_env.gateway.add_channel(
        "gemini", relay_env.mock.base_url, "gemini-2.0-flash", type=24, key="goog-up"
    )


# Anthropic SDK over an OpenAI channel


async def test_messages_over_openai_channel(relay_env: RelayEnv) -> None:
    message = await _claude(relay_env).messages.create(
        model="gpt-4o-mini", max_tokens=100, system="Be brief.", messages=[{"role": "user", "content": "hi there"}]
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "text" and message.content[0].text
    assert message.usage.output_tokens > 0
    sent = relay_env.mock.last
    assert sent.path == "/v1/chat/completions"
    assert sent.json["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent.json["max_tokens"] == 100
    logs = await _logs(relay_env)
    assert logs[0]["completion_tokens"] == message.usage.output_tokens


async def test_messages_stream_over_openai_channel(relay_env: RelayEnv) -> None:
    async with _claude(relay_env).messages.stream(
        model="gpt-4o-mini", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        text = "".join([chunk async for chunk in stream.text_stream])
        final = await stream.get_final_message()
    assert text and final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 20
    assert relay_env.mock.last.json["stream"] is True


async def test_messages_tool_round_trip_over_openai_channel(relay_env: RelayEnv) -> None:
    first = await _claude(relay_env).messages.create(
        model="mock-tool", max_tokens=100, tools=[WEATHER_TOOL], messages=[{"role": "user", "content": "Weather?"}]
    )
    tool_use = next(block for block in first.content if block.type == "tool_use")
    assert first.stop_reason == "tool_use" and tool_use.name == "get_weather" and tool_use.input == {"city": "Paris"}
    assert relay_env.mock.last.json["tools"][0]["function"]["name"] == "get_weather"
    await _claude(relay_env).messages.create(
        model="gpt-4o-mini",
        max_tokens=100,
        tools=[WEATHER_TOOL],
        messages=cast(
            "list[MessageParam]",
            [
                {"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": [block.model_dump() for block in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "Sunny"}]},
            ],
        ),
    )
    sent = relay_env.mock.last.json["messages"]
    assert sent[1]["tool_calls"][0]["id"] == tool_use.id
    assert sent[2] == {"role": "tool", "tool_call_id": tool_use.id, "content": "Sunny"}


async def test_messages_image_over_openai_channel(relay_env: RelayEnv) -> None:
    await _claude(relay_env).messages.create(
        model="gpt-4o-mini",
        max_tokens=50,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    )
    parts = relay_env.mock.last.json["messages"][0]["content"]
    assert {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}} in parts


async def test_messages_errors_use_the_claude_shape(relay_env: RelayEnv) -> None:
    with pytest.raises(anthropic.AuthenticationError) as err:
        await _claude(relay_env, key="sk-wrong").messages.create(
            model="gpt-4o-mini", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    body = err.value.body
    assert isinstance(body, dict) and body["type"] == "error" and body["error"]["type"] == "authentication_error"


# Claude channels


async def test_messages_over_claude_channel_pass_through(relay_env: RelayEnv, claude_channel: int) -> None:
    message = await _claude(relay_env).messages.create(
        model="claude-sonnet-4", max_tokens=64, messages=[{"role": "user", "content": "hello"}]
    )
    assert message.content[0].type == "text"
    sent = relay_env.mock.last
    assert sent.path == "/v1/messages" and sent.headers["x-api-key"] == "sk-ant-up"
    assert sent.headers["anthropic-version"] == "2023-06-01"


async def test_claude_cache_tokens_are_billed_at_cache_ratios(relay_env: RelayEnv, claude_channel: int) -> None:
    await relay_env.gateway.set_option("CacheRatio", '{"mock-cached": 0.1}')
    await relay_env.gateway.set_option("CreateCacheRatio", '{"mock-cached": 1.25}')
    message = await _claude(relay_env).messages.create(
        model="mock-cached", max_tokens=64, messages=[{"role": "user", "content": "one two three four five six"}]
    )
    u = message.usage
    assert u.cache_read_input_tokens and u.cache_creation_input_tokens
    row = (await _logs(relay_env))[0]
    expected = round(
        u.input_tokens + u.cache_read_input_tokens * 0.1 + u.cache_creation_input_tokens * 1.25 + u.output_tokens * 1
    )
    assert row["quota"] == expected
    assert row["prompt_tokens"] == u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens


async def test_openai_sdk_over_claude_channel(relay_env: RelayEnv, claude_channel: int) -> None:
    reply = await relay_env.sdk().chat.completions.create(model="claude-sonnet-4", messages=HELLO, max_tokens=50)
    assert reply.choices[0].message.content and reply.choices[0].finish_reason == "stop"
    sent = relay_env.mock.last
    assert sent.path == "/v1/messages" and sent.json["max_tokens"] == 50
    assert sent.json["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}] or sent.json[
        "messages"
    ] == [{"role": "user", "content": "hi"}]


async def test_openai_sdk_stream_over_claude_channel(relay_env: RelayEnv, claude_channel: int) -> None:
    stream = await relay_env.sdk().chat.completions.create(
        model="claude-sonnet-4", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        usage = chunk.usage or usage
    assert text and usage is not None and usage.completion_tokens == 20


async def test_openai_sdk_thinking_over_claude_channel(relay_env: RelayEnv, claude_channel: int) -> None:
    reply = await relay_env.sdk().chat.completions.create(model="mock-thinking", messages=HELLO)
    message = reply.choices[0].message
    assert message.content
    assert getattr(message, "reasoning_content", None) or (message.model_extra or {}).get("reasoning_content")


# Gemini


async def test_openai_sdk_over_gemini_channel(relay_env: RelayEnv, gemini_channel: int) -> None:
    reply = await relay_env.sdk().chat.completions.create(model="gemini-2.0-flash", messages=HELLO)
    assert reply.choices[0].message.content
    sent = relay_env.mock.last
    assert sent.path == "/v1beta/models/gemini-2.0-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == "goog-up"
    assert sent.json["contents"][0]["role"] == "user"
    stream = await relay_env.sdk().chat.completions.create(model="gemini-2.0-flash", messages=HELLO, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text
    assert relay_env.mock.last.query.get("alt") == "sse"
    assert len(await _logs(relay_env)) == 2


async def test_gemini_client_over_openai_channel(relay_env: RelayEnv) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"maxOutputTokens": 50}}
    r = await relay_env.gateway.client.post(
        "/v1beta/models/gpt-4o-mini:generateContent", json=body, headers={"x-goog-api-key": relay_env.key}
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["candidates"][0]["content"]["parts"][0]["text"]
    assert answer["usageMetadata"]["candidatesTokenCount"] > 0
    assert relay_env.mock.last.json["max_tokens"] == 50
    stream = await relay_env.gateway.client.post(
        "/v1beta/models/gpt-4o-mini:streamGenerateContent?alt=sse", json=body, params={"key": relay_env.key}
    )
    assert stream.status_code == 200 and stream.text.count("data: ") >= 2


async def test_gemini_errors_use_the_gemini_shape(relay_env: RelayEnv) -> None:
    r = await relay_env.gateway.client.post(
        "/v1beta/models/gpt-4o-mini:generateContent", json={"contents": []}, headers={"x-goog-api-key": "nope"}
    )
    assert r.status_code == 401
    assert r.json()["error"]["status"] == "UNAUTHENTICATED"


# Responses


async def test_responses_over_chat_channel(relay_env: RelayEnv) -> None:
    await relay_env.gateway.add_channel("deepseek", relay_env.mock.base_url, "deepseek-chat", type=43)
    await relay_env.gateway.set_option("ModelRatio", '{"deepseek-chat": 0.135}')
    response = await relay_env.sdk().responses.create(model="deepseek-chat", input="hello", instructions="Be brief.")
    assert response.output_text
    sent = relay_env.mock.last
    assert sent.path == "/v1/chat/completions"
    assert sent.json["messages"][0] == {"role": "system", "content": "Be brief."}
    stream = await relay_env.sdk().responses.create(model="deepseek-chat", input="hello", stream=True)
    kinds = [event.type async for event in stream]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds


async def test_messages_over_gemini_channel_is_chained_through_openai_chat(
    relay_env: RelayEnv, gemini_channel: int
) -> None:
    async with _claude(relay_env).messages.stream(
        model="gemini-2.0-flash", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        text = "".join([chunk async for chunk in stream.text_stream])
        final = await stream.get_final_message()
    assert text and final.usage.output_tokens > 0
    sent = relay_env.mock.last
    assert sent.path == "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    assert sent.json["generationConfig"]["maxOutputTokens"] == 64


async def test_gemini_model_list(relay_env: RelayEnv) -> None:
    r = await relay_env.gateway.client.get("/v1beta/models", params={"key": relay_env.key})
    names = [m["name"] for m in r.json()["models"]]
    assert "models/gpt-4o-mini" in names


OPENAI_WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.mark.parametrize("upstream", ["claude", "gemini"])
async def test_openai_sdk_tool_round_trip_and_image(
    relay_env: RelayEnv, claude_channel: int, gemini_channel: int, upstream: str
) -> None:
    await relay_env.gateway.set_option(
        "ModelRatio", orjson.dumps({"mock-tool": 1, "claude-sonnet-4": 1.5, "gemini-2.0-flash": 0.05}).decode()
    )
    channel_type = 14 if upstream == "claude" else 24
    await relay_env.gateway.add_channel(
        f"tools-{upstream}", relay_env.mock.base_url, "mock-tool", type=channel_type, key="k", priority=9
    )
    first = await relay_env.sdk().chat.completions.create(
        model="mock-tool", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[OPENAI_WEATHER_TOOL]
    )
    calls = first.choices[0].message.tool_calls or []
    call = calls[0]
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and orjson.loads(call.function.arguments) == {"city": "Paris"}
    sent_tools = relay_env.mock.last.json["tools"]
    assert "get_weather" in orjson.dumps(sent_tools).decode()
    model = "claude-sonnet-4" if upstream == "claude" else "gemini-2.0-flash"
    await relay_env.sdk().chat.completions.create(
        model=model,
        tools=[OPENAI_WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "tool_calls": [call.model_dump()]},  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": "Sunny"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "And this picture?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
                ],
            },
        ],
    )
    sent = orjson.dumps(relay_env.mock.last.json).decode()
    assert "Sunny" in sent and PIXEL in sent and "get_weather" in sent
    if upstream == "claude":
        blocks = [b for m in relay_env.mock.last.json["messages"] for b in m["content"] if isinstance(b, dict)]
        assert any(b["type"] == "tool_result" and b["tool_use_id"] == call.id for b in blocks)
        assert any(b["type"] == "image" and b["source"]["data"] == PIXEL for b in blocks)
    else:
        parts = [p for c in relay_env.mock.last.json["contents"] for p in c["parts"]]
        assert any("functionResponse" in p and p["functionResponse"]["name"] == "get_weather" for p in parts)
        assert any(p.get("inlineData", {}).get("data") == PIXEL for p in parts)
