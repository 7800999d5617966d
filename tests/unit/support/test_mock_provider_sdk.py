"""The mock OpenAI provider satisfies the official `openai` SDK's parsers (skipped when the SDK is absent)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.mock_openai_payloads import reply_text, transcript_text
from tests.support.mock_provider import MockProvider

openai = pytest.importorskip("openai")

AUDIO = b"RIFF" + bytes(64000)


@pytest.fixture
async def mock() -> AsyncIterator[MockProvider]:
    async with MockProvider(chunks=4) as provider:
        yield provider


def sdk_client(mock: MockProvider) -> Any:
    return openai.AsyncOpenAI(base_url=f"{mock.base_url}/v1", api_key="sk-test", max_retries=0)


async def test_sdk_chat_and_stream(mock: MockProvider) -> None:
    async with sdk_client(mock) as client:
        messages = [{"role": "user", "content": "hi"}]
        done = await client.chat.completions.create(model="gpt-4o", messages=messages)
        assert done.choices[0].message.content == reply_text(4)
        assert done.usage.prompt_tokens == 4 and done.usage.completion_tokens == 4
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=messages, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == reply_text(4)
        assert chunks[-1].usage.total_tokens == 8


async def test_sdk_embeddings_transcription_and_errors(mock: MockProvider) -> None:
    async with sdk_client(mock) as client:
        # The SDK asks for base64 by default and decodes it back to floats.
        emb = await client.embeddings.create(model="text-embedding-3-small", input="hello world")
        assert len(emb.data[0].embedding) == 8
        transcript = await client.audio.transcriptions.create(model="whisper-1", file=("a.wav", AUDIO))
        assert transcript.text == transcript_text(AUDIO)
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(model="mock-error-429", messages=[{"role": "user", "content": "x"}])
        assert caught.value.code == "rate_limit_exceeded"
        with pytest.raises(openai.AuthenticationError):
            await client.models.list(extra_headers={"Authorization": ""})
