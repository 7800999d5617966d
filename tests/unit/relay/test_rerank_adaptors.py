"""Rerank-capable adaptors without I/O: Cohere and Jina URLs, headers, bodies and usage; rerank usage on the
OpenAI-compatible adaptor (SiliconFlow, Xinference); the local count used when a provider reports no tokens."""

from __future__ import annotations

from typing import Any

import pytest

from clinx.billing import tokens
from clinx.core.enums import ChannelType
from clinx.core.types import ChannelInfo, Usage
from clinx.relay import estimate
from clinx.relay.adaptors.cohere import Cohere
from clinx.relay.adaptors.jina import Jina
from clinx.relay.adaptors.openai_compat import OpenAICompatible, usage_from_openai
from clinx.relay.adaptors.registry import AdaptorRegistry
from clinx.relay.convert.base import Dialect
from clinx.relay.endpoints import Endpoint

RERANK_BODY: dict[str, Any] = {
    "model": "rerank-english-v3.0",
    "query": "capital of France",
    "documents": ["Paris is the capital of France", {"text": "Berlin is in Germany"}],
    "top_n": 1,
    "return_documents": True,
}


def _channel(type_: int, base_url: str = "") -> ChannelInfo:
    return ChannelInfo(id=1, type=type_, name="c", key="k", base_url=base_url, group="default", priority=0, weight=0)


def test_registry_maps_cohere_and_jina_types() -> None:
    registry = AdaptorRegistry("2024-10-21")
    assert isinstance(registry.for_type(ChannelType.COHERE), Cohere)
    assert isinstance(registry.for_type(ChannelType.JINA), Jina)
    for served_by_openai_compatible in (ChannelType.SILICONFLOW, ChannelType.XINFERENCE):
        adaptor = registry.for_type(served_by_openai_compatible)
        assert isinstance(adaptor, OpenAICompatible) and Endpoint.RERANK in adaptor.endpoints


# Cohere


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [
        (Endpoint.CHAT, "/compatibility/v1/chat/completions"),
        (Endpoint.EMBEDDINGS, "/compatibility/v1/embeddings"),
        (Endpoint.RERANK, "/v2/rerank"),
    ],
)
def test_cohere_urls_per_endpoint(endpoint: Endpoint, path: str) -> None:
    cohere = Cohere()
    assert cohere.url(_channel(ChannelType.COHERE), endpoint, "m", False) == "https://api.cohere.ai" + path
    own = _channel(ChannelType.COHERE, "https://cohere.example/")
    assert cohere.url(own, endpoint, "m", True) == "https://cohere.example" + path


def test_cohere_capabilities_and_auth() -> None:
    cohere = Cohere()
    assert cohere.dialects(_channel(ChannelType.COHERE)) == (Dialect.OPENAI_CHAT,)
    assert cohere.endpoints == frozenset({Endpoint.EMBEDDINGS, Endpoint.RERANK})
    assert cohere.headers(_channel(ChannelType.COHERE), "co-key") == {"Authorization": "Bearer co-key"}


def test_cohere_chat_body_never_carries_stream_options() -> None:
    body = {"model": "a", "messages": [], "stream_options": {"include_usage": True}}
    out = Cohere().prepare(body, "command-a-03-2025", stream=True, ask_usage=True)
    assert out == {"model": "command-a-03-2025", "messages": [], "stream": True}
    plain = Cohere().prepare({"model": "a", "messages": [], "stream": False}, "command-r", stream=False, ask_usage=True)
    assert plain == {"model": "command-r", "messages": []}


def test_cohere_rerank_body_is_made_v2_shaped() -> None:
    out = Cohere().prepare_plain(Endpoint.RERANK, dict(RERANK_BODY))
    assert out == {
        "model": "rerank-english-v3.0",
        "query": "capital of France",
        "documents": ["Paris is the capital of France", "Berlin is in Germany"],
        "top_n": 1,
    }
    embeddings = {"model": "embed-v4.0", "input": ["a"], "return_documents": True}
    assert Cohere().prepare_plain(Endpoint.EMBEDDINGS, dict(embeddings)) == embeddings


def test_cohere_usage_from_chat_rerank_and_billed_tokens() -> None:
    cohere = Cohere()
    chat = {"usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}
    assert cohere.usage(chat) == Usage(prompt_tokens=7, completion_tokens=3)
    search_units_only = {"results": [], "meta": {"billed_units": {"search_units": 1}}}
    assert cohere.usage(search_units_only) is None  # the relay then counts the request itself
    billed = {"results": [], "meta": {"billed_units": {"input_tokens": 12, "output_tokens": 0}}}
    assert cohere.usage(billed) == Usage(prompt_tokens=12)


# Jina


def test_jina_urls_capabilities_and_auth() -> None:
    jina, channel = Jina(), _channel(ChannelType.JINA)
    assert jina.url(channel, Endpoint.RERANK, "m", False) == "https://api.jina.ai/v1/rerank"
    assert jina.url(channel, Endpoint.EMBEDDINGS, "m", False) == "https://api.jina.ai/v1/embeddings"
    assert jina.url(_channel(38, "http://jina.local"), Endpoint.RERANK, "m", False) == "http://jina.local/v1/rerank"
    assert jina.dialects(channel) == ()
    assert jina.endpoints == frozenset({Endpoint.EMBEDDINGS, Endpoint.RERANK})
    assert jina.headers(channel, "jina_key") == {"Authorization": "Bearer jina_key"}


def test_jina_total_tokens_are_billed_as_input() -> None:
    assert Jina().usage({"results": [], "usage": {"total_tokens": 42}}) == Usage(prompt_tokens=42)
    embeddings = {"data": [], "usage": {"prompt_tokens": 5, "total_tokens": 5}}
    assert Jina().usage(embeddings) == Usage(prompt_tokens=5)


# OpenAI-compatible hosts (SiliconFlow, Xinference)


@pytest.mark.parametrize("channel_type", [ChannelType.SILICONFLOW, ChannelType.XINFERENCE])
def test_openai_compatible_rerank_url(channel_type: int) -> None:
    channel = _channel(channel_type, "http://host:9997")
    assert OpenAICompatible().url(channel, Endpoint.RERANK, "m", False) == "http://host:9997/v1/rerank"
    assert OpenAICompatible().url(_channel(ChannelType.SILICONFLOW), Endpoint.RERANK, "m", False) == (
        "https://api.siliconflow.cn/v1/rerank"
    )


def test_openai_compatible_reads_rerank_meta_tokens() -> None:
    adaptor = OpenAICompatible()
    siliconflow = {"results": [], "meta": {"tokens": {"input_tokens": 30, "output_tokens": 0}}}
    assert adaptor.usage(siliconflow) == Usage(prompt_tokens=30)
    xinference_without_lengths = {"results": [], "meta": {"api_version": None, "billed_units": None, "tokens": None}}
    assert adaptor.usage(xinference_without_lengths) is None


def test_openai_usage_with_prompt_and_total_keeps_the_difference_as_completion() -> None:
    assert usage_from_openai({"usage": {"prompt_tokens": 4, "total_tokens": 10}}) == Usage(4, 6)
    assert usage_from_openai({"usage": {"total_tokens": 10}}) == Usage(prompt_tokens=10)


# local count


def test_rerank_prompt_is_counted_from_documents_and_query() -> None:
    text = estimate.rerank_text(RERANK_BODY)
    assert text == "Paris is the capital of France\nBerlin is in Germany\ncapital of France"
    expected = tokens.count_text("rerank-english-v3.0", text)
    assert expected > 0
    assert estimate.prompt_tokens(Endpoint.RERANK, "rerank-english-v3.0", RERANK_BODY) == expected
    # The reservation's quick estimate needs no encoding: a byte count that leans high.
    assert estimate.quick_prompt_tokens(Endpoint.RERANK, "rerank-english-v3.0", RERANK_BODY) == len(text) // 3 + 1
    assert estimate.rerank_text({"query": 5, "documents": "nope"}) == ""
