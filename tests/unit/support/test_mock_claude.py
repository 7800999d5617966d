"""The mock provider's Anthropic Messages route: the message body, the exact named-event stream, the model-name
behaviours, header and body checks in Anthropic's error shape, recording, and the official SDK reading it all."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest

from tests.support.mock_claude_payloads import SIGNATURE, THINKING_TEXT
from tests.support.mock_openai_payloads import TOOL_ARGUMENTS, reply_text, reply_words
from tests.support.mock_provider import MockProvider

CLAUDE_HEADERS = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
CHUNKS = 5
# "be brief" (2) + "hello there friend" (3) + a text block "and more" (2)
CLAUDE_BODY: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 100,
    "system": "be brief",
    "messages": [
        {"role": "user", "content": "hello there friend"},
        {"role": "assistant", "content": [{"type": "text", "text": "and more"}]},
    ],
}
CLAUDE_PROMPT = 7


@pytest.fixture
async def mock() -> AsyncIterator[MockProvider]:
    async with MockProvider(chunks=CHUNKS) as provider:
        yield provider


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def claude(
    http: aiohttp.ClientSession, mock: MockProvider, headers: dict[str, str] = CLAUDE_HEADERS, **fields: Any
) -> tuple[int, Any, Mapping[str, str]]:
    async with http.post(f"{mock.base_url}/v1/messages", json={**CLAUDE_BODY, **fields}, headers=headers) as r:
        return r.status, await r.json(), r.headers


async def claude_events(http: aiohttp.ClientSession, mock: MockProvider, **fields: Any) -> list[tuple[str, Any]]:
    """(event name, data) of a Claude stream, checking each frame is exactly `event: …\\ndata: …\\n\\n`."""
    body = {**CLAUDE_BODY, **fields, "stream": True}
    async with http.post(f"{mock.base_url}/v1/messages", json=body, headers=CLAUDE_HEADERS) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        raw = (await resp.read()).decode()
    assert raw.endswith("\n\n")
    events = []
    for frame in raw.split("\n\n")[:-1]:
        name_line, data_line = frame.split("\n")
        name, data = name_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: "))
        assert name_line.startswith("event: ") and data["type"] == name
        events.append((name, data))
    return events


async def raw_exchange(base_url: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 request over a plain socket, read until the server closes it."""
    host, port = base_url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Content-Type": "application/json"}.items())
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"POST {path} HTTP/1.1\r\nHost: mock\r\n{head}Content-Length: {len(payload)}\r\n\r\n".encode())
    writer.write(payload)
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return data


async def test_claude_message_shape_and_usage(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    status, body, headers = await claude(http, mock)
    assert status == 200 and headers["request-id"].startswith("req_")
    assert body["id"].startswith("msg_mock") and body["model"] == "claude-sonnet-4-5"
    assert (body["type"], body["role"]) == ("message", "assistant")
    assert body["content"] == [{"type": "text", "text": reply_text(CHUNKS)}]
    assert (body["stop_reason"], body["stop_sequence"]) == ("end_turn", None)
    usage = body["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (CLAUDE_PROMPT, CHUNKS)
    assert usage["cache_creation_input_tokens"] == usage["cache_read_input_tokens"] == 0


async def test_claude_max_tokens_cuts_the_reply(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    _, body, _ = await claude(http, mock, max_tokens=2)
    assert body["content"][0]["text"] == reply_text(2)
    assert body["stop_reason"] == "max_tokens" and body["usage"]["output_tokens"] == 2
    events = await claude_events(http, mock, max_tokens=2)
    assert [d["delta"]["text"] for n, d in events if n == "content_block_delta"] == list(reply_words(2))
    assert events[-2][1]["delta"]["stop_reason"] == "max_tokens"


async def test_claude_stream_event_order(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    events = await claude_events(http, mock)
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * CHUNKS,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["model"] == "claude-sonnet-4-5"
    assert (start["usage"]["input_tokens"], start["usage"]["output_tokens"]) == (CLAUDE_PROMPT, 1)
    assert events[1][1] == {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    deltas = [d for n, d in events if n == "content_block_delta"]
    assert all(d["index"] == 0 and d["delta"]["type"] == "text_delta" for d in deltas)
    assert "".join(d["delta"]["text"] for d in deltas) == reply_text(CHUNKS)
    assert events[-3][1] == {"type": "content_block_stop", "index": 0}
    assert events[-2][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": CHUNKS},
    }


async def test_claude_tool_use(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    _, body, _ = await claude(http, mock, model="mock-tool")
    (block,) = body["content"]
    assert block["type"] == "tool_use" and block["id"].startswith("toolu_")
    assert (block["name"], block["input"]) == ("get_weather", {"city": "Paris"})
    assert body["stop_reason"] == "tool_use"

    events = await claude_events(http, mock, model="mock-tool")
    opening = events[1][1]["content_block"]
    assert opening["type"] == "tool_use" and opening["input"] == {} and opening["name"] == "get_weather"
    pieces = [d["delta"] for n, d in events if n == "content_block_delta"]
    assert all(p["type"] == "input_json_delta" for p in pieces) and pieces[0]["partial_json"] == ""
    assert "".join(p["partial_json"] for p in pieces) == TOOL_ARGUMENTS
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


async def test_claude_thinking_block_precedes_text(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    _, body, _ = await claude(http, mock, model="mock-thinking")
    assert body["content"] == [
        {"type": "thinking", "thinking": THINKING_TEXT, "signature": SIGNATURE},
        {"type": "text", "text": reply_text(CHUNKS)},
    ]
    assert body["usage"]["output_tokens"] == len(THINKING_TEXT.split()) + CHUNKS

    events = await claude_events(http, mock, model="mock-thinking")
    blocks = [d for n, d in events if n == "content_block_start"]
    assert [b["content_block"]["type"] for b in blocks] == ["thinking", "text"]
    assert [b["index"] for b in blocks] == [0, 1]
    thinking = [d["delta"] for n, d in events if n == "content_block_delta" and d["index"] == 0]
    assert "".join(t["thinking"] for t in thinking[:-1]) == THINKING_TEXT
    assert {t["type"] for t in thinking[:-1]} == {"thinking_delta"}
    assert thinking[-1] == {"type": "signature_delta", "signature": SIGNATURE}
    stop_at = next(i for i, (n, d) in enumerate(events) if n == "content_block_stop" and d["index"] == 0)
    assert events[stop_at - 1][1]["delta"]["type"] == "signature_delta"
    # A gateway turns "…-thinking" into the plain model with thinking enabled; that gets a thinking block too.
    _, body, _ = await claude(http, mock, thinking={"type": "enabled", "budget_tokens": 1024})
    assert [b["type"] for b in body["content"]] == ["thinking", "text"]


async def test_claude_cached_and_nousage(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    _, body, _ = await claude(http, mock, model="mock-cached")
    usage = body["usage"]
    assert usage["cache_read_input_tokens"] == CLAUDE_PROMPT // 2
    assert usage["cache_creation_input_tokens"] == 7
    assert usage["input_tokens"] == CLAUDE_PROMPT - CLAUDE_PROMPT // 2
    events = await claude_events(http, mock, model="mock-cached")
    assert events[0][1]["message"]["usage"]["cache_read_input_tokens"] == CLAUDE_PROMPT // 2

    _, body, _ = await claude(http, mock, model="mock-nousage")
    assert (body["usage"]["input_tokens"], body["usage"]["output_tokens"]) == (0, 0)
    events = await claude_events(http, mock, model="mock-nousage")
    assert events[-2][1]["usage"] == {"output_tokens": 0}


async def test_claude_cut_stream_has_no_closing_events(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {**CLAUDE_BODY, "model": "mock-cut", "stream": True}
    raw = await raw_exchange(mock.base_url, "/v1/messages", body, CLAUDE_HEADERS)
    assert raw.startswith(b"HTTP/1.1 200") and b"event: message_start" in raw
    assert b"content_block_stop" not in raw and b"message_stop" not in raw
    async with http.post(f"{mock.base_url}/v1/messages", json=body, headers=CLAUDE_HEADERS) as resp:
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()


@pytest.mark.parametrize(
    ("model", "status", "type_"),
    [
        ("mock-error-400", 400, "invalid_request_error"),
        ("mock-error-401", 401, "authentication_error"),
        ("mock-error-429", 429, "rate_limit_error"),
        ("mock-error-500", 500, "api_error"),
    ],
)
async def test_claude_error_models(
    mock: MockProvider, http: aiohttp.ClientSession, model: str, status: int, type_: str
) -> None:
    got, body, headers = await claude(http, mock, model=model)
    assert got == status
    assert body["type"] == "error" and body["error"]["type"] == type_ and body["error"]["message"]
    assert body["request_id"] == headers["request-id"]


@pytest.mark.parametrize(
    ("headers", "fields", "status", "type_", "message"),
    [
        ({"anthropic-version": "2023-06-01"}, {}, 401, "authentication_error", "x-api-key header is required"),
        ({"x-api-key": "k"}, {}, 400, "invalid_request_error", "anthropic-version: header is required"),
        (CLAUDE_HEADERS, {"model": None}, 400, "invalid_request_error", "model: Field required"),
        (CLAUDE_HEADERS, {"max_tokens": None}, 400, "invalid_request_error", "max_tokens: Field required"),
        (CLAUDE_HEADERS, {"messages": None}, 400, "invalid_request_error", "messages: Field required"),
    ],
)
async def test_claude_header_and_body_checks(
    mock: MockProvider,
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    fields: dict[str, Any],
    status: int,
    type_: str,
    message: str,
) -> None:
    body = {k: v for k, v in {**CLAUDE_BODY, **fields}.items() if v is not None}
    async with http.post(f"{mock.base_url}/v1/messages", json=body, headers=headers) as resp:
        assert resp.status == status
        assert (await resp.json())["error"] == {"type": type_, "message": message}


async def test_claude_fail_next_keyless_mode_and_recording(http: aiohttp.ClientSession) -> None:
    async with MockProvider(chunks=CHUNKS, require_auth=False) as mock:
        mock.fail_next = [529]
        status, body, _ = await claude(http, mock, headers={"anthropic-version": "2023-06-01"})
        assert (status, body["error"]["type"]) == (529, "overloaded_error")
        status, _, _ = await claude(http, mock, headers={"anthropic-version": "2023-06-01"}, max_tokens=3)
        assert status == 200
    rec = mock.last
    assert (rec.method, rec.path, rec.model) == ("POST", "/v1/messages", "claude-sonnet-4-5")
    assert rec.json["max_tokens"] == 3 and rec.headers["anthropic-version"] == "2023-06-01"
    assert len(mock.received) == 2


async def test_slow_model_delays_the_first_byte(http: aiohttp.ClientSession) -> None:
    async with MockProvider(slow_seconds=30) as slow:
        with pytest.raises(asyncio.TimeoutError):
            await http.post(
                f"{slow.base_url}/v1/messages",
                json={**CLAUDE_BODY, "model": "mock-slow"},
                headers=CLAUDE_HEADERS,
                timeout=aiohttp.ClientTimeout(total=0.2),
            )
        status, _, _ = await claude(http, slow)
        assert status == 200


async def test_anthropic_sdk_reads_the_mock(mock: MockProvider) -> None:
    anthropic = pytest.importorskip("anthropic")
    async with anthropic.AsyncAnthropic(base_url=mock.base_url, api_key="sk-ant-test", max_retries=0) as client:
        messages = [{"role": "user", "content": "hello there"}]
        done = await client.messages.create(model="mock-thinking", max_tokens=50, messages=messages)
        assert [b.type for b in done.content] == ["thinking", "text"]
        async with client.messages.stream(model="mock-tool", max_tokens=50, messages=messages) as stream:
            final = await stream.get_final_message()
        assert final.content[0].input == {"city": "Paris"} and final.stop_reason == "tool_use"
        with pytest.raises(anthropic.RateLimitError) as caught:
            await client.messages.create(model="mock-error-429", max_tokens=5, messages=messages)
        assert caught.value.request_id and caught.value.request_id.startswith("req_mock")
