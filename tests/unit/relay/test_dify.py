"""The OpenAI Chat → Dify bridge and the Dify adaptor: edge cases the golden files do not pin down, the stream
folding for non-stream clients (``aggregate``), usage from every place Dify reports it, URLs by app kind."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from clinx.core.enums import ChannelType
from clinx.core.errors import UpstreamError, ValidationError
from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors.dify import Dify
from clinx.relay.adaptors.registry import AdaptorRegistry
from clinx.relay.convert.base import Dialect, Event, Json
from clinx.relay.convert.dify_openai_common import fold_usage, outputs_text
from clinx.relay.convert.dify_openai_request import inline_images, openai_request_to_dify
from clinx.relay.convert.dify_openai_response import aggregate, dify_response_to_openai
from clinx.relay.convert.dify_openai_stream import DifyToOpenAIStream
from clinx.relay.convert.registry import bridge
from clinx.relay.endpoints import Endpoint
from clinx.relay.errors import RelayUpstreamError

PIXEL = base64.b64encode(b"\x89PNG fake").decode()


def _channel(other: str = "", base_url: str = "") -> ChannelInfo:
    return ChannelInfo(
        id=1, type=37, name="d", key="app-1", base_url=base_url, group="default", priority=0, weight=0, other=other
    )


def _message(answer: str, mid: str = "m1") -> Event:
    return Event({"event": "message", "message_id": mid, "conversation_id": "c1", "answer": answer, "created_at": 7})


def _end(prompt: int = 5, completion: int = 2) -> Event:
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return Event({"event": "message_end", "message_id": "m1", "conversation_id": "c1", "metadata": {"usage": usage}})


def _node(node_type: str, usage: Json | None = None) -> Event:
    outputs = {"usage": usage} if usage else {}
    data = {"node_type": node_type, "status": "succeeded", "outputs": outputs}
    return Event({"event": "node_finished", "workflow_run_id": "r1", "data": data})


def _workflow_end(outputs: Any = None, total: int = 0, status: str = "succeeded") -> Event:
    data = {"workflow_id": "wf", "status": status, "outputs": outputs, "total_tokens": total, "error": "boom"}
    return Event({"event": "workflow_finished", "workflow_run_id": "r1", "data": data})


def _run(machine: DifyToOpenAIStream, events: list[Event]) -> list[Any]:
    out: list[Event] = []
    for event in events:
        out.extend(machine.feed(event))
    out.extend(machine.finish())
    return [e.data for e in out]


def _deltas(chunks: list[Any], key: str) -> str:
    return "".join(
        str(c["choices"][0]["delta"].get(key) or "") for c in chunks if isinstance(c, dict) and c.get("choices")
    )


# bridge: registration and requests


def test_bridge_is_registered_as_partial_and_reachable_from_other_dialects() -> None:
    found = bridge(Dialect.OPENAI_CHAT, Dialect.DIFY)
    assert found is not None and found.fidelity == "partial" and found.lossy
    assert bridge(Dialect.CLAUDE, Dialect.DIFY) is not None  # chained through OpenAI Chat


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": {"role": "user"}}, "messages must be a JSON array"),
        ({"messages": ["hi"]}, "messages[0] must be a JSON object"),
        ({"messages": []}, "must contain a user message"),
        ({"messages": [{"role": "system", "content": "x"}]}, "must contain a user message"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content must be a string or an array"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]}, "messages[0].content[0].text"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}, "image_url.url"),
        ({"messages": [{"role": "user", "content": "x"}], "user": 42}, "user must be a string"),
        ({"messages": [{"role": "user", "content": "x"}], "inputs": []}, "inputs must be a JSON object"),
        ({"messages": [{"role": "user", "content": "x"}], "conversation_id": 3}, "conversation_id must be a string"),
        ({"messages": [{"role": "user", "content": "x"}], "auto_generate_name": "yes"}, "auto_generate_name"),
    ],
)
def test_malformed_requests_raise_validation_errors(body: Json, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        openai_request_to_dify(body)
    assert message in err.value.message


def test_request_always_asks_for_a_stream_and_keeps_the_clients_query_input() -> None:
    body = openai_request_to_dify(
        {"stream": False, "messages": [{"role": "user", "content": "hi"}], "inputs": {"query": "mine"}}
    )
    assert body["response_mode"] == "streaming"
    assert body["query"] == "hi" and body["inputs"] == {"query": "mine"}
    assert "model" not in body and "stream" not in body


def test_inline_images_lists_the_data_urls_of_the_last_user_message_only() -> None:
    data_url = f"data:image/png;base64,{PIXEL}"
    old = {"type": "image_url", "image_url": {"url": "data:image/gif;base64,R0lG"}}
    body = {
        "messages": [
            {"role": "user", "content": [old]},
            {
                "role": "user",
                "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": data_url}],
            },
        ]
    }
    assert inline_images(body) == [data_url]
    assert "files" not in openai_request_to_dify(body)  # left out of the request: it needs an upload
    assert inline_images({"messages": [{"role": "user", "content": "text only"}]}) == []


# stream


def test_debug_off_hides_workflow_and_node_progress_but_keeps_the_answer() -> None:
    events = [
        Event({"event": "workflow_started", "workflow_run_id": "r1", "data": {"workflow_id": "wf"}}),
        _node("llm"),
        _message("Hello"),
        _end(),
    ]
    quiet = _run(DifyToOpenAIStream(debug=False), events)
    loud = _run(DifyToOpenAIStream(), events)
    assert _deltas(quiet, "reasoning_content") == ""
    assert _deltas(loud, "reasoning_content") == "Workflow: wf\nNode: llm succeeded\n"
    assert _deltas(quiet, "content") == _deltas(loud, "content") == "Hello"


def test_stream_ignores_events_after_its_end_and_events_it_cannot_read() -> None:
    machine = DifyToOpenAIStream()
    assert machine.feed(Event("[DONE]")) == []
    closing = machine.feed(_end())
    assert closing[-1].data == "[DONE]" and closing[-2].data["usage"]["prompt_tokens"] == 5  # type: ignore[index]
    assert machine.feed(_message("late")) == []
    assert machine.finish() == []


def test_stream_reads_the_event_kind_from_the_sse_name_when_the_json_lacks_it() -> None:
    out = _run(DifyToOpenAIStream(), [Event({"answer": "named"}, name="message")])
    assert _deltas(out, "content") == "named"
    assert out[-1] == "[DONE]"


def test_a_cut_stream_still_ends_with_done_and_reports_usage_seen_so_far() -> None:
    out = _run(DifyToOpenAIStream(), [_node("llm", {"prompt_tokens": 4, "completion_tokens": 1}), _message("par")])
    assert out[-1] == "[DONE]"
    assert out[-2]["usage"] == {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}
    assert all(c["choices"][0]["finish_reason"] is None for c in out if isinstance(c, dict) and c.get("choices"))


# aggregate (non-stream clients) and blocking answers


def test_aggregate_gathers_what_the_stream_would_have_shown() -> None:
    events = [
        Event({"event": "workflow_started", "workflow_run_id": "r1", "data": {"workflow_id": "wf", "created_at": 3}}),
        _message("Hel"),
        Event({"event": "agent_message", "message_id": "m1", "answer": "lo"}),
        Event({"event": "message_file", "type": "image", "url": "https://x/y.png"}),
        _node("llm", {"prompt_tokens": 4, "completion_tokens": 1}),
        _end(9, 3),
    ]
    answer = aggregate(events)
    assert answer["answer"] == "Hello\n![image](https://x/y.png)\n"
    assert answer["message_id"] == "m1" and answer["conversation_id"] == "c1" and answer["created_at"] == 3
    assert answer["metadata"] == {"usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}}
    completion = dify_response_to_openai(answer)
    streamed = _run(DifyToOpenAIStream(debug=False), events)
    assert completion["choices"][0]["message"]["content"] == _deltas(streamed, "content")
    assert completion["usage"] == streamed[-2]["usage"]


def test_aggregate_replaces_a_moderated_answer_and_answers_a_silent_workflow_with_its_outputs() -> None:
    replaced = aggregate([_message("bad words"), Event({"event": "message_replace", "answer": "Sorry."}), _end()])
    assert replaced["answer"] == "Sorry."
    silent = aggregate([_workflow_end({"result": "42"}, total=30)])
    assert silent["answer"] == "42"
    assert silent["metadata"]["usage"] == {"prompt_tokens": 30, "completion_tokens": 0, "total_tokens": 30}
    assert aggregate([])["answer"] == "" and aggregate([])["metadata"] == {}


def test_aggregate_raises_on_an_error_event_or_a_failed_workflow() -> None:
    error = {"event": "error", "status": 429, "code": "provider_quota_exceeded", "message": "quota gone"}
    with pytest.raises(UpstreamError) as err:
        aggregate([_message("x"), Event(error)])
    assert (err.value.status, err.value.code, err.value.message) == (429, "provider_quota_exceeded", "quota gone")
    with pytest.raises(UpstreamError) as err:
        aggregate([Event({"event": "error"})])
    assert err.value.status == 500 and err.value.message == "Dify reported an error"
    with pytest.raises(UpstreamError, match="boom"):
        aggregate([_workflow_end(status="failed")])


def test_blocking_answers_tolerate_missing_fields() -> None:
    out = dify_response_to_openai({"answer": None})
    assert out["id"] == "chatcmpl-dify" and out["choices"][0]["message"]["content"] == ""
    assert "usage" not in out and "conversation_id" not in out
    assert dify_response_to_openai({"data": {"outputs": "plain"}})["choices"][0]["message"]["content"] == "plain"


# usage


def test_usage_sums_llm_nodes_until_message_end_replaces_it() -> None:
    usage = fold_usage(_node("llm", {"prompt_tokens": 3, "completion_tokens": 1}).data, None)  # type: ignore[arg-type]
    usage = fold_usage(_node("llm", {"prompt_tokens": 2, "completion_tokens": 2}).data, usage)  # type: ignore[arg-type]
    assert usage == Usage(prompt_tokens=5, completion_tokens=3)
    assert fold_usage(_workflow_end(total=99).data, usage) == usage  # type: ignore[arg-type]
    zero = {"event": "message_end", "metadata": {"usage": {"prompt_tokens": 0, "completion_tokens": 0}}}
    assert fold_usage(zero, usage) == usage
    assert fold_usage(_end(7, 1).data, usage) == Usage(prompt_tokens=7, completion_tokens=1)  # type: ignore[arg-type]
    assert fold_usage(_workflow_end(total=0).data, None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outputs", "text"),
    [
        (None, ""),
        ({}, ""),
        ("direct", "direct"),
        ({"whatever": "only one"}, "only one"),
        ({"answer": "a", "score": 1}, "a"),
        ({"n": 1, "ok": True}, '{"n": 1, "ok": true}'),
    ],
)
def test_workflow_outputs_as_text(outputs: Any, text: str) -> None:
    assert outputs_text(outputs) == text


# adaptor


@pytest.mark.parametrize(
    ("other", "base_url", "url"),
    [
        ("", "", "https://api.dify.ai/v1/chat-messages"),
        ("agent", "http://dify.local", "http://dify.local/v1/chat-messages"),
        ("Workflow", "http://dify.local/v1", "http://dify.local/v1/workflows/run"),
        ("completion", "http://dify.local/", "http://dify.local/v1/completion-messages"),
        ("unknown-kind", "http://dify.local", "http://dify.local/v1/chat-messages"),
    ],
)
def test_url_follows_the_app_kind_in_other(other: str, base_url: str, url: str) -> None:
    assert Dify().url(_channel(other, base_url), Endpoint.CHAT, "dify-app", False) == url


def test_adaptor_is_registered_streams_always_and_prepares_a_dify_body() -> None:
    adaptor = AdaptorRegistry("2024-12-01-preview").for_type(ChannelType.DIFY)
    assert isinstance(adaptor, Dify) and adaptor.always_stream
    assert adaptor.dialects(_channel()) == (Dialect.DIFY,)
    assert adaptor.headers(_channel(), "app-1") == {"Authorization": "Bearer app-1"}
    body = adaptor.prepare(
        {"query": "q", "model": "x", "stream": False, "response_mode": "blocking"}, "x", stream=False, ask_usage=True
    )
    assert body == {"query": "q", "response_mode": "streaming"}


def test_adaptor_usage_from_blocking_answers_and_streams() -> None:
    dify = Dify()
    assert dify.usage({"answer": "a", "metadata": {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}}) == Usage(
        prompt_tokens=3, completion_tokens=2
    )
    assert dify.usage({"data": {"total_tokens": 11}}) == Usage(prompt_tokens=11)
    assert dify.usage({"answer": "a", "metadata": {}}) is None
    usage = None
    for event in [_message("x"), _node("llm", {"prompt_tokens": 1, "completion_tokens": 1}), Event("[DONE]"), _end()]:
        usage = dify.stream_usage(event, usage)
    assert usage == Usage(prompt_tokens=5, completion_tokens=2)
    assert dify.stream_done(_end()) and dify.stream_done(_workflow_end())
    assert not dify.stream_done(_message("x")) and not dify.stream_done(Event("[DONE]"))


def test_adaptor_aggregate_turns_dify_errors_into_upstream_errors_with_their_status() -> None:
    with pytest.raises(RelayUpstreamError) as err:
        Dify().aggregate([Event({"event": "error", "status": 400, "code": "invalid_param", "message": "bad"})])
    assert err.value.status == 400 and err.value.code == "invalid_param"


def test_adaptor_stream_bridge_carries_the_debug_setting() -> None:
    found = bridge(Dialect.OPENAI_CHAT, Dialect.DIFY)
    assert found is not None
    machine = Dify(debug=False).stream_bridge(found)
    assert isinstance(machine, DifyToOpenAIStream) and not machine.debug
    chained = bridge(Dialect.CLAUDE, Dialect.DIFY)
    assert chained is not None and not isinstance(Dify(debug=False).stream_bridge(chained), DifyToOpenAIStream)


def test_upload_call_and_uploaded_file() -> None:
    call = Dify().upload_call(
        _channel(base_url="http://dify.local/v1"), "app-1", "alice", f"data:image/png;base64,{PIXEL}"
    )
    assert call.method == "POST" and call.url == "http://dify.local/v1/files/upload"
    assert call.headers == {"Authorization": "Bearer app-1"}
    assert call.form == [("user", "alice"), ("file", ("image.png", b"\x89PNG fake", "image/png"))]
    assert Dify.uploaded_file({"id": "f-1"}) == {
        "type": "image",
        "transfer_method": "local_file",
        "upload_file_id": "f-1",
    }
    with pytest.raises(UpstreamError):
        Dify.uploaded_file({})
    for bad in ("https://x/y.png", "data:image/png;base64,@@@"):
        with pytest.raises(ValidationError):
            Dify().upload_call(_channel(), "k", "u", bad)
