"""Chat client over a Responses upstream, answer side: a Response object rewritten as a chat completion (output
text joined, reasoning summaries → reasoning_content, function_call items → tool_calls, status → finish_reason)."""

from __future__ import annotations

from dataclasses import dataclass, field

from clinx.core.errors import UpstreamError
from clinx.relay.convert.base import Json
from clinx.relay.convert.responses_openai_common import (
    as_list,
    as_object,
    as_text,
    chat_id,
    chat_usage,
    count,
    text_or,
)


@dataclass
class Output:
    """What a Response's output items say, in Chat terms."""

    text: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: list[Json] = field(default_factory=list)


def responses_response_to_chat(answer: Json) -> Json:
    answer = as_object(answer, "upstream answer")
    if answer.get("status") == "failed":
        raise UpstreamError(f"the upstream response failed: {error_message(answer.get('error'))}")
    output = read_output(as_list(answer.get("output"), "output"))
    empty = None if output.calls or output.refusal else ""  # as OpenAI: null beside tool calls or a refusal
    message: Json = {"role": "assistant", "content": "".join(output.text) or empty}
    if output.reasoning:
        message["reasoning_content"] = "\n\n".join(output.reasoning)
    if output.refusal:
        message["refusal"] = "".join(output.refusal)
    if output.calls:
        message["tool_calls"] = output.calls
    finish = finish_reason(answer.get("status"), answer.get("incomplete_details"), bool(output.calls))
    return {
        "id": chat_id(as_text(answer.get("id"), "id") or "unknown"),
        "object": "chat.completion",
        "created": count(answer.get("created_at")),
        "model": as_text(answer.get("model"), "model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": chat_usage(answer.get("usage")),
    }


def read_output(items: list[object]) -> Output:
    """Message, reasoning and function_call items; records of built-in tools (web_search_call…) are skipped."""
    out = Output()
    for i, raw in enumerate(items):
        item = as_object(raw, f"output[{i}]")
        kind = item.get("type")
        if kind == "message":
            for j, part in enumerate(as_list(item.get("content"), f"output[{i}].content")):
                part = as_object(part, f"output[{i}].content[{j}]")
                if part.get("type") == "output_text":
                    out.text.append(as_text(part.get("text"), f"output[{i}].content[{j}].text"))
                elif part.get("type") == "refusal":
                    out.refusal.append(as_text(part.get("refusal"), f"output[{i}].content[{j}].refusal"))
        elif kind == "reasoning":
            for key in ("summary", "content"):
                for j, part in enumerate(as_list(item.get(key), f"output[{i}].{key}")):
                    text = as_text(as_object(part, f"output[{i}].{key}[{j}]").get("text"), f"output[{i}].{key}")
                    if text:
                        out.reasoning.append(text)
        elif kind == "function_call":
            out.calls.append(tool_call(item, f"output[{i}]"))
    return out


def tool_call(item: Json, where: str) -> Json:
    call_id = as_text(item.get("call_id"), f"{where}.call_id") or as_text(item.get("id"), f"{where}.id")
    name = as_text(item.get("name"), f"{where}.name")
    arguments = as_text(item.get("arguments"), f"{where}.arguments")
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def finish_reason(status: object, incomplete: object, has_calls: bool) -> str:
    if status == "incomplete":
        reason = incomplete.get("reason") if isinstance(incomplete, dict) else None
        return "content_filter" if reason == "content_filter" else "length"
    return "tool_calls" if has_calls else "stop"


def error_message(error: object) -> str:
    return text_or(error.get("message") if isinstance(error, dict) else None, "no details given")
