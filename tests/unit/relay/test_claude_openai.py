"""The Claude ⇄ OpenAI Chat bridges: golden outputs read back by the official SDKs, stream edge cases, and
malformed input that must surface as ValidationError only."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Bridge, Dialect, Event, Json
from clinx.relay.convert.registry import bridge

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
CLAUDE_OVER_CHAT = bridge(Dialect.CLAUDE, Dialect.OPENAI_CHAT)
CHAT_OVER_CLAUDE = bridge(Dialect.OPENAI_CHAT, Dialect.CLAUDE)


def _b(found: Bridge | None) -> Bridge:
    assert found is not None
    return found


B1 = _b(CLAUDE_OVER_CHAT)
B2 = _b(CHAT_OVER_CLAUDE)


def _golden(kind: str, folder: str) -> list[Path]:
    return sorted((GOLDEN / kind / folder).glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _transport(body: bytes, content_type: str) -> httpx2.Client:
    """The SDKs' own HTTP client (httpx2) answering every request with ``body``."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": content_type})

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def _sse(raw: list[dict[str, Any]]) -> bytes:
    return b"".join(Event(data=e["data"], name=e["name"]).encode() for e in raw)


def _claude_client(body: bytes, content_type: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="k", base_url="http://test", http_client=_transport(body, content_type))


def _openai_client(body: bytes, content_type: str) -> openai.OpenAI:
    return openai.OpenAI(api_key="k", base_url="http://test/v1", http_client=_transport(body, content_type))


def _run(feed: list[Json | str], machine_factory: Callable[[], Any], name: str | None = None) -> list[Event]:
    machine = machine_factory()
    out: list[Event] = []
    for data in feed:
        out.extend(machine.feed(Event(data=data, name=name)))
    out.extend(machine.finish())
    return out


# --- the official SDKs accept what the bridges produce ---------------------------------------------------


def test_both_bridges_are_registered_with_fidelity_and_losses() -> None:
    for found in (B1, B2):
        assert found.fidelity == "high"
        assert found.lossy


@pytest.mark.parametrize("path", _golden("response", "openai_chat_to_claude"), ids=lambda p: p.stem)
def test_anthropic_sdk_parses_converted_answer(path: Path) -> None:
    case = _load(path)
    message = _claude_client(json.dumps(case["output"]).encode(), "application/json").messages.create(
        model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.id == "msg_" + case["input"]["id"]
    assert message.usage.output_tokens == case["input"].get("usage", {}).get("completion_tokens", 0)


@pytest.mark.parametrize("path", _golden("stream", "openai_chat_to_claude"), ids=lambda p: p.stem)
def test_anthropic_sdk_assembles_converted_stream(path: Path) -> None:
    case = _load(path)
    client = _claude_client(_sse(case["output"]), "text/event-stream")
    stream = client.messages.stream(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    if path.stem == "error_chunk":
        with pytest.raises(anthropic.APIStatusError, match="server had an error"), stream as events:
            events.get_final_message()
        return
    with stream as events:
        final = events.get_final_message()
    chunks = [e["data"] for e in case["input"] if isinstance(e["data"], dict)]
    deltas = [c["choices"][0]["delta"] for c in chunks if c.get("choices")]
    said = "".join(d.get("content") or "" for d in deltas)
    assert "".join(b.text for b in final.content if b.type == "text") == said
    usage = next((c["usage"] for c in chunks if c.get("usage")), None)
    cached = (usage or {}).get("prompt_tokens_details", {}).get("cached_tokens", 0)
    assert final.usage.input_tokens == (usage["prompt_tokens"] - cached if usage else 0)


@pytest.mark.parametrize("path", _golden("response", "claude_to_openai_chat"), ids=lambda p: p.stem)
def test_openai_sdk_parses_converted_answer(path: Path) -> None:
    case = _load(path)
    completion = _openai_client(json.dumps(case["output"]).encode(), "application/json").chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )
    usage = case["input"]["usage"]
    assert completion.usage is not None
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == usage["cache_read_input_tokens"]
    extra = completion.usage.prompt_tokens_details.model_extra or {}
    assert extra["cached_creation_tokens"] == usage["cache_creation_input_tokens"]


@pytest.mark.parametrize("path", _golden("stream", "claude_to_openai_chat"), ids=lambda p: p.stem)
def test_openai_sdk_reads_converted_stream(path: Path) -> None:
    case = _load(path)
    client = _openai_client(_sse(case["output"]), "text/event-stream")
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True)
    if path.stem == "error_event":
        with pytest.raises(openai.APIError, match="Overloaded"):
            list(stream)
        return
    chunks = list(stream)
    said = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    sent = [e["data"].get("delta") or e["data"].get("content_block") or {} for e in case["input"]]
    assert said == "".join(d.get("text", "") for d in sent)
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_openai_sdk_accumulates_tool_call_arguments() -> None:
    case = _load(GOLDEN / "stream" / "claude_to_openai_chat" / "tool_use.json")
    client = _openai_client(_sse(case["output"]), "text/event-stream")
    with client.chat.completions.stream(model="m", messages=[{"role": "user", "content": "hi"}]) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", {"location": "San Francisco, CA"}),
        ("toolu_02", "get_time", {"tz": "PST"}),
    ]
    assert final.choices[0].finish_reason == "tool_calls"


# --- stream edge cases ------------------------------------------------------------------------------------


def _chunk(delta: Json, finish: str | None = None) -> Json:
    return {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_interleaved_parallel_tool_arguments_reach_their_own_block() -> None:
    call = {"type": "function", "function": {"name": "f", "arguments": ""}}
    feed: list[Json | str] = [
        _chunk({"tool_calls": [{"index": 0, "id": "a", **call}]}),
        _chunk({"tool_calls": [{"index": 1, "id": "b", **call}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x":1}'}}]}),
        _chunk({}, "tool_calls"),
        "[DONE]",
    ]
    events = _run(feed, B1.stream)
    deltas = [e.data for e in events if e.name == "content_block_delta"]
    assert deltas == [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": '{"x":1}'}}
    ]


def test_tool_calls_without_index_are_told_apart_by_id() -> None:
    feed: list[Json | str] = [
        _chunk({"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{}"}}]}),
        _chunk({"tool_calls": [{"id": "b", "function": {"name": "g", "arguments": "{}"}}]}),
        "[DONE]",
    ]
    starts = [e.data for e in _run(feed, B1.stream) if e.name == "content_block_start"]
    assert [(s["index"], s["content_block"]["id"]) for s in starts] == [(0, "a"), (1, "b")]  # type: ignore[index]


def test_stream_closes_once_and_ignores_events_after_done() -> None:
    machine = B1.stream()
    machine.feed(Event(data=_chunk({"content": "hi"})))
    closing = machine.feed(Event(data="[DONE]"))
    assert [e.name for e in closing] == ["content_block_stop", "message_delta", "message_stop"]
    assert machine.feed(Event(data=_chunk({"content": "late"}))) == []
    assert machine.finish() == []


def test_empty_upstream_streams_finish_quietly() -> None:
    assert B1.stream().finish() == []
    assert [e.data for e in B2.stream().finish()] == ["[DONE]"]


def test_reasoning_field_spelled_reasoning_opens_a_thinking_block() -> None:
    events = _run([_chunk({"reasoning": "hmm"}), "[DONE]"], B1.stream)
    start = next(e.data for e in events if e.name == "content_block_start")
    assert start["content_block"]["type"] == "thinking"  # type: ignore[index]


def test_claude_done_is_not_repeated_by_finish() -> None:
    machine = B2.stream()
    machine.feed(Event(data={"type": "message_start", "message": {"id": "x", "model": "m"}}, name="message_start"))
    assert machine.feed(Event(data={"type": "message_stop"}, name="message_stop"))[-1].data == "[DONE]"
    assert machine.finish() == []


# --- requests: choices documented in the module -----------------------------------------------------------


def test_thinking_budget_thresholds_map_to_reasoning_effort() -> None:
    def effort(budget: int) -> Any:
        body = {"model": "m", "max_tokens": 9, "messages": [], "thinking": {"type": "enabled", "budget_tokens": budget}}
        return B1.request(body)["reasoning_effort"]

    assert [effort(b) for b in (1024, 1025, 8192, 8193)] == ["low", "medium", "medium", "high"]


def test_reasoning_effort_keeps_max_tokens_above_budget() -> None:
    body = {
        "model": "m",
        "max_tokens": 20000,
        "reasoning_effort": "high",
        "messages": [{"role": "user", "content": "x"}],
    }
    out = B2.request(body)
    assert out["thinking"] == {"type": "enabled", "budget_tokens": 16384} and out["max_tokens"] == 20000


def test_tool_call_round_trip_through_both_requests_keeps_ids_and_inputs() -> None:
    claude = _load(GOLDEN / "request" / "claude_to_openai_chat" / "tools_round_trip.json")["input"]
    back = B2.request(B1.request(claude))
    uses = [b for m in back["messages"] for b in m["content"] if b["type"] == "tool_use"]
    results = [b["tool_use_id"] for m in back["messages"] for b in m["content"] if b["type"] == "tool_result"]
    assert [(u["id"], u["input"]) for u in uses] == [
        ("toolu_01A", {"city": "Paris"}),
        ("toolu_01B", {"tz": "Asia/Tokyo"}),
    ]
    assert results == ["toolu_01A", "toolu_01B"]


def test_usage_survives_a_round_trip_between_dialects() -> None:
    usage = {"input_tokens": 7, "cache_creation_input_tokens": 11, "cache_read_input_tokens": 13, "output_tokens": 17}
    chat = B2.response({"id": "x", "content": [], "stop_reason": "end_turn", "usage": usage})
    assert B1.response(chat)["usage"] == usage


# --- malformed input --------------------------------------------------------------------------------------

BAD_CLAUDE_REQUESTS: list[Any] = [
    [],
    {"messages": "hi"},
    {"messages": [{"role": "system", "content": "x"}]},
    {"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}]},
    {"messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "url", "url": "u"}}]}]},
    {"messages": [{"role": "user", "content": [{"type": "text"}]}]},
    {"messages": [], "thinking": {"type": "enabled", "budget_tokens": "lots"}},
    {"messages": [], "tools": [{"name": "f", "input_schema": "object"}]},
]

BAD_OPENAI_REQUESTS: list[Any] = [
    "body",
    {"messages": None},
    {"messages": [{"role": "function", "content": "x"}]},
    {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}]},
    {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,abc"}}]}]},
    {"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]},
    {"messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "f"}}]}]},
    {"messages": [], "max_tokens": 0},
    {"messages": [], "reasoning_effort": "extreme"},
    {"messages": [], "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": 3},
    {"messages": [{"role": "tool", "content": "x"}]},
]


@pytest.mark.parametrize("body", BAD_CLAUDE_REQUESTS)
def test_malformed_claude_request_is_a_validation_error(body: Any) -> None:
    with pytest.raises(ValidationError):
        B1.request(body)


@pytest.mark.parametrize("body", BAD_OPENAI_REQUESTS)
def test_malformed_openai_request_is_a_validation_error(body: Any) -> None:
    with pytest.raises(ValidationError):
        B2.request(body)


def test_malformed_answers_and_chunks_are_validation_errors() -> None:
    with pytest.raises(ValidationError):
        B1.response({"choices": [{"index": 0, "message": {"tool_calls": [{"function": "f"}]}}]})
    with pytest.raises(ValidationError):
        B2.response({"content": [{"type": "tool_use", "name": 5, "id": "x"}]})
    with pytest.raises(ValidationError, match="stream chunk"):
        B1.stream().feed(Event(data=["not", "an", "object"]))  # type: ignore[arg-type]


FIELDS = [
    "type", "role", "content", "messages", "text", "source", "tool_calls", "function", "arguments", "name", "id",
    "input", "tools", "tool_choice", "choices", "delta", "message", "usage", "system", "thinking", "image_url",
    "url", "index", "tool_call_id", "tool_use_id", "stop", "max_tokens", "reasoning_effort", "content_block",
]  # fmt: skip
WORDS = [
    "", "x", "user", "assistant", "system", "tool", "text", "image", "image_url", "tool_use", "tool_result", "thinking",
    "document", "file", "base64", "url", "function", "enabled", "auto", "any", "required", "high", "[DONE]",
    "data:image/png;base64,AA", "https://x", "message_start", "content_block_start", "input_json_delta", "text_delta",
]  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(WORDS)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_arbitrary_json_raises_nothing_but_validation_error(value: Any) -> None:
    for convert in (B1.request, B1.response, B2.request, B2.response):
        with contextlib.suppress(ValidationError):
            convert(value)
    for factory in (B1.stream, B2.stream):
        machine = factory()
        with contextlib.suppress(ValidationError):
            machine.feed(Event(data=value if isinstance(value, dict) else {"choices": value}))
        machine.finish()
