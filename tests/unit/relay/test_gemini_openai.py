"""Edge cases of the Gemini ⇄ OpenAI Chat bridges that the golden files do not pin down."""

from __future__ import annotations

from typing import Any

import pytest

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.convert.gemini_openai_schema import from_gemini_schema, to_gemini_schema
from clinx.relay.convert.gemini_openai_to_gemini_request import guess_mime, openai_request_to_gemini
from clinx.relay.convert.gemini_openai_to_gemini_response import openai_response_to_gemini
from clinx.relay.convert.gemini_openai_to_gemini_stream import OpenAIToGeminiStream
from clinx.relay.convert.gemini_openai_to_openai_request import gemini_request_to_openai
from clinx.relay.convert.gemini_openai_to_openai_response import gemini_response_to_openai
from clinx.relay.convert.gemini_openai_to_openai_stream import GeminiToOpenAIStream
from clinx.relay.convert.registry import bridge


def _user(text: str) -> Json:
    return {"role": "user", "parts": [{"text": text}]}


def _chunk(delta: Json, finish: str | None = None, index: int = 0) -> Event:
    return Event({"id": "c1", "model": "m", "choices": [{"index": index, "delta": delta, "finish_reason": finish}]})


def _run(machine: Any, events: list[Event]) -> list[Any]:
    out: list[Event] = []
    for event in events:
        out.extend(machine.feed(event))
    out.extend(machine.finish())
    return [e.data for e in out]


def test_both_bridges_are_registered_with_their_fidelity() -> None:
    for client, upstream in ((Dialect.GEMINI, Dialect.OPENAI_CHAT), (Dialect.OPENAI_CHAT, Dialect.GEMINI)):
        found = bridge(client, upstream)
        assert found is not None
        assert found.fidelity == "high"
        assert found.lossy


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"contents": {"role": "user"}}, "contents must be a JSON array"),
        ({"contents": ["hello"]}, "contents[0] must be a JSON object"),
        ({"contents": [{"role": "user", "parts": "hi"}]}, "contents[0].parts must be a JSON array"),
        ({"contents": [{"role": "model", "parts": [{"functionCall": {"name": "f", "args": [1]}}]}]}, "args"),
        ({"contents": [_user("x")], "generationConfig": {"thinkingConfig": {"thinkingBudget": "lots"}}}, "integer"),
        ({"contents": [_user("x")], "tools": [{"functionDeclarations": {"name": "f"}}]}, "functionDeclarations"),
    ],
)
def test_malformed_gemini_requests_raise_validation_errors(body: Json, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        gemini_request_to_openai(body)
    assert message in err.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": "hi"}, "messages must be a JSON array"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "is not one of"),
        ({"messages": [{"role": "user", "content": 5}]}, "content must be a JSON array"),
        (
            {
                "messages": [
                    {"role": "assistant", "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{"}}]}
                ]
            },
            "is not valid JSON",
        ),
        (
            {
                "messages": [
                    {"role": "assistant", "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "[]"}}]}
                ]
            },
            "must encode a JSON object",
        ),
        ({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}, "does not match a tool call"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,AAA"}}]}
                ]
            },
            "base64 data URL",
        ),
        ({"messages": [], "tools": [{"type": "function", "function": {"description": "no name"}}]}, "name is required"),
    ],
)
def test_malformed_openai_requests_raise_validation_errors(body: Json, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        openai_request_to_gemini(body)
    assert message in err.value.message


@pytest.mark.parametrize(
    ("budget", "effort"),
    [(0, "none"), (1, "low"), (1024, "low"), (1025, "medium"), (8192, "medium"), (8193, "high"), (32768, "high")],
)
def test_thinking_budget_bands_become_reasoning_effort(budget: int, effort: str) -> None:
    body = {"contents": [_user("x")], "generationConfig": {"thinkingConfig": {"thinkingBudget": budget}}}
    assert gemini_request_to_openai(body)["reasoning_effort"] == effort


def test_dynamic_thinking_budget_and_unknown_level_leave_the_upstream_default() -> None:
    for thinking in (
        {"thinkingBudget": -1},
        {"thinkingLevel": "THINKING_LEVEL_UNSPECIFIED"},
        {"includeThoughts": True},
    ):
        body = {"contents": [_user("x")], "generationConfig": {"thinkingConfig": thinking}}
        assert "reasoning_effort" not in gemini_request_to_openai(body)


@pytest.mark.parametrize(
    ("effort", "thinking"),
    [
        ("none", {"thinkingBudget": 0}),
        ("minimal", {"thinkingBudget": 512, "includeThoughts": True}),
        ("low", {"thinkingBudget": 1024, "includeThoughts": True}),
        ("medium", {"thinkingBudget": 8192, "includeThoughts": True}),
        ("high", {"thinkingBudget": 24576, "includeThoughts": True}),
    ],
)
def test_reasoning_effort_becomes_a_thinking_budget(effort: str, thinking: Json) -> None:
    body = {"messages": [{"role": "user", "content": "x"}], "reasoning_effort": effort}
    assert openai_request_to_gemini(body)["generationConfig"]["thinkingConfig"] == thinking


def test_a_function_response_without_a_pending_call_gets_a_fresh_id() -> None:
    body = {
        "contents": [
            _user("x"),
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"late": True}}}]},
        ]
    }
    tools = [m["tool_call_id"] for m in gemini_request_to_openai(body)["messages"] if m["role"] == "tool"]
    assert tools == ["call_f_0", "call_f_1"]


def test_tool_call_ids_survive_a_round_trip_through_a_gemini_client() -> None:
    answer = {
        "id": "chatcmpl-1",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "call_up", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    model_turn = openai_response_to_gemini(answer)["candidates"][0]["content"]
    history = {
        "contents": [
            _user("x"),
            model_turn,
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
        ]
    }
    messages = gemini_request_to_openai(history)["messages"]
    assert messages[1]["tool_calls"][0]["id"] == "call_up"
    assert messages[2] == {"role": "tool", "tool_call_id": "call_up", "content": "{}"}


def test_tool_results_find_their_function_name_through_an_openai_client() -> None:
    answer = {
        "candidates": [
            {"content": {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"q": 1}}}]}}
        ],
        "responseId": "r1",
    }
    message = gemini_response_to_openai(answer)["choices"][0]["message"]
    call = message["tool_calls"][0]
    history = {
        "messages": [
            {"role": "user", "content": "x"},
            message,
            {"role": "tool", "tool_call_id": call["id"], "content": "not json"},
        ]
    }
    contents = openai_request_to_gemini(history)["contents"]
    assert call["id"] == "call_r1_0"
    assert contents[2]["parts"] == [{"functionResponse": {"name": "lookup", "response": {"content": "not json"}}}]


def test_dummy_signature_only_for_gemini_3_calls_without_one() -> None:
    def call_parts(model: str, extra: Json) -> list[Json]:
        call = {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}, **extra}
        body = {
            "model": model,
            "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call]}],
        }
        parts: list[Json] = openai_request_to_gemini(body)["contents"][1]["parts"]
        return parts

    assert call_parts("gemini-3-flash-preview", {})[0]["thoughtSignature"] == "skip_thought_signature_validator"
    assert "thoughtSignature" not in call_parts("gemini-2.5-flash", {})[0]
    real = {"extra_content": {"google": {"thought_signature": "sig"}}}
    assert call_parts("gemini-3-flash-preview", real)[0]["thoughtSignature"] == "sig"


def test_empty_or_whitespace_arguments_are_an_empty_object() -> None:
    call = {"id": "a", "type": "function", "function": {"name": "f", "arguments": "  "}}
    body = {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call]}]}
    assert openai_request_to_gemini(body)["contents"][1]["parts"][0]["functionCall"]["args"] == {}


def test_guess_mime_from_url_extension() -> None:
    assert guess_mime("https://x.test/a/b.PNG?sig=1#top") == "image/png"
    assert guess_mime("https://x.test/doc.pdf") == "application/pdf"
    assert guess_mime("https://x.test/v1.2/render") == "image/jpeg"


def test_recursive_refs_stop_instead_of_looping() -> None:
    schema = {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/Node"}},
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "left": {"$ref": "#/$defs/Node"},
                    "right": {"$ref": "#/$defs/Node"},
                    "v": {"type": "string"},
                },
            }
        },
    }
    root = to_gemini_schema(schema)["properties"]["root"]
    assert root["properties"]["v"] == {"type": "STRING"}
    assert root["properties"]["left"] == {}


def test_schema_budget_bounds_references_that_multiply() -> None:
    defs = {
        f"D{i}": {
            "type": "object",
            "properties": {"a": {"$ref": f"#/$defs/D{i + 1}"}, "b": {"$ref": f"#/$defs/D{i + 1}"}},
        }
        for i in range(30)
    }
    converted = to_gemini_schema({"$ref": "#/$defs/D0", "$defs": defs})

    def size(node: Any) -> int:
        return 1 + sum(size(v) for v in node.get("properties", {}).values()) if isinstance(node, dict) else 0

    assert size(converted) < 2100


def test_nullable_gemini_schemas_become_json_schema_type_lists() -> None:
    assert from_gemini_schema({"type": "STRING", "enum": ["a"], "nullable": True}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    assert from_gemini_schema({"anyOf": [{"type": "INTEGER"}], "nullable": True}) == {
        "anyOf": [{"type": "integer"}, {"type": "null"}]
    }


def test_openai_stream_with_two_choices_and_usage_on_the_finishing_chunk() -> None:
    events = [
        _chunk({"content": "A"}, index=0),
        _chunk({"content": "B"}, index=1),
        _chunk({}, "stop", index=0),
        Event(
            {
                "id": "c1",
                "model": "m",
                "choices": [{"index": 1, "delta": {}, "finish_reason": "length"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            }
        ),
        Event("[DONE]"),
    ]
    out = _run(OpenAIToGeminiStream(), events)
    assert len(out) == 3
    final = out[-1]
    assert [(c["index"], c["finishReason"]) for c in final["candidates"]] == [(0, "STOP"), (1, "MAX_TOKENS")]
    assert final["usageMetadata"] == {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}
    assert "[DONE]" not in out


def test_openai_stream_with_usage_on_every_chunk_waits_for_every_choice() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    events = [
        Event({"choices": [{"index": 0, "delta": {"content": "A"}, "finish_reason": None}], "usage": usage}),
        Event({"choices": [{"index": 1, "delta": {"content": "B"}, "finish_reason": None}], "usage": usage}),
        Event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage}),
        Event({"choices": [{"index": 1, "delta": {"content": "C"}, "finish_reason": None}], "usage": usage}),
        Event({"choices": [{"index": 1, "delta": {}, "finish_reason": "stop"}], "usage": usage}),
    ]
    out = _run(OpenAIToGeminiStream(), events)
    texts = [p["text"] for chunk in out for c in chunk["candidates"] for p in c["content"]["parts"]]
    assert texts == ["A", "B", "C", "", ""]
    assert [c["finishReason"] for c in out[-1]["candidates"]] == ["STOP", "STOP"]


def test_openai_stream_repeated_names_are_not_appended_and_bad_arguments_are_kept() -> None:
    events = [
        _chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": '{"x"'}}]}),
        _chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": ":1"}}]}),
        _chunk({}, "tool_calls"),
    ]
    out = _run(OpenAIToGeminiStream(), events)
    assert out[-1]["candidates"][0]["content"]["parts"] == [
        {"functionCall": {"id": "a", "name": "f", "args": {"_raw_arguments": '{"x":1'}}}
    ]


def test_openai_stream_finish_is_idempotent_and_errors_are_translated() -> None:
    machine = OpenAIToGeminiStream()
    error = machine.feed(Event({"error": {"message": "overloaded", "type": "server_error"}}))
    assert error[0].data == {"error": {"code": 500, "message": "overloaded", "status": "INTERNAL"}}
    machine.feed(_chunk({"content": "x"}, "stop"))
    assert len(machine.finish()) == 1
    assert machine.finish() == []
    assert machine.feed(_chunk({"content": "late"})) == []


def test_gemini_stream_without_usage_still_ends_with_done_once() -> None:
    machine = GeminiToOpenAIStream()
    assert machine.finish() == [Event("[DONE]")]
    assert machine.finish() == []


def test_gemini_stream_gives_each_candidate_its_role_chunk_and_tool_indexes() -> None:
    call = {"functionCall": {"name": "f", "args": {}}}
    chunk = {
        "candidates": [
            {"index": 0, "content": {"role": "model", "parts": [call, call]}, "finishReason": "STOP"},
            {"index": 1, "content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"},
        ],
        "responseId": "r",
    }
    out = _run(GeminiToOpenAIStream(), [Event(chunk)])
    deltas = [(d["choices"][0]["index"], d["choices"][0]["delta"], d["choices"][0]["finish_reason"]) for d in out[:-1]]
    assert deltas[0] == (0, {"role": "assistant", "content": ""}, None)
    assert [d[1]["tool_calls"][0]["index"] for d in deltas[1:3]] == [0, 1]
    assert deltas[3] == (0, {}, "tool_calls")
    assert deltas[4:] == [
        (1, {"role": "assistant", "content": ""}, None),
        (1, {"content": "hi"}, None),
        (1, {}, "stop"),
    ]
    assert out[-1] == "[DONE]"


def test_gemini_stream_errors_become_openai_error_objects() -> None:
    out = GeminiToOpenAIStream().feed(
        Event({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})
    )
    assert out[0].data == {"error": {"message": "quota", "type": "upstream_error", "code": "RESOURCE_EXHAUSTED"}}


def test_gemini_response_finish_reasons_are_mapped_explicitly() -> None:
    def finish(reason: str) -> str:
        answer = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]}
        result: str = gemini_response_to_openai(answer)["choices"][0]["finish_reason"]
        return result

    assert finish("RECITATION") == "content_filter"
    assert finish("SPII") == "content_filter"
    assert finish("MALFORMED_FUNCTION_CALL") == "stop"
    assert finish("SOMETHING_NEW") == "stop"


def test_unknown_openai_finish_reason_becomes_other() -> None:
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "weird"}]}
    assert openai_response_to_gemini(answer)["candidates"][0]["finishReason"] == "OTHER"
