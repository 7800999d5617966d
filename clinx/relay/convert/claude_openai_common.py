"""Shared pieces of the Claude ⇄ OpenAI Chat bridges: checked access to JSON values, reason and usage
mappings, tool-argument parsing. Anything malformed raises ``ValidationError`` naming where it was found."""

from __future__ import annotations

import json
from typing import Any

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json

# OpenAI usage field that carries Claude's cache-write count (New API's name for the same number).
CACHE_WRITE_FIELD = "cached_creation_tokens"

CLAUDE_TO_OPENAI_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

OPENAI_TO_CLAUDE_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def obj(value: Any, where: str) -> Json:
    if not isinstance(value, dict):
        raise ValidationError(f"{where} must be a JSON object")
    return value


def arr(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError(f"{where} must be a JSON array")
    return value


def text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{where} must be a string")
    return value


def opt_obj(value: Any, where: str) -> Json:
    """An optional object: absent or null reads as empty."""
    return {} if value is None else obj(value, where)


def opt_text(value: Any, where: str) -> str:
    return "" if value is None else text(value, where)


def count(value: Any) -> int:
    """A token count from an upstream usage block; anything that is not a non-negative integer counts 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def dump_args(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse_args(raw: str) -> Json:
    """Tool-call arguments as a JSON object. Empty means ``{}``; text that is not a JSON object is kept
    verbatim as ``{"_raw": text}`` so nothing the model produced is lost."""
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {"_raw": raw}
    return parsed if isinstance(parsed, dict) else {"_raw": raw}


def claude_stop_reason(finish_reason: Any, has_tool_calls: bool) -> str:
    """OpenAI finish_reason → Claude stop_reason. Upstreams that report ``stop`` while returning tool calls
    still mean "run the tools", so that case reads as ``tool_use``; unknown or missing reasons read as
    ``end_turn``."""
    if has_tool_calls and finish_reason in (None, "stop"):
        return "tool_use"
    return OPENAI_TO_CLAUDE_STOP.get(finish_reason, "end_turn") if isinstance(finish_reason, str) else "end_turn"


def claude_usage(usage: Json) -> Json:
    """OpenAI usage → Claude usage. OpenAI's prompt_tokens include cache reads (and, from gateways that
    report it, cache writes); Claude's input_tokens exclude both."""
    details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    cached = count(details.get("cached_tokens")) or count(usage.get("prompt_cache_hit_tokens"))
    written = count(details.get(CACHE_WRITE_FIELD))
    return {
        "input_tokens": max(count(usage.get("prompt_tokens")) - cached - written, 0),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
        "output_tokens": count(usage.get("completion_tokens")),
    }


def openai_usage(usage: Json) -> Json:
    """Claude usage → OpenAI usage: prompt_tokens counts uncached input plus cache reads plus cache writes;
    the cache-write count rides in ``prompt_tokens_details.cached_creation_tokens`` and, when Claude splits
    it by lifetime, in ``claude_cache_creation_5_m_tokens`` / ``claude_cache_creation_1_h_tokens``."""
    read = count(usage.get("cache_read_input_tokens"))
    written = count(usage.get("cache_creation_input_tokens"))
    prompt = count(usage.get("input_tokens")) + read + written
    completion = count(usage.get("output_tokens"))
    out: Json = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": read, CACHE_WRITE_FIELD: written},
    }
    split = usage.get("cache_creation")
    if isinstance(split, dict):
        out["claude_cache_creation_5_m_tokens"] = count(split.get("ephemeral_5m_input_tokens"))
        out["claude_cache_creation_1_h_tokens"] = count(split.get("ephemeral_1h_input_tokens"))
    return out


def claude_error(error: Any) -> Json:
    """An OpenAI-style error object → the data of a Claude ``error`` event."""
    error = error if isinstance(error, dict) else {"message": str(error)}
    kind = error.get("type")
    claude_kind = {
        "invalid_request_error": "invalid_request_error",
        "rate_limit_exceeded": "rate_limit_error",
        "rate_limit_error": "rate_limit_error",
        "authentication_error": "authentication_error",
        "overloaded_error": "overloaded_error",
    }.get(kind if isinstance(kind, str) else "", "api_error")
    message = error.get("message")
    return {"type": "error", "error": {"type": claude_kind, "message": message if isinstance(message, str) else ""}}
