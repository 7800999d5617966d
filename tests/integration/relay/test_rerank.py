"""POST /v1/rerank end to end over Cohere, Jina, SiliconFlow and Xinference channels (answer, what the upstream
received, consume log); Cohere chat and embeddings and Jina embeddings with the openai SDK."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import openai
import orjson
import pytest

from clinx.billing import tokens
from clinx.core.enums import ChannelType
from clinx.relay.estimate import rerank_text
from tests.integration.relay.conftest import HELLO, RATIOS, RelayEnv
from tests.support.mock_openai_payloads import reply_text

RERANK_RATIO = 2.0
COHERE_MODELS = ("rerank-english-v3.0", "command-a-03-2025", "embed-v4.0")
JINA_MODELS = ("jina-reranker-v2-base-multilingual", "jina-embeddings-v3")
SILICONFLOW_MODEL = "BAAI/bge-reranker-v2-m3"
XINFERENCE_MODEL = "bge-reranker-v2-m3"
QUERY = "capital of France"
DOCUMENTS = ["Berlin is the capital of Germany", "Paris is the capital of France", "Bananas are yellow"]


@dataclass
class Channels:
    cohere: int
    jina: int
    siliconflow: int
    xinference: int


@pytest.fixture
async def channels(relay_env: RelayEnv) -> Channels:
    gateway, url = relay_env.gateway, relay_env.mock.base_url
    models = [*COHERE_MODELS, *JINA_MODELS, SILICONFLOW_MODEL, XINFERENCE_MODEL]
    await gateway.set_option("ModelRatio", orjson.dumps({**RATIOS, **dict.fromkeys(models, RERANK_RATIO)}).decode())
    return Channels(
        cohere=await gateway.add_channel("cohere", url, ",".join(COHERE_MODELS), type=ChannelType.COHERE, key="co-up"),
        jina=await gateway.add_channel("jina", url, ",".join(JINA_MODELS), type=ChannelType.JINA, key="jina-up"),
        siliconflow=await gateway.add_channel("sf", url, SILICONFLOW_MODEL, type=ChannelType.SILICONFLOW, key="sf-up"),
        xinference=await gateway.add_channel("xi", url, XINFERENCE_MODEL, type=ChannelType.XINFERENCE, key="xi-up"),
    )


async def _rerank(env: RelayEnv, **body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=env.gateway.base_url, timeout=30) as client:
        return await client.post("/v1/rerank", json=body, headers={"Authorization": f"Bearer {env.key}"})


async def _last_log(env: RelayEnv) -> dict[str, Any]:
    await env.gateway.settle()
    items = (await env.gateway.root.get("/api/log/", params={"type": 2})).json()["data"]["items"]
    assert items, "no consume log written"
    row: dict[str, Any] = items[0]
    return row


def _assert_billed(row: dict[str, Any], model: str, channel: int, prompt: int) -> None:
    assert row["model_name"] == model and row["channel"] == channel
    assert row["prompt_tokens"] == prompt and row["completion_tokens"] == 0
    assert row["quota"] == round(prompt * RERANK_RATIO)


# rerank


async def test_rerank_over_jina_passes_the_answer_through_and_bills_total_tokens(
    relay_env: RelayEnv, channels: Channels
) -> None:
    documents: list[Any] = [DOCUMENTS[0], {"text": DOCUMENTS[1]}, DOCUMENTS[2]]
    response = await _rerank(relay_env, model=JINA_MODELS[0], query=QUERY, documents=documents, top_n=2)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [r["index"] for r in answer["results"]] == [1, 0]
    assert answer["results"][0]["document"] == {"text": DOCUMENTS[1]}
    assert answer["results"][0]["relevance_score"] == 1.0
    total = answer["usage"]["total_tokens"]
    assert total == 3 + 6 + 6 + 3  # the mock's words of query and documents
    sent = relay_env.mock.last
    assert sent.path == "/v1/rerank" and sent.headers["authorization"] == "Bearer jina-up"
    assert sent.json == {"model": JINA_MODELS[0], "query": QUERY, "documents": documents, "top_n": 2}
    _assert_billed(await _last_log(relay_env), JINA_MODELS[0], channels.jina, total)


async def test_rerank_over_cohere_counts_tokens_locally_as_it_reports_search_units(
    relay_env: RelayEnv, channels: Channels
) -> None:
    body = {"model": COHERE_MODELS[0], "query": QUERY, "documents": DOCUMENTS, "top_n": 1}
    response = await _rerank(relay_env, **body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["results"] == [{"index": 1, "relevance_score": 1.0}]
    assert answer["meta"]["billed_units"] == {"search_units": 1}
    sent = relay_env.mock.last
    assert sent.path == "/v2/rerank" and sent.headers["authorization"] == "Bearer co-up"
    assert sent.json == body
    expected = tokens.count_text(COHERE_MODELS[0], rerank_text(body))
    assert expected > 0
    _assert_billed(await _last_log(relay_env), COHERE_MODELS[0], channels.cohere, expected)


async def test_rerank_over_siliconflow_bills_meta_tokens(relay_env: RelayEnv, channels: Channels) -> None:
    response = await _rerank(relay_env, model=SILICONFLOW_MODEL, query=QUERY, documents=DOCUMENTS, top_n=3)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [r["index"] for r in answer["results"]] == [1, 0, 2]
    reported = answer["meta"]["tokens"]["input_tokens"]
    assert reported == 3 + 6 + 6 + 3
    sent = relay_env.mock.last
    assert sent.path == "/v1/rerank" and sent.headers["authorization"] == "Bearer sf-up"
    assert sent.json["model"] == SILICONFLOW_MODEL
    _assert_billed(await _last_log(relay_env), SILICONFLOW_MODEL, channels.siliconflow, reported)


async def test_rerank_over_xinference_uses_reported_lengths_or_counts_locally(
    relay_env: RelayEnv, channels: Channels
) -> None:
    with_lengths = await _rerank(relay_env, model=XINFERENCE_MODEL, query=QUERY, documents=DOCUMENTS, return_len=True)
    assert with_lengths.status_code == 200, with_lengths.text
    reported = with_lengths.json()["meta"]["tokens"]["input_tokens"]
    assert relay_env.mock.last.path == "/v1/rerank"
    assert relay_env.mock.last.headers["authorization"] == "Bearer xi-up"
    _assert_billed(await _last_log(relay_env), XINFERENCE_MODEL, channels.xinference, reported)

    body = {"model": XINFERENCE_MODEL, "query": QUERY, "documents": DOCUMENTS, "return_documents": False}
    without = await _rerank(relay_env, **body)
    assert without.status_code == 200, without.text
    assert without.json()["meta"]["tokens"] is None
    assert all("document" not in r for r in without.json()["results"])
    expected = tokens.count_text(XINFERENCE_MODEL, rerank_text(body))
    _assert_billed(await _last_log(relay_env), XINFERENCE_MODEL, channels.xinference, expected)


async def test_rerank_upstream_error_is_answered_and_refunded(relay_env: RelayEnv, channels: Channels) -> None:
    before = await relay_env.user_quota()
    relay_env.mock.fail_next.append(400)
    response = await _rerank(relay_env, model=JINA_MODELS[0], query=QUERY, documents=DOCUMENTS)
    assert response.status_code == 400
    assert response.json()["error"]["message"]
    await relay_env.gateway.settle()
    assert await relay_env.user_quota() == before


# Cohere chat and embeddings through its OpenAI compatibility API


async def test_cohere_chat_through_the_compatibility_api(relay_env: RelayEnv, channels: Channels) -> None:
    reply = await relay_env.sdk().chat.completions.create(model="command-a-03-2025", messages=HELLO)
    assert reply.choices[0].message.content
    sent = relay_env.mock.last
    assert sent.path == "/compatibility/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer co-up" and sent.json["model"] == "command-a-03-2025"
    row = await _last_log(relay_env)
    assert row["channel"] == channels.cohere
    assert reply.usage is not None
    assert row["prompt_tokens"] == reply.usage.prompt_tokens and row["completion_tokens"] == 20


async def test_cohere_chat_stream_is_sent_without_stream_options(relay_env: RelayEnv, channels: Channels) -> None:
    stream = await relay_env.sdk().chat.completions.create(
        model="command-a-03-2025", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
    assert text == reply_text(20)  # the mock's 20-word reply
    sent = relay_env.mock.last
    assert sent.path == "/compatibility/v1/chat/completions" and sent.json["stream"] is True
    assert "stream_options" not in sent.json
    row = await _last_log(relay_env)
    assert row["channel"] == channels.cohere and row["completion_tokens"] > 0


async def test_cohere_embeddings_through_the_compatibility_api(relay_env: RelayEnv, channels: Channels) -> None:
    result = await relay_env.sdk().embeddings.create(model="embed-v4.0", input=["hello world", "bye"])
    assert len(result.data) == 2 and result.usage.prompt_tokens == 3
    sent = relay_env.mock.last
    assert sent.path == "/compatibility/v1/embeddings" and sent.headers["authorization"] == "Bearer co-up"
    row = await _last_log(relay_env)
    assert row["channel"] == channels.cohere and row["prompt_tokens"] == 3 and row["quota"] == 6


# Jina embeddings, and what it cannot serve


async def test_jina_embeddings(relay_env: RelayEnv, channels: Channels) -> None:
    result = await relay_env.sdk().embeddings.create(model="jina-embeddings-v3", input="hello big world")
    assert len(result.data) == 1 and result.usage.prompt_tokens == 3
    sent = relay_env.mock.last
    assert sent.path == "/v1/embeddings" and sent.headers["authorization"] == "Bearer jina-up"
    row = await _last_log(relay_env)
    assert row["channel"] == channels.jina and row["prompt_tokens"] == 3


async def test_chat_on_a_jina_channel_is_refused_without_calling_upstream(
    relay_env: RelayEnv, channels: Channels
) -> None:
    before = await relay_env.user_quota()
    with pytest.raises(openai.APIStatusError) as err:
        await relay_env.sdk().chat.completions.create(model="jina-embeddings-v3", messages=HELLO)
    assert err.value.status_code == 503 and "chat" in err.value.message
    assert relay_env.mock.received == []
    await relay_env.gateway.settle()
    assert await relay_env.user_quota() == before


async def test_rerank_on_a_channel_type_without_rerank_is_refused(relay_env: RelayEnv, channels: Channels) -> None:
    url = relay_env.mock.base_url
    await relay_env.gateway.add_channel("gemini", url, "gemini-rerank", type=ChannelType.GEMINI, key="g-up")
    await relay_env.gateway.set_option("ModelRatio", orjson.dumps({"gemini-rerank": 1}).decode())
    response = await _rerank(relay_env, model="gemini-rerank", query=QUERY, documents=DOCUMENTS)
    assert response.status_code == 503 and "rerank" in response.json()["error"]["message"]
    assert relay_env.mock.received == []


async def test_cohere_rerank_accepts_text_objects(relay_env: RelayEnv) -> None:
    await relay_env.gateway.set_option("ModelRatio", '{"rerank-v3.5": 0.05}')
    await relay_env.gateway.add_channel("cohere-docs", relay_env.mock.base_url, "rerank-v3.5", type=34, priority=9)
    r = await relay_env.gateway.client.post(
        "/v1/rerank",
        json={"model": "rerank-v3.5", "query": "q", "documents": [{"text": "a"}, {"text": "b"}], "top_n": 1},
        headers={"Authorization": f"Bearer {relay_env.key}"},
    )
    assert r.status_code == 200, r.text
    assert relay_env.mock.last.json["documents"] == ["a", "b"]
