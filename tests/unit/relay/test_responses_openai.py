"""Edge cases of the Responses ⇄ Chat bridges (the golden files hold the common cases), and every golden output
of these bridges checked against the official openai SDK's models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.chat.completion_create_params import CompletionCreateParamsBase
from openai.types.responses import Response, ResponseStreamEvent
from openai.types.responses.response_create_params import ResponseCreateParamsBase
from pydantic import TypeAdapter

from clinx.core.errors import UpstreamError, ValidationError
from clinx.relay.convert.base import Bridge, Dialect, Event, Json, StreamBridge
from clinx.relay.convert.registry import bridge


def _bridge(client: Dialect, upstream: Dialect) -> Bridge:
    found = bridge(client, upstream)
    assert found is not None
    return found


RESPONSES = _bridge(Dialect.OPENAI_RESPONSES, Dialect.OPENAI_CHAT)  # Responses client, Chat upstream
CHAT = _bridge(Dialect.OPENAI_CHAT, Dialect.OPENAI_RESPONSES)  # Chat client, Responses upstream
GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def _run(machine: StreamBridge, events: list[Event]) -> list[Event]:
    out: list[Event] = []
    for event in events:
        out += machine.feed(event)
    return out + machine.finish()


def _chunk(delta: Json, finish: str | None = None, index: int = 0) -> Event:
    choice = {"index": index, "delta": delta, "finish_reason": finish}
    return Event({"id": "c1", "object": "chat.completion.chunk", "created": 5, "model": "m", "choices": [choice]})


def _data(event: Event) -> Json:
    assert isinstance(event.data, dict)
    return event.data


def _types(events: list[Event]) -> list[str]:
    return [e.data["type"] if isinstance(e.data, dict) else e.data for e in events]


# --- Responses client over a Chat upstream: request --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ([], "request body"),
        ({"input": 3}, "input must be an array"),
        ({"input": []}, "input is empty"),
        ({"input": "hi", "previous_response_id": "resp_1"}, "previous_response_id"),
        ({"input": "hi", "conversation": "conv_1"}, "conversation"),
        ({"input": "hi", "background": True}, "background"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "item_reference"),
        ({"input": [{"type": "hologram"}]}, "not a supported input item"),
        ({"input": [{"role": "tool", "content": "x"}]}, "role must be"),
        ({"input": [{"role": ["user"], "content": "x"}]}, "role must be"),
        ({"input": [{"type": "function_call", "name": "f"}]}, "call_id and name"),
        ({"input": [{"type": "function_call_output", "output": "x"}]}, "needs call_id"),
        ({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}]}, "image_url"),
        ({"input": [{"role": "user", "content": [{"type": "input_video"}]}]}, "not a supported content part"),
        ({"input": [{"role": "user", "content": [{"type": "input_file", "file_url": "https://x"}]}]}, "file_url"),
        ({"input": [{"role": "system", "content": [{"type": "input_image", "image_url": "u"}]}]}, "only text"),
        ({"input": "hi", "text": {"format": {"type": "yaml"}}}, "text.format.type"),
        ({"input": "hi", "tools": [{"type": "function"}]}, "needs a name"),
        ({"input": "hi", "reasoning": "high"}, "reasoning must be a JSON object"),
    ],
)
def test_responses_request_refuses_what_it_cannot_carry(body: Any, needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        RESPONSES.request(body)


def test_reasoning_before_a_call_opens_its_own_assistant_message() -> None:
    out = RESPONSES.request(
        {
            "input": [
                {"role": "user", "content": "go"},
                {"type": "message", "role": "assistant", "content": "Thinking aloud."},
                {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "need data"}]},
                {"type": "function_call", "call_id": "c1", "name": "f"},
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "left over"}]},
            ]
        }
    )
    assert out["messages"][1:] == [
        {"role": "assistant", "content": "Thinking aloud."},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "need data",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
    ]


def test_builtin_tool_choice_is_dropped_but_function_tools_stay() -> None:
    tools = [{"type": "function", "name": "f"}, {"type": "file_search"}]
    out = RESPONSES.request(
        {"input": "x", "tools": tools, "tool_choice": {"type": "file_search"}, "parallel_tool_calls": False}
    )
    assert out["tools"] == [{"type": "function", "function": {"name": "f"}}]
    assert "tool_choice" not in out and out["parallel_tool_calls"] is False
    allowed = {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "f"}]}
    assert RESPONSES.request({"input": "x", "tools": tools, "tool_choice": allowed})["tool_choice"] == "required"


def test_tool_output_with_an_image_keeps_parts() -> None:
    output = [{"type": "input_text", "text": "see"}, {"type": "input_image", "image_url": "https://i/p.png"}]
    out = RESPONSES.request({"input": [{"type": "function_call_output", "call_id": "c", "output": output}]})
    assert out["messages"][0]["content"] == [
        {"type": "text", "text": "see"},
        {"type": "image_url", "image_url": {"url": "https://i/p.png"}},
    ]


# --- Responses client over a Chat upstream: answers and streams --------------------------------------------


def test_responses_answer_needs_choices() -> None:
    with pytest.raises(ValidationError, match="no choices"):
        RESPONSES.response({"id": "x", "choices": []})
    with pytest.raises(ValidationError):
        RESPONSES.response({"id": "x", "choices": [{"message": {"tool_calls": "nope"}}]})


def test_responses_answer_reads_openrouter_reasoning_and_names_calls_without_ids() -> None:
    message = {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "reasoning": "why"}
    message["tool_calls"] = [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]
    out = RESPONSES.response({"id": "x", "choices": [{"message": message, "finish_reason": "tool_calls"}]})
    assert [item["type"] for item in out["output"]] == ["reasoning", "message", "function_call"]
    assert out["output"][1]["content"][0]["text"] == "ab"
    assert out["output"][2]["call_id"] == "call_x_0" and out["output"][2]["id"] == "fc_call_x_0"


def test_responses_stream_numbers_events_from_zero_and_ends_once() -> None:
    machine = RESPONSES.stream()
    out = _run(machine, [_chunk({"content": "a"}), _chunk({}, "stop"), Event("[DONE]")])
    assert [_data(e)["sequence_number"] for e in out] == list(range(len(out)))
    assert all(isinstance(e.data, dict) and e.name == e.data["type"] for e in out)
    assert _types(out)[-1] == "response.completed"
    assert machine.feed(_chunk({"content": "late"})) == [] and machine.finish() == []


def test_responses_stream_with_no_input_still_opens_and_closes() -> None:
    assert _types(RESPONSES.stream().finish()) == ["response.created", "response.in_progress", "response.incomplete"]


def test_responses_stream_switching_kinds_opens_new_items_with_distinct_ids() -> None:
    events = [
        _chunk({"content": "a"}),
        _chunk({"reasoning_content": "r"}),
        _chunk({"content": "b"}),
        _chunk({}, "stop"),
    ]
    out = _run(RESPONSES.stream(), events)
    final = _data(out[-1])["response"]
    assert [(i["type"], i["id"]) for i in final["output"]] == [
        ("message", "msg_c1"),
        ("reasoning", "rs_c1"),
        ("message", "msg_c1_1"),
    ]
    assert final["status"] == "completed" and all(i.get("status", "completed") == "completed" for i in final["output"])


def test_responses_stream_refusal_and_second_choice() -> None:
    out = _run(RESPONSES.stream(), [_chunk({"refusal": "no"}), _chunk({"content": "other"}, index=1)])
    assert "response.refusal.delta" in _types(out) and "response.output_text.delta" not in _types(out)
    assert _data(out[-1])["response"]["output"][0]["content"] == [{"type": "refusal", "refusal": "no"}]


def test_responses_stream_tool_calls_without_index() -> None:
    calls = [
        _chunk({"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{"}}]}),
        _chunk({"tool_calls": [{"function": {"arguments": "}"}}]}),
        _chunk({"tool_calls": [{"id": "b", "function": {"name": "g", "arguments": "{}"}}]}),
    ]
    final = _data(_run(RESPONSES.stream(), [*calls, _chunk({}, "tool_calls")])[-1])["response"]
    assert [(i["call_id"], i["arguments"]) for i in final["output"]] == [("a", "{}"), ("b", "{}")]


def test_responses_stream_malformed_chunk_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        RESPONSES.stream().feed(Event({"id": "c", "choices": {"0": {}}}))


# --- Chat client over a Responses upstream -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"messages": []}, "must not be empty"),
        ({"messages": [{"role": "user", "content": "x"}], "n": 2}, "n greater than 1"),
        ({"messages": [{"role": "user", "content": "x"}], "functions": [{"name": "f"}]}, "legacy"),
        ({"messages": [{"role": "function", "name": "f", "content": "x"}]}, "role must be"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "tool_call_id"),
        ({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]}]}, "needs id"),
        ({"messages": [{"role": "user", "content": [{"type": "video_url"}]}]}, "not a supported content part"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}, "url is required"),
        ({"messages": [{"role": "system", "content": [{"type": "image_url"}]}]}, "only text"),
        ({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "xml"}}, "response_format"),
    ],
)
def test_chat_request_refuses_what_it_cannot_carry(body: Json, needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        CHAT.request(body)


def test_chat_request_tools_get_responses_defaults_and_custom_tools_drop() -> None:
    tools = [{"type": "function", "function": {"name": "f"}}, {"type": "custom", "custom": {"name": "g"}}]
    out = CHAT.request({"messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": "auto"})
    assert out["tools"] == [
        {"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}, "strict": False}
    ]
    assert out["tool_choice"] == "auto"
    only_custom = CHAT.request(
        {"messages": [{"role": "user", "content": "x"}], "tools": tools[1:], "tool_choice": "auto"}
    )
    assert "tools" not in only_custom and "tool_choice" not in only_custom


def test_chat_answer_of_a_failed_response_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamError, match="overloaded"):
        CHAT.response({"id": "resp_1", "status": "failed", "error": {"code": "server_error", "message": "overloaded"}})
    with pytest.raises(ValidationError):
        CHAT.response({"id": "resp_1", "status": "completed", "output": {"type": "message"}})


def test_chat_stream_ignores_what_follows_the_end() -> None:
    machine = CHAT.stream()
    out = machine.feed(Event({"type": "response.completed", "response": {"status": "completed"}}))
    assert out[-1].data == "[DONE]" and _data(out[-2])["usage"]["total_tokens"] == 0
    assert machine.feed(Event({"type": "response.output_text.delta", "delta": "x"})) == [] and machine.finish() == []
    assert [e.data for e in CHAT.stream().finish()] == ["[DONE]"]


def test_chat_stream_reads_event_names_raw_reasoning_and_whole_arguments() -> None:
    item = {"id": "fc", "type": "function_call", "call_id": "c", "name": "f", "arguments": '{"a":1}'}
    events = [
        Event({"delta": "r"}, "response.reasoning_text.delta"),
        Event({"type": "response.refusal.delta", "item_id": "m", "content_index": 0, "delta": "no"}),
        Event({"type": "response.output_item.added", "output_index": 1, "item": item}),
        Event({"type": "response.function_call_arguments.delta", "item_id": "other", "delta": "x"}),
        Event({"type": "response.function_call_arguments.done", "output_index": 1, "arguments": '{"a":1}'}),
        Event("[DONE]"),
    ]
    deltas = [_data(e)["choices"][0]["delta"] for e in _run(CHAT.stream(), events)[:-1]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"reasoning_content": "r"},
        {"refusal": "no"},
        {"tool_calls": [{"index": 0, "id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"a":1}'}}]},
    ]


def test_a_chat_conversation_survives_the_trip_through_responses_and_back() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "u"}}]},
        {"role": "assistant", "content": "Checking.", "tool_calls": [_call("c1", "f"), _call("c2", "g")]},
        {"role": "tool", "tool_call_id": "c1", "content": "1"},
        {"role": "tool", "tool_call_id": "c2", "content": "2"},
        {"role": "assistant", "content": "Done."},
    ]
    back = RESPONSES.request(CHAT.request({"model": "m", "messages": messages}))["messages"]
    assert back[:1] + back[2:] == messages[:1] + messages[2:]
    assert back[1]["content"][1] == {"type": "image_url", "image_url": {"url": "u", "detail": "auto"}}


def _call(call_id: str, name: str) -> Json:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}


# --- the goldens of both bridges, read by the official SDK --------------------------------------------------

_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "request/openai_responses_to_openai_chat": TypeAdapter(CompletionCreateParamsBase),
    "request/openai_chat_to_openai_responses": TypeAdapter(ResponseCreateParamsBase),
    "response/openai_chat_to_openai_responses": TypeAdapter(Response),
    "response/openai_responses_to_openai_chat": TypeAdapter(ChatCompletion),
    "stream/openai_chat_to_openai_responses": TypeAdapter(ResponseStreamEvent),
    "stream/openai_responses_to_openai_chat": TypeAdapter(ChatCompletionChunk),
}


@pytest.mark.parametrize("path", sorted(p for d in _ADAPTERS for p in (GOLDEN / d).glob("*.json")), ids=str)
def test_golden_outputs_parse_with_the_openai_sdk(path: Path) -> None:
    adapter = _ADAPTERS[f"{path.parent.parent.name}/{path.parent.name}"]
    output = json.loads(path.read_text())["output"]
    for item in output if isinstance(output, list) else [output]:
        data = item["data"] if path.parent.parent.name == "stream" else item
        if data == "[DONE]" or "error" in data:
            continue
        adapter.validate_python(data)
