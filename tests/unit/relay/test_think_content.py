"""thinking_to_content: reasoning becomes <think>…</think> content."""

from __future__ import annotations

from clinx.relay import think_content
from clinx.relay.convert.base import Event


def test_answer_wraps_reasoning() -> None:
    payload = {"choices": [{"message": {"role": "assistant", "content": "4", "reasoning_content": "2+2"}}]}
    message = think_content.answer(payload)["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "<think>\n2+2\n</think>\n4"}


def _chunk(**delta: str) -> Event:
    return Event({"choices": [{"index": 0, "delta": dict(delta), "finish_reason": None}]})


def test_stream_wraps_reasoning_once() -> None:
    machine = think_content.StreamThinkToContent()
    events = [_chunk(reasoning_content="a"), _chunk(reasoning_content="b"), _chunk(content="c"), Event("[DONE]")]
    out = [e for event in events for e in machine.feed(event)]
    text = "".join(e.data["choices"][0]["delta"].get("content", "") for e in out if isinstance(e.data, dict))
    assert text == "<think>\nab\n</think>\nc"


def test_stream_closes_think_when_stream_ends_in_reasoning() -> None:
    machine = think_content.StreamThinkToContent()
    out = machine.feed(_chunk(reasoning_content="x")) + machine.feed(Event("[DONE]"))
    text = "".join(e.data["choices"][0]["delta"].get("content", "") for e in out if isinstance(e.data, dict))
    assert text == "<think>\nx\n</think>\n" and out[-1].data == "[DONE]"
