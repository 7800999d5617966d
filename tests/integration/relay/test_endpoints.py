"""The rest of the OpenAI surface through the gateway with the openai SDK: each answered and billed."""

from __future__ import annotations

from typing import Any

import orjson

from tests.integration.relay.conftest import RelayEnv


async def _last_log(env: RelayEnv) -> dict[str, Any]:
    await env.gateway.settle()
    items = (await env.gateway.root.get("/api/log/", params={"type": 2})).json()["data"]["items"]
    assert items, "no consume log written"
    row: dict[str, Any] = items[0]
    return row


async def test_embeddings(relay_env: RelayEnv) -> None:
    result = await relay_env.sdk().embeddings.create(model="text-embedding-3-small", input=["hello world", "bye"])
    assert len(result.data) == 2 and len(result.data[0].embedding) > 0
    assert relay_env.mock.last.path == "/v1/embeddings"
    row = await _last_log(relay_env)
    assert row["model_name"] == "text-embedding-3-small"
    assert row["prompt_tokens"] == result.usage.prompt_tokens
    assert row["quota"] == max(1, round(result.usage.prompt_tokens * 0.01))


async def test_legacy_completions_stream_and_non_stream(relay_env: RelayEnv) -> None:
    reply = await relay_env.sdk().completions.create(model="gpt-3.5-turbo-instruct", prompt="Say this is a test")
    assert reply.choices[0].text
    stream = await relay_env.sdk().completions.create(model="gpt-3.5-turbo-instruct", prompt="again", stream=True)
    texts = [c.choices[0].text async for c in stream if c.choices]
    assert "".join(texts)
    await relay_env.gateway.settle()
    total = (await relay_env.gateway.root.get("/api/log/", params={"type": 2})).json()["data"]["total"]
    assert total == 2


async def test_image_generation_is_priced_per_call_times_n(relay_env: RelayEnv) -> None:
    result = await relay_env.sdk().images.generate(model="dall-e-3", prompt="a cat", n=1, size="1024x1024")
    assert result.data
    row = await _last_log(relay_env)
    assert row["quota"] == 20_000  # $0.04 per image
    other = orjson.loads(row["other"])
    assert other["model_price"] == 0.04
    await relay_env.sdk().images.generate(model="dall-e-3", prompt="cats", n=2, size="1792x1024", quality="hd")
    assert (await _last_log(relay_env))["quota"] == 20_000 * 2 * 2 * 1.5


async def test_speech_returns_audio_and_bills_characters(relay_env: RelayEnv) -> None:
    response = await relay_env.sdk().audio.speech.create(model="tts-1", voice="alloy", input="Hello there")
    audio = response.read()
    assert len(audio) > 0
    row = await _last_log(relay_env)
    assert row["prompt_tokens"] == len("Hello there")
    assert row["quota"] == 83  # 11 characters × 7.5, rounded half up


async def test_transcription_multipart(relay_env: RelayEnv) -> None:
    result = await relay_env.sdk().audio.transcriptions.create(
        model="whisper-1", file=("a.mp3", b"ID3fakeaudio", "audio/mpeg")
    )
    assert result.text
    sent = relay_env.mock.last
    assert sent.path == "/v1/audio/transcriptions" and sent.form["model"] == "whisper-1"
    assert sent.files["file"].data == b"ID3fakeaudio"
    row = await _last_log(relay_env)
    assert row["model_name"] == "whisper-1" and row["quota"] > 0


async def test_moderations(relay_env: RelayEnv) -> None:
    result = await relay_env.sdk().moderations.create(model="omni-moderation-latest", input="I love cats")
    assert result.results
    row = await _last_log(relay_env)
    assert row["model_name"] == "omni-moderation-latest"


async def test_model_mapping_sends_upstream_name_and_bills_requested(relay_env: RelayEnv) -> None:
    channel = (await relay_env.gateway.root.get(f"/api/channel/{relay_env.channel_id}")).json()["data"]
    channel["model_mapping"] = '{"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}'
    assert (await relay_env.gateway.root.put("/api/channel/", json=channel)).json()["success"]
    await relay_env.sdk().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert relay_env.mock.last.json["model"] == "gpt-4o-mini-2024-07-18"
    row = await _last_log(relay_env)
    assert row["model_name"] == "gpt-4o-mini"
    other = orjson.loads(row["other"])
    assert other["is_model_mapped"] is True and other["upstream_model_name"] == "gpt-4o-mini-2024-07-18"


async def test_channel_overrides_and_system_prompt(relay_env: RelayEnv) -> None:
    channel = (await relay_env.gateway.root.get(f"/api/channel/{relay_env.channel_id}")).json()["data"]
    channel["param_override"] = '{"temperature": 0.1}'
    channel["header_override"] = '{"X-Team": "blue"}'
    channel["setting"] = '{"system_prompt": "Be brief."}'
    assert (await relay_env.gateway.root.put("/api/channel/", json=channel)).json()["success"]
    await relay_env.sdk().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    sent = relay_env.mock.last
    assert sent.json["temperature"] == 0.1
    assert sent.headers["x-team"] == "blue"
    assert sent.json["messages"][0] == {"role": "system", "content": "Be brief."}


async def test_gizmo_models_priced_as_one_family(relay_env: RelayEnv) -> None:
    await relay_env.gateway.add_channel("gizmo", relay_env.mock.base_url, "gpt-4-gizmo-*")
    await relay_env.sdk().chat.completions.create(
        model="gpt-4-gizmo-g-abc123", messages=[{"role": "user", "content": "x"}]
    )
    row = await _last_log(relay_env)
    assert row["quota"] == 50_000  # ModelPrice gpt-4-gizmo-* = $0.1 per call
