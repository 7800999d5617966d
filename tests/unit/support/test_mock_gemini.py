"""The mock provider's Gemini routes: generateContent bodies, SSE and JSON-array streams with running usage, the
model-name behaviours, key and body checks in Google's error shape, and recording."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.support.mock_gemini_payloads import THOUGHT_SIGNATURE, THOUGHT_WORDS
from tests.support.mock_openai_payloads import reply_text, reply_words
from tests.support.mock_provider import MockProvider

GEMINI_HEADERS = {"x-goog-api-key": "AIza-test"}
CHUNKS = 5
# "hello there friend" (3) + systemInstruction "be brief" (2)
GEMINI_BODY: dict[str, Any] = {
    "contents": [{"role": "user", "parts": [{"text": "hello there friend"}]}],
    "systemInstruction": {"parts": [{"text": "be brief"}]},
}
GEMINI_PROMPT = 5
FLASH = "/v1beta/models/gemini-2.0-flash"


@pytest.fixture
async def mock() -> AsyncIterator[MockProvider]:
    async with MockProvider(chunks=CHUNKS) as provider:
        yield provider


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def gemini(
    http: aiohttp.ClientSession, mock: MockProvider, path: str, body: Any = GEMINI_BODY, **headers: str
) -> tuple[int, Any]:
    async with http.post(mock.base_url + path, json=body, headers=headers or GEMINI_HEADERS) as r:
        return r.status, await r.json()


async def gemini_sse(http: aiohttp.ClientSession, mock: MockProvider, model: str, body: Any = GEMINI_BODY) -> list[Any]:
    """The chunks of a Gemini SSE stream, checking Google's framing: `data: …` ended by CRLF pairs, no [DONE]."""
    url = f"{mock.base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse"
    async with http.post(url, json=body, headers=GEMINI_HEADERS) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
        raw = (await resp.read()).decode()
    assert raw.endswith("\r\n\r\n") and "[DONE]" not in raw
    frames = raw.split("\r\n\r\n")[:-1]
    assert all(f.startswith("data: ") and "\n" not in f for f in frames)
    return [json.loads(f.removeprefix("data: ")) for f in frames]


def text_of(chunk: dict[str, Any]) -> str:
    return "".join(p.get("text", "") for p in chunk["candidates"][0]["content"]["parts"] if not p.get("thought"))


async def test_gemini_response_shape_and_usage(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    status, body = await gemini(http, mock, f"{FLASH}:generateContent")
    assert status == 200
    (candidate,) = body["candidates"]
    assert candidate["content"] == {"parts": [{"text": reply_text(CHUNKS)}], "role": "model"}
    assert (candidate["finishReason"], candidate["index"]) == ("STOP", 0)
    usage = body["usageMetadata"]
    assert (usage["promptTokenCount"], usage["candidatesTokenCount"]) == (GEMINI_PROMPT, CHUNKS)
    assert usage["totalTokenCount"] == GEMINI_PROMPT + CHUNKS
    assert body["modelVersion"] == "gemini-2.0-flash" and body["responseId"]


async def test_gemini_v1_route_query_key_and_max_output_tokens(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {**GEMINI_BODY, "generationConfig": {"maxOutputTokens": 2}}
    async with http.post(f"{mock.base_url}/v1/models/gemini-pro:generateContent?key=AIza-q", json=body) as resp:
        assert resp.status == 200
        out = await resp.json()
    assert out["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert text_of(out) == reply_text(2) and out["usageMetadata"]["candidatesTokenCount"] == 2
    rec = mock.last
    assert (rec.path, rec.query) == ("/v1/models/gemini-pro:generateContent", {"key": "AIza-q"})
    assert rec.json == body


async def test_gemini_sse_stream_has_running_usage(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    chunks = await gemini_sse(http, mock, "gemini-2.0-flash")
    assert len(chunks) == CHUNKS
    assert [text_of(c) for c in chunks] == list(reply_words(CHUNKS))
    assert [c["usageMetadata"]["candidatesTokenCount"] for c in chunks] == list(range(1, CHUNKS + 1))
    assert {c["usageMetadata"]["promptTokenCount"] for c in chunks} == {GEMINI_PROMPT}
    assert all("finishReason" not in c["candidates"][0] for c in chunks[:-1])
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["totalTokenCount"] == GEMINI_PROMPT + CHUNKS
    assert len({c["responseId"] for c in chunks}) == 1
    rec = mock.last
    assert rec.path == f"{FLASH}:streamGenerateContent" and rec.query["alt"] == "sse"
    assert rec.headers["x-goog-api-key"] == "AIza-test"


async def test_gemini_stream_without_sse_is_a_json_array(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    async with http.post(
        f"{mock.base_url}{FLASH}:streamGenerateContent", json=GEMINI_BODY, headers=GEMINI_HEADERS
    ) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("application/json")
        chunks = json.loads(await r.read())
    assert isinstance(chunks, list) and len(chunks) == CHUNKS
    assert "".join(text_of(c) for c in chunks) == reply_text(CHUNKS)
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


async def test_gemini_function_call(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    _, body = await gemini(http, mock, "/v1beta/models/mock-tool:generateContent")
    parts = body["candidates"][0]["content"]["parts"]
    assert parts == [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]
    assert body["candidates"][0]["finishReason"] == "STOP"
    (chunk,) = await gemini_sse(http, mock, "mock-tool")
    assert chunk["candidates"][0]["content"]["parts"] == parts


async def test_gemini_thought_parts(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    _, body = await gemini(http, mock, "/v1beta/models/mock-thinking:generateContent")
    thought, answer = body["candidates"][0]["content"]["parts"]
    assert thought == {"text": "".join(THOUGHT_WORDS), "thought": True}
    assert answer == {"text": reply_text(CHUNKS), "thoughtSignature": THOUGHT_SIGNATURE}
    usage = body["usageMetadata"]
    assert usage["thoughtsTokenCount"] == len(THOUGHT_WORDS) and usage["candidatesTokenCount"] == CHUNKS
    assert usage["totalTokenCount"] == GEMINI_PROMPT + CHUNKS + len(THOUGHT_WORDS)

    chunks = await gemini_sse(http, mock, "mock-thinking")
    parts = [c["candidates"][0]["content"]["parts"][0] for c in chunks]
    assert [p.get("thought", False) for p in parts] == [True] * len(THOUGHT_WORDS) + [False] * CHUNKS
    assert parts[len(THOUGHT_WORDS)]["thoughtSignature"] == THOUGHT_SIGNATURE
    assert chunks[-1]["usageMetadata"]["thoughtsTokenCount"] == len(THOUGHT_WORDS)
    asked = {**GEMINI_BODY, "generationConfig": {"thinkingConfig": {"includeThoughts": True}}}
    _, body = await gemini(http, mock, f"{FLASH}:generateContent", body=asked)
    assert body["candidates"][0]["content"]["parts"][0]["thought"] is True


async def test_gemini_cached_and_nousage(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    _, body = await gemini(http, mock, "/v1beta/models/mock-cached:generateContent")
    assert body["usageMetadata"]["cachedContentTokenCount"] == GEMINI_PROMPT // 2
    assert body["usageMetadata"]["promptTokenCount"] == GEMINI_PROMPT
    _, body = await gemini(http, mock, "/v1beta/models/mock-nousage:generateContent")
    assert "usageMetadata" not in body and text_of(body) == reply_text(CHUNKS)
    assert all("usageMetadata" not in c for c in await gemini_sse(http, mock, "mock-nousage"))


async def test_gemini_cut_stream_ends_before_the_finish(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{mock.base_url}/v1beta/models/mock-cut:streamGenerateContent?alt=sse"
    got = b""
    async with http.post(url, json=GEMINI_BODY, headers=GEMINI_HEADERS) as resp:
        assert resp.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            async for piece in resp.content.iter_any():
                got += piece
    assert got.count(b"data: ") == CHUNKS // 2 and b"finishReason" not in got


@pytest.mark.parametrize(
    ("model", "code", "status"),
    [
        ("mock-error-400", 400, "INVALID_ARGUMENT"),
        ("mock-error-401", 401, "UNAUTHENTICATED"),
        ("mock-error-429", 429, "RESOURCE_EXHAUSTED"),
        ("mock-error-500", 500, "INTERNAL"),
    ],
)
async def test_gemini_error_models(
    mock: MockProvider, http: aiohttp.ClientSession, model: str, code: int, status: str
) -> None:
    for method in ("generateContent", "streamGenerateContent?alt=sse"):
        got, body = await gemini(http, mock, f"/v1beta/models/{model}:{method}")
        assert got == code
        assert body["error"]["code"] == code and body["error"]["status"] == status and body["error"]["message"]


async def test_gemini_key_body_and_method_checks(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    got, body = await gemini(http, mock, f"{FLASH}:generateContent", **{"x-other": "1"})
    assert (got, body["error"]["status"]) == (403, "PERMISSION_DENIED")
    got, body = await gemini(http, mock, f"{FLASH}:generateContent", body={"generationConfig": {}})
    assert (got, body["error"]["code"], body["error"]["status"]) == (400, 400, "INVALID_ARGUMENT")
    assert "contents" in body["error"]["message"]
    async with http.post(f"{mock.base_url}{FLASH}:generateContent", data=b"{nope", headers=GEMINI_HEADERS) as r:
        assert r.status == 400 and (await r.json())["error"]["status"] == "INVALID_ARGUMENT"
    got, body = await gemini(http, mock, f"{FLASH}:countTokens")
    assert (got, body["error"]["status"]) == (404, "NOT_FOUND")
    mock.fail_next = [503]
    got, body = await gemini(http, mock, f"{FLASH}:generateContent")
    assert (got, body["error"]["status"]) == (503, "UNAVAILABLE")


async def test_slow_model_delays_the_first_byte(http: aiohttp.ClientSession) -> None:
    async with MockProvider(slow_seconds=30) as slow:
        with pytest.raises(asyncio.TimeoutError):
            url = f"{slow.base_url}/v1beta/models/mock-slow:generateContent"
            await http.post(url, json=GEMINI_BODY, headers=GEMINI_HEADERS, timeout=aiohttp.ClientTimeout(total=0.2))
        status, _ = await gemini(http, slow, f"{FLASH}:generateContent")
        assert status == 200
