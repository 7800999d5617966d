"""Shared pieces of the Responses ⇄ Chat bridges: JSON shape checks that fail as ValidationError, usage mapping
both ways, deterministic ids, and the Response object and output items as the Responses API writes them."""

from __future__ import annotations

from typing import Any

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json


def as_object(value: object, where: str) -> Json:
    if not isinstance(value, dict):
        raise ValidationError(f"{where} must be a JSON object")
    return value


def as_list(value: object, where: str) -> list[Any]:
    """An array, with null or absent read as empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(f"{where} must be an array")
    return value


def as_text(value: object, where: str) -> str:
    """A string, with null or absent read as empty."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{where} must be a string")
    return value


def text_or(value: object, default: str) -> str:
    """An upstream string field, lenient: anything but a non-empty string reads as ``default``."""
    return value if isinstance(value, str) and value else default


def count(value: object) -> int:
    """A token count from an upstream answer; anything that is not a non-negative number reads as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0
    return int(value)


def copy_keys(source: Json, target: Json, keys: tuple[str, ...]) -> None:
    """Copy the keys that are present and not null."""
    for key in keys:
        if source.get(key) is not None:
            target[key] = source[key]


# --- usage ---------------------------------------------------------------------------------------------------


def responses_usage(usage: object) -> Json | None:
    """Chat ``usage`` → Responses ``usage`` (both count cached and cache-write tokens inside the input tokens)."""
    if not isinstance(usage, dict):
        return None
    prompt = count(usage.get("prompt_tokens"))
    completion = count(usage.get("completion_tokens"))
    prompt_details = _details(usage, "prompt_tokens_details")
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": count(prompt_details.get("cached_tokens")),
            "cache_write_tokens": count(prompt_details.get("cache_write_tokens")),
        },
        "output_tokens": completion,
        "output_tokens_details": {
            "reasoning_tokens": count(_details(usage, "completion_tokens_details").get("reasoning_tokens"))
        },
        "total_tokens": count(usage.get("total_tokens")) or prompt + completion,
    }


def chat_usage(usage: object) -> Json:
    """Responses ``usage`` → Chat ``usage``; a missing usage reads as zeros (the gateway then counts locally)."""
    usage = usage if isinstance(usage, dict) else {}
    prompt = count(usage.get("input_tokens"))
    completion = count(usage.get("output_tokens"))
    input_details = _details(usage, "input_tokens_details")
    prompt_details = {"cached_tokens": count(input_details.get("cached_tokens"))}
    if count(input_details.get("cache_write_tokens")):
        prompt_details["cache_write_tokens"] = count(input_details.get("cache_write_tokens"))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": count(usage.get("total_tokens")) or prompt + completion,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": count(_details(usage, "output_tokens_details").get("reasoning_tokens"))
        },
    }


def _details(usage: Json, key: str) -> Json:
    details = usage.get(key)
    return details if isinstance(details, dict) else {}


# --- ids -----------------------------------------------------------------------------------------------------


def response_id(chat_id: str) -> str:
    return chat_id if chat_id.startswith("resp_") else "resp_" + chat_id


def chat_id(response_id: str) -> str:
    return "chatcmpl-" + response_id.removeprefix("resp_")


def call_item_id(call_id: str) -> str:
    return call_id if call_id.startswith("fc_") else "fc_" + call_id


# --- the Response object (Chat upstream → Responses client) --------------------------------------------------

_FINISH_STATUS: dict[str, tuple[str, Json | None]] = {
    "stop": ("completed", None),
    "tool_calls": ("completed", None),
    "function_call": ("completed", None),
    "length": ("incomplete", {"reason": "max_output_tokens"}),
    "content_filter": ("incomplete", {"reason": "content_filter"}),
}


def finish_status(finish_reason: object) -> tuple[str, Json | None]:
    """Chat ``finish_reason`` → Response ``status`` and ``incomplete_details``; unknown reasons count as done."""
    if isinstance(finish_reason, str) and finish_reason in _FINISH_STATUS:
        return _FINISH_STATUS[finish_reason]
    return "completed", None


def response_object(
    *,
    rid: str,
    created: int,
    model: str,
    status: str,
    output: list[Json],
    usage: Json | None,
    incomplete: Json | None = None,
    error: Json | None = None,
) -> Json:
    """A Response as the API returns it. The request parameters it echoes (tools, tool_choice, temperature…) are
    not known to a pure answer converter, so they carry the API's defaults rather than the client's values."""
    return {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": status,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def text_part(text: str) -> Json:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def refusal_part(text: str) -> Json:
    return {"type": "refusal", "refusal": text}


def message_item(item_id: str, parts: list[Json], status: str) -> Json:
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": parts}


def reasoning_item(item_id: str, text: str) -> Json:
    summary = [{"type": "summary_text", "text": text}] if text else []
    return {"id": item_id, "type": "reasoning", "summary": summary}


def call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> Json:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }
