"""The mock OpenAI provider: chat and completions bodies, exact stream frames, failure behaviours by model name,
recording, fail_next and the Azure route."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.support.mock_openai_payloads import TOOL_ARGUMENTS, reply_text
from tests.support.mock_provider import MockProvider

AUTH = {"Authorization": "Bearer sk-test"}
MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there friend"}]
PROMPT_TOKENS = (2 + 3) + (3 + 3)
CHUNKS = 5


@pytest.fixture
async def mock() -> AsyncIterator[MockProvider]:
    async with MockProvider(chunks=CHUNKS) as provider:
        yield provider


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json()


async def stream_events(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> list[str]:
    """The `data:` payloads of an SSE answer, checking the framing is exactly `data: …\\n\\n`."""
    async with http.post(url, json=body) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        raw = (await resp.read()).decode()
    assert raw.endswith("\n\n")
    events = raw.split("\n\n")[:-1]
    assert all(e.startswith("data: ") and "\n" not in e for e in events)
    return [e.removeprefix("data: ") for e in events]


async def raw_exchange(base_url: str, request: bytes) -> bytes:
    """Send one HTTP/1.1 request over a plain socket and read until the server closes it."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return data


def raw_post(path: str, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer sk-test\r\nContent-Type: application/json\r\n"
    return head.encode() + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload


async def test_chat_completion_shape_and_deterministic_usage(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{mock.base_url}/v1/chat/completions", json={"model": "gpt-4o", "messages": MESSAGES}) as r:
        assert r.status == 200
        assert r.headers["x-request-id"].startswith("req_")
        body = await r.json()
    assert body["id"].startswith("chatcmpl-mock")
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o"
    assert isinstance(body["created"], int) and body["system_fingerprint"]
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == reply_text(CHUNKS)
    assert choice["finish_reason"] == "stop"
    assert body["usage"]["prompt_tokens"] == PROMPT_TOKENS
    assert body["usage"]["completion_tokens"] == CHUNKS
    assert body["usage"]["total_tokens"] == PROMPT_TOKENS + CHUNKS
    assert body["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


async def test_request_ids_are_unique(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    ids = set()
    for _ in range(3):
        async with http.get(f"{mock.base_url}/v1/models") as r:
            ids.add(r.headers["x-request-id"])
    assert len(ids) == 3


@pytest.mark.parametrize("limit_key", ["max_tokens", "max_completion_tokens"])
async def test_token_limit_shortens_the_reply(mock: MockProvider, http: aiohttp.ClientSession, limit_key: str) -> None:
    body = {"model": "gpt-4o", "messages": MESSAGES, limit_key: 2}
    _, out = await post(http, f"{mock.base_url}/v1/chat/completions", body)
    assert out["choices"][0]["message"]["content"] == reply_text(2)
    assert out["usage"]["completion_tokens"] == 2


async def test_stream_without_include_usage_frames(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    events = await stream_events(
        http, f"{mock.base_url}/v1/chat/completions", {"model": "m1", "messages": MESSAGES, "stream": True}
    )
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert len(chunks) == 1 + CHUNKS + 1
    assert all("usage" not in c for c in chunks)
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "m1" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    words = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert "".join(words) == reply_text(CHUNKS) and all(w.endswith(" ") for w in words)
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}


async def test_stream_with_include_usage_ends_with_usage_chunk(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"model": "m1", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    events = await stream_events(http, f"{mock.base_url}/chat/completions", body)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert len(chunks) == 1 + CHUNKS + 1 + 1
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == PROMPT_TOKENS
    assert chunks[-1]["usage"]["completion_tokens"] == CHUNKS


async def test_nousage_model_never_reports_usage(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"model": "mock-nousage", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    events = await stream_events(http, f"{mock.base_url}/v1/chat/completions", body)
    assert all("usage" not in json.loads(e) for e in events[:-1])
    _, out = await post(http, f"{mock.base_url}/v1/chat/completions", {"model": "mock-nousage", "messages": MESSAGES})
    assert "usage" not in out


async def test_cached_model_reports_half_the_prompt_as_cached(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    _, out = await post(http, f"{mock.base_url}/v1/chat/completions", {"model": "mock-cached", "messages": MESSAGES})
    assert out["usage"]["prompt_tokens_details"]["cached_tokens"] == PROMPT_TOKENS // 2


async def test_tool_model_answers_a_tool_call(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{mock.base_url}/v1/chat/completions"
    _, out = await post(http, url, {"model": "mock-tool", "messages": MESSAGES})
    choice = out["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}

    events = await stream_events(http, url, {"model": "mock-tool", "messages": MESSAGES, "stream": True})
    chunks = [json.loads(e) for e in events[:-1]]
    first = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert first["id"].startswith("call_") and first["function"]["name"] == "get_weather"
    fragments = [c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for c in chunks[:-1]]
    assert "".join(fragments) == TOOL_ARGUMENTS
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_cut_stream_sends_half_the_chunks_then_closes(mock: MockProvider) -> None:
    body = {"model": "mock-cut", "messages": MESSAGES, "stream": True}
    raw = await raw_exchange(mock.base_url, raw_post("/v1/chat/completions", body))
    assert raw.startswith(b"HTTP/1.1 200")
    assert raw.count(b"data: ") == 1 + CHUNKS // 2
    assert b"[DONE]" not in raw
    assert not raw.endswith(b"0\r\n\r\n")  # no terminating chunk


async def test_cut_stream_is_an_incomplete_payload_for_clients(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"model": "mock-cut", "messages": MESSAGES, "stream": True}
    async with http.post(f"{mock.base_url}/v1/chat/completions", json=body) as resp:
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()


async def test_cut_non_stream_closes_mid_body(mock: MockProvider) -> None:
    raw = await raw_exchange(mock.base_url, raw_post("/v1/chat/completions", {"model": "mock-cut", "messages": []}))
    head, _, body = raw.partition(b"\r\n\r\n")
    length = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
    assert 0 < len(body) < length


@pytest.mark.parametrize(
    ("model", "status", "type_", "code"),
    [
        ("mock-error-400", 400, "invalid_request_error", None),
        ("mock-error-401", 401, "invalid_request_error", "invalid_api_key"),
        ("mock-error-429", 429, "requests", "rate_limit_exceeded"),
        ("mock-error-quota", 429, "insufficient_quota", "insufficient_quota"),
        ("mock-error-500", 500, "server_error", None),
    ],
)
async def test_error_models_answer_openai_errors(
    mock: MockProvider, http: aiohttp.ClientSession, model: str, status: int, type_: str, code: str | None
) -> None:
    for path in ("/v1/chat/completions", "/v1/embeddings"):
        got_status, body = await post(http, mock.base_url + path, {"model": model, "messages": [], "input": "x"})
        assert got_status == status
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert body["error"]["type"] == type_ and body["error"]["code"] == code
        assert body["error"]["message"]


async def test_missing_api_key_is_401(mock: MockProvider) -> None:
    async with aiohttp.ClientSession() as bare, bare.get(f"{mock.base_url}/v1/models") as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["type"] == "invalid_request_error"


async def test_fail_next_pops_one_status_per_request(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    mock.fail_next = [429, 503]
    url = f"{mock.base_url}/v1/chat/completions"
    statuses = [(await post(http, url, {"model": "gpt-4o", "messages": MESSAGES}))[0] for _ in range(3)]
    assert statuses == [429, 503, 200]
    assert mock.fail_next == []
    assert len(mock.received) == 3


async def test_slow_model_delays_the_first_byte(http: aiohttp.ClientSession) -> None:
    async with MockProvider(slow_seconds=30) as slow:
        timeout = aiohttp.ClientTimeout(total=0.2)
        with pytest.raises(asyncio.TimeoutError):
            await http.post(
                f"{slow.base_url}/v1/chat/completions", json={"model": "mock-slow", "messages": []}, timeout=timeout
            )
        status, _ = await post(http, f"{slow.base_url}/v1/chat/completions", {"model": "gpt-4o", "messages": []})
        assert status == 200


async def test_requests_are_recorded(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"model": "gpt-4o", "messages": MESSAGES}
    async with http.post(f"{mock.base_url}/v1/chat/completions?x=1", json=body, headers={"X-Trace": "abc"}):
        pass
    rec = mock.last
    assert (rec.method, rec.path, rec.query) == ("POST", "/v1/chat/completions", {"x": "1"})
    assert rec.headers["authorization"] == "Bearer sk-test"
    assert rec.headers["x-trace"] == "abc"
    assert rec.json == body and json.loads(rec.body) == body
    assert rec.model == "gpt-4o"
    mock.reset()
    assert mock.received == []


async def test_recording_can_be_switched_off(http: aiohttp.ClientSession) -> None:
    async with MockProvider(record=False) as quiet:
        status, _ = await post(http, f"{quiet.base_url}/v1/chat/completions", {"model": "m", "messages": []})
        assert status == 200 and quiet.received == []


async def test_invalid_json_is_a_400(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{mock.base_url}/v1/chat/completions", data=b"{nope") as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["type"] == "invalid_request_error"


async def test_legacy_completions(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{mock.base_url}/v1/completions"
    _, out = await post(http, url, {"model": "gpt-3.5-turbo-instruct", "prompt": "say hi", "max_tokens": 3})
    assert out["object"] == "text_completion" and out["id"].startswith("cmpl-mock")
    assert out["choices"][0]["text"] == reply_text(3)
    assert (out["usage"]["prompt_tokens"], out["usage"]["completion_tokens"]) == (2, 3)

    body = {"model": "m", "prompt": "say hi", "stream": True, "stream_options": {"include_usage": True}}
    events = await stream_events(http, url, body)
    chunks = [json.loads(e) for e in events[:-1]]
    assert "".join(c["choices"][0]["text"] for c in chunks[:-1]) == reply_text(CHUNKS)
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 2 + CHUNKS


async def test_azure_route(mock: MockProvider) -> None:
    url = f"{mock.base_url}/openai/deployments/gpt-4o-dep/chat/completions"
    async with aiohttp.ClientSession(headers={"api-key": "azure-key"}) as azure:
        status, out = await post(azure, url + "?api-version=2024-10-21", {"messages": MESSAGES})
        assert status == 200
        assert out["model"] == "gpt-4o-dep"
        assert out["choices"][0]["message"]["content"] == reply_text(CHUNKS)
        assert mock.last.query == {"api-version": "2024-10-21"}
        assert mock.last.headers["api-key"] == "azure-key"
        status, _ = await post(azure, url, {"messages": MESSAGES})
        assert status == 404
    async with aiohttp.ClientSession() as anonymous:
        status, out = await post(anonymous, url + "?api-version=2024-10-21", {"messages": MESSAGES})
        assert status == 401 and out["error"]["code"] == "401"
