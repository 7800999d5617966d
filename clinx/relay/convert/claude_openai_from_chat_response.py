"""Bridge 1, answer: an OpenAI chat completion (upstream) → an Anthropic Messages message (client)."""

from __future__ import annotations

from typing import Any

from clinx.relay.convert.base import Json
from clinx.relay.convert.claude_openai_common import (
    arr,
    claude_stop_reason,
    claude_usage,
    obj,
    opt_obj,
    opt_text,
    parse_args,
    text,
)

EMPTY_USAGE: Json = {
    "input_tokens": 0,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "output_tokens": 0,
}


def from_chat_response(answer: Json) -> Json:
    answer = obj(answer, "upstream answer")
    choices = arr(answer.get("choices") or [], "choices")
    first: Json = next((c for c in choices if isinstance(c, dict) and c.get("index", 0) == 0), {})
    message = opt_obj(first.get("message"), "choices[0].message")
    upstream_id = opt_text(answer.get("id"), "id")
    content = _thinking(message) + _text(message) + _tool_uses(message, upstream_id)
    stop_reason = claude_stop_reason(first.get("finish_reason"), any(b["type"] == "tool_use" for b in content))
    if message.get("refusal"):
        stop_reason = "refusal"
    usage = answer.get("usage")
    return {
        "id": "msg_" + upstream_id,
        "type": "message",
        "role": "assistant",
        "model": answer.get("model"),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": claude_usage(usage) if isinstance(usage, dict) else dict(EMPTY_USAGE),
    }


def reasoning_of(holder: Json) -> str:
    """Reasoning text as DeepSeek and New API send it (``reasoning_content``) or as OpenRouter/vLLM do
    (``reasoning``)."""
    for key in ("reasoning_content", "reasoning"):
        value = holder.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _thinking(message: Json) -> list[Json]:
    thinking = reasoning_of(message)
    if not thinking:
        return []
    signature = message.get("reasoning_signature")
    return [{"type": "thinking", "thinking": thinking, "signature": signature if isinstance(signature, str) else ""}]


def _text(message: Json) -> list[Json]:
    content = message.get("content")
    if isinstance(content, list):  # a few upstreams answer with content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    value = opt_text(content, "choices[0].message.content")
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        value = value + refusal if value else refusal
    return [{"type": "text", "text": value}] if value else []


def _tool_uses(message: Json, upstream_id: str) -> list[Json]:
    blocks = []
    for i, call in enumerate(arr(message.get("tool_calls") or [], "choices[0].message.tool_calls")):
        call = obj(call, f"tool_calls[{i}]")
        function = obj(call.get("function"), f"tool_calls[{i}].function")
        blocks.append(
            {
                "type": "tool_use",
                "id": call_id(call.get("id"), upstream_id, i),
                "name": text(function.get("name"), f"tool_calls[{i}].function.name"),
                "input": parse_args(opt_text(function.get("arguments"), f"tool_calls[{i}].function.arguments")),
            }
        )
    return blocks


def call_id(value: Any, upstream_id: str, position: int) -> str:
    """The upstream's call id; upstreams that omit it get a stable stand-in built from the answer id and the
    call's position."""
    return value if isinstance(value, str) and value else f"toolu_{upstream_id}_{position}"
