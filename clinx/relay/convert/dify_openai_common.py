"""Shared vocabulary of the OpenAI Chat → Dify bridge: Dify's stream event kinds, the pieces of answer text each
event carries, usage folded across a run's events, ids and timestamps, and tolerant field access."""

from __future__ import annotations

import json
from typing import Any

from clinx.core.types import Usage
from clinx.relay.convert.base import Event, Json

MODEL = "dify"  # Dify never names the model behind an app; New API answers with this name too
# Older Dify versions render a reasoning model's thoughts as an HTML <details> block, one chunk each for the
# opening and closing tags; New API turns exactly these chunks into <think> tags, and so do we.
THINK_OPEN = (
    '<details style="color:gray;background-color: #f8f8f8;padding: 8px;border-radius: 4px;" open> '
    "<summary> Thinking... </summary>\n"
)
THINK_CLOSE = "</details>"
ANSWER_EVENTS = frozenset({"message", "agent_message"})
DEBUG_EVENTS = frozenset({"workflow_started", "workflow_finished", "node_started", "node_finished"})
# Preferred names of a workflow's text output when it has several.
OUTPUT_KEYS = ("answer", "text", "output", "result")


def text_or(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def count(value: Any) -> int:
    """A token count from an upstream answer; anything that is not a number counts as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)


def kind_of(event: Event) -> str:
    """Dify names each event inside its JSON (``"event": "message"``); the SSE ``event:`` line is a fallback."""
    data = event.data
    if isinstance(data, dict) and isinstance(data.get("event"), str):
        return str(data["event"])
    return event.name or ""


def detail(data: Json) -> Json:
    """The ``data`` object of a workflow or node event."""
    inner = data.get("data")
    return inner if isinstance(inner, dict) else {}


def answer_piece(answer: str) -> str:
    if answer == THINK_OPEN:
        return "<think>"
    if answer == THINK_CLOSE:
        return "</think>"
    return answer


def file_markdown(data: Json) -> str:
    """A file a Dify tool produced (``message_file``), as Markdown the client can render."""
    url = text_or(data.get("url"))
    if not url:
        return ""
    return f"\n![image]({url})\n" if data.get("type") == "image" else f"\n[file]({url})\n"


def content_piece(kind: str, data: Json) -> str:
    """The answer text one event adds (``message_replace`` is handled by the caller: it replaces, not adds)."""
    if kind in ANSWER_EVENTS:
        return answer_piece(text_or(data.get("answer")))
    if kind == "text_chunk":  # workflow apps stream their output this way
        return text_or(detail(data).get("text"))
    if kind == "message_file":
        return file_markdown(data)
    return ""


def outputs_text(outputs: Any) -> str:
    """A workflow's final outputs as answer text: a lone string output as is, else the first of the usual names,
    else the outputs as JSON."""
    if isinstance(outputs, str):
        return outputs
    if not isinstance(outputs, dict) or not outputs:
        return ""
    values = list(outputs.values())
    if len(values) == 1 and isinstance(values[0], str):
        return values[0]
    for key in OUTPUT_KEYS:
        if isinstance(outputs.get(key), str):
            return str(outputs[key])
    return json.dumps(outputs, ensure_ascii=False)


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt, completion = count(raw.get("prompt_tokens")), count(raw.get("completion_tokens"))
    if not prompt and not completion:
        return None
    return Usage(prompt_tokens=prompt, completion_tokens=completion)


def fold_usage(data: Json, current: Usage | None) -> Usage | None:
    """Usage after one Dify event. ``message_end`` carries the run's total and wins; before it, LLM nodes report
    their own usage in ``node_finished`` outputs and are summed; a workflow that reported none of those has only
    ``workflow_finished.total_tokens``, which is counted as prompt tokens (Dify does not split it)."""
    kind = data.get("event")
    if kind == "message_end":
        metadata = data.get("metadata")
        return (_usage(metadata.get("usage")) if isinstance(metadata, dict) else None) or current
    if kind == "node_finished":
        outputs = detail(data).get("outputs")
        found = _usage(outputs.get("usage")) if isinstance(outputs, dict) else None
        if found is None:
            return current
        base = current or Usage()
        return Usage(
            prompt_tokens=base.prompt_tokens + found.prompt_tokens,
            completion_tokens=base.completion_tokens + found.completion_tokens,
        )
    if kind == "workflow_finished" and current is None:
        total = count(detail(data).get("total_tokens"))
        return Usage(prompt_tokens=total) if total else None
    return current


def openai_usage(usage: Usage) -> Json:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def event_id(data: Json) -> str:
    """The id an event carries: the message's for chat apps, the run's for workflows."""
    for key in ("message_id", "id", "workflow_run_id", "task_id"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def event_created(data: Json) -> int:
    for value in (data.get("created_at"), detail(data).get("created_at")):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 0


def completion_id(ident: str) -> str:
    return "chatcmpl-" + (ident or "dify")
