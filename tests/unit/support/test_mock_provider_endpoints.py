"""The mock OpenAI provider's other endpoints: embeddings, images, audio, moderations, models and billing."""

from __future__ import annotations

import base64
import struct
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.support.mock_openai_payloads import transcript_text
from tests.support.mock_provider import MockProvider

AUTH = {"Authorization": "Bearer sk-test"}
AUDIO = bytes(range(256)) * 250  # 64,000 bytes: 2.0 s at 16 kHz 16-bit mono


@pytest.fixture
async def mock() -> AsyncIterator[MockProvider]:
    async with MockProvider(chunks=4) as provider:
        yield provider


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json()


def audio_form(response_format: str | None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("model", "whisper-1")
    if response_format is not None:
        form.add_field("response_format", response_format)
    form.add_field("file", AUDIO, filename="speech.wav", content_type="audio/wav")
    return form


async def test_embeddings_are_deterministic_floats(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{mock.base_url}/v1/embeddings"
    body = {"model": "text-embedding-3-small", "input": ["hello world", "bye"]}
    status, out = await post(http, url, body)
    assert status == 200
    assert out["object"] == "list" and out["model"] == "text-embedding-3-small"
    assert [d["index"] for d in out["data"]] == [0, 1]
    assert all(d["object"] == "embedding" and len(d["embedding"]) == 8 for d in out["data"])
    assert out["data"][0]["embedding"] != out["data"][1]["embedding"]
    assert out["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    _, again = await post(http, url, body)
    assert again["data"] == out["data"]


async def test_embeddings_token_arrays_and_base64(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{mock.base_url}/v1/embeddings"
    _, floats = await post(http, url, {"model": "e", "input": "hello world"})
    _, encoded = await post(http, url, {"model": "e", "input": "hello world", "encoding_format": "base64"})
    decoded = list(struct.unpack("<8f", base64.b64decode(encoded["data"][0]["embedding"])))
    assert decoded == floats["data"][0]["embedding"]
    _, tokens = await post(http, url, {"model": "e", "input": [[1, 2, 3], [4, 5]]})
    assert len(tokens["data"]) == 2 and tokens["usage"]["prompt_tokens"] == 5


async def test_embeddings_require_input(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    status, out = await post(http, f"{mock.base_url}/v1/embeddings", {"model": "e"})
    assert status == 400 and out["error"]["param"] == "input"


async def test_image_generation_urls_and_b64(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    url = f"{mock.base_url}/v1/images/generations"
    _, out = await post(http, url, {"model": "dall-e-3", "prompt": "a cat", "n": 2})
    assert len(out["data"]) == 2 and out["data"][0]["url"].startswith("https://")
    _, b64 = await post(http, url, {"model": "dall-e-3", "prompt": "a cat", "response_format": "b64_json"})
    assert base64.b64decode(b64["data"][0]["b64_json"]).startswith(b"\x89PNG")


async def test_image_edit_records_multipart(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("model", "dall-e-2")
    form.add_field("prompt", "add a hat")
    form.add_field("image", b"\x89PNG-original", filename="cat.png", content_type="image/png")
    async with http.post(f"{mock.base_url}/v1/images/edits", data=form) as resp:
        assert resp.status == 200
        assert len((await resp.json())["data"]) == 1
    rec = mock.last
    assert rec.form == {"model": "dall-e-2", "prompt": "add a hat"}
    assert rec.files["image"].filename == "cat.png"
    assert rec.files["image"].content_type == "image/png"
    assert rec.files["image"].data == b"\x89PNG-original"
    assert rec.json is None and rec.model == "dall-e-2"


async def test_speech_returns_mpeg_bytes(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"model": "tts-1", "input": "hello", "voice": "alloy"}
    async with http.post(f"{mock.base_url}/v1/audio/speech", json=body) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "audio/mpeg"
        assert (await resp.read()).startswith(b"ID3")


@pytest.mark.parametrize("path", ["/v1/audio/transcriptions", "/v1/audio/translations"])
async def test_transcription_formats(mock: MockProvider, http: aiohttp.ClientSession, path: str) -> None:
    url = mock.base_url + path
    async with http.post(url, data=audio_form(None)) as resp:
        assert await resp.json() == {"text": transcript_text(AUDIO)}
    assert mock.last.files["file"].data == AUDIO
    assert mock.last.form == {"model": "whisper-1"}
    async with http.post(url, data=audio_form("text")) as resp:
        assert resp.content_type == "text/plain"
        assert await resp.text() == transcript_text(AUDIO) + "\n"
    async with http.post(url, data=audio_form("verbose_json")) as resp:
        verbose = await resp.json()
    assert verbose["duration"] == 2.0 and verbose["language"] == "english"
    assert verbose["task"] == ("transcribe" if "transcriptions" in path else "translate")
    assert verbose["segments"][0]["text"] == verbose["text"]


async def test_transcription_requires_a_file(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("model", "whisper-1")
    form.add_field("placeholder", b"", filename="", content_type="text/plain")
    async with http.post(f"{mock.base_url}/v1/audio/transcriptions", data=form) as resp:
        assert resp.status == 400


async def test_moderations(mock: MockProvider, http: aiohttp.ClientSession) -> None:
    body = {"model": "omni-moderation-latest", "input": ["fine text", "mock-flag this"]}
    _, out = await post(http, f"{mock.base_url}/v1/moderations", body)
    assert out["id"].startswith("modr-") and out["model"] == "omni-moderation-latest"
    assert [r["flagged"] for r in out["results"]] == [False, True]
    assert out["results"][1]["categories"]["violence"] is True
    assert set(out["results"][0]["category_scores"]) == set(out["results"][0]["categories"])


async def test_models_and_billing(http: aiohttp.ClientSession) -> None:
    async with MockProvider(models=["a", "b"], balance_usd=50.0, used_usd=12.5) as mock:
        async with http.get(f"{mock.base_url}/v1/models") as resp:
            models = await resp.json()
        assert models["object"] == "list"
        assert [(m["id"], m["object"]) for m in models["data"]] == [("a", "model"), ("b", "model")]
        async with http.get(f"{mock.base_url}/v1/dashboard/billing/subscription") as resp:
            sub = await resp.json()
        assert sub["object"] == "billing_subscription" and sub["hard_limit_usd"] == 50.0
        async with http.get(f"{mock.base_url}/dashboard/billing/usage?start_date=2024-01-01") as resp:
            usage = await resp.json()
        assert usage == {"object": "list", "total_usage": 1250.0}
