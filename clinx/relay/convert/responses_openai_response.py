"""Responses client over a Chat upstream, answer side: a chat completion rewritten as a Response object
(reasoning item, message item, function_call items, usage, completed/incomplete status)."""

from __future__ import annotations

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json
from clinx.relay.convert.responses_openai_common import (
    as_list,
    as_object,
    as_text,
    call_item,
    call_item_id,
    count,
    finish_status,
    message_item,
    reasoning_item,
    refusal_part,
    response_id,
    response_object,
    responses_usage,
    text_part,
)


def chat_response_to_responses(answer: Json) -> Json:
    answer = as_object(answer, "upstream answer")
    base = as_text(answer.get("id"), "id") or "unknown"
    choices = as_list(answer.get("choices"), "choices")
    if not choices:
        raise ValidationError("the upstream answer has no choices")
    # Responses has no n: the first choice is the answer.
    choice = as_object(choices[0], "choices[0]")
    message = as_object(choice.get("message") or {}, "choices[0].message")
    status, incomplete = finish_status(choice.get("finish_reason"))
    item_status = "completed" if status == "completed" else "incomplete"

    output: list[Json] = []
    reasoning = reasoning_text(message)
    if reasoning:
        output.append(reasoning_item("rs_" + base, reasoning))
    calls = _calls(message, base, item_status)
    parts = _parts(message)
    if parts or not calls:
        output.append(message_item("msg_" + base, parts or [text_part("")], item_status))
    output.extend(calls)
    return response_object(
        rid=response_id(base),
        created=count(answer.get("created")),
        model=as_text(answer.get("model"), "model"),
        status=status,
        output=output,
        usage=responses_usage(answer.get("usage")),
        incomplete=incomplete,
    )


def reasoning_text(message: Json) -> str:
    """``reasoning_content`` (DeepSeek, New API) or ``reasoning`` (OpenRouter, vLLM)."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _parts(message: Json) -> list[Json]:
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(
            p.get("text") or "" for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    parts = []
    text = as_text(content, "choices[0].message.content")
    if text:
        parts.append(text_part(text))
    refusal = as_text(message.get("refusal"), "choices[0].message.refusal")
    if refusal:
        parts.append(refusal_part(refusal))
    return parts


def _calls(message: Json, base: str, status: str) -> list[Json]:
    items = []
    for i, raw in enumerate(as_list(message.get("tool_calls"), "choices[0].message.tool_calls")):
        call = as_object(raw, f"tool_calls[{i}]")
        function = as_object(call.get("function") or {}, f"tool_calls[{i}].function")
        call_id = as_text(call.get("id"), f"tool_calls[{i}].id") or f"call_{base}_{i}"
        name = as_text(function.get("name"), f"tool_calls[{i}].function.name")
        arguments = as_text(function.get("arguments"), f"tool_calls[{i}].function.arguments")
        items.append(call_item(call_item_id(call_id), call_id, name, arguments, status))
    return items
