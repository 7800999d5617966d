"""Shared vocabulary of the Gemini ⇄ OpenAI Chat bridges: tolerant field access with clear errors, JSON helpers,
finish-reason and usage mappings, tool-call ids, data URLs and the OpenAI-side home of Gemini thought signatures."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json
from clinx.relay.convert.shapes import as_str

# Gemini answers with at most these reasons; each is mapped explicitly (unknown ones fall back to "stop").
GEMINI_TO_OPENAI_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "LANGUAGE": "stop",
    "OTHER": "stop",
    "MALFORMED_FUNCTION_CALL": "stop",
    "UNEXPECTED_TOOL_CALL": "stop",
    "TOO_MANY_TOOL_CALLS": "stop",
    "MISSING_THOUGHT_SIGNATURE": "stop",
    "NO_IMAGE": "stop",
    "IMAGE_OTHER": "stop",
    "FINISH_REASON_UNSPECIFIED": "stop",
}

OPENAI_TO_GEMINI_FINISH = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "tool_calls": "STOP",
    "function_call": "STOP",
    "content_filter": "SAFETY",
}


def gemini_finish_to_openai(reason: str, called_tools: bool) -> str:
    if reason == "STOP" and called_tools:
        return "tool_calls"
    return GEMINI_TO_OPENAI_FINISH.get(reason, "stop")


def openai_finish_to_gemini(reason: str) -> str:
    return OPENAI_TO_GEMINI_FINISH.get(reason, "OTHER")


@cache
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def field(obj: Json, name: str) -> Any:
    """``obj[name]`` by its camelCase name, or its snake_case spelling: Gemini's REST API accepts both, and
    Google's own curl examples use snake_case (``system_instruction``, ``inline_data``)."""
    if name in obj:
        return obj[name]
    return obj.get(_snake(name))


def as_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValidationError(f"{where} must be an integer")


def text_or(value: Any, default: str = "") -> str:
    """A string from an upstream answer, or ``default`` when the value is not one."""
    return value if isinstance(value, str) else default


def int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def count(value: Any) -> int:
    """A token count from an upstream answer; anything that is not a number counts as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse_arguments(raw: Any, where: str) -> Json:
    """A client's tool-call arguments (a JSON object in a string) as an object; a client mistake otherwise."""
    if isinstance(raw, dict):
        return raw
    text = as_str(raw, where)
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValidationError(f"{where} must encode a JSON object")
    return value


def parse_answer_arguments(raw: Any) -> Json | None:
    """An upstream answer's tool-call arguments as an object, or None when they are not a JSON object."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        return None
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def answer_arguments(raw: Any) -> Json:
    """Arguments a model produced that are not a JSON object cannot be a Gemini ``args`` object: they are kept,
    as text, under ``_raw_arguments`` rather than silently lost."""
    parsed = parse_answer_arguments(raw)
    if parsed is not None:
        return parsed
    return {"_raw_arguments": raw if isinstance(raw, str) else dumps(raw)}


def call_id(name: str, index: int) -> str:
    """Deterministic tool-call id for a Gemini function call that carries none."""
    return f"call_{name}_{index}"


def google_signature(obj: Json) -> str | None:
    """The Gemini thought signature an OpenAI message, delta or tool call carries, in the field Google's own
    OpenAI-compatible endpoint uses: ``extra_content.google.thought_signature``."""
    extra = obj.get("extra_content")
    if not isinstance(extra, dict):
        return None
    google = extra.get("google")
    if not isinstance(google, dict):
        return None
    signature = google.get("thought_signature")
    return signature if isinstance(signature, str) and signature else None


def signature_extra(signature: str) -> Json:
    return {"google": {"thought_signature": signature}}


def data_url(mime: str, data: str) -> str:
    return f"data:{mime};base64,{data}"


def split_data_url(url: str, where: str) -> tuple[str, str]:
    """``data:<mime>;base64,<data>`` → (mime, data)."""
    head, sep, data = url.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        raise ValidationError(f"{where} must be a base64 data URL (data:<mime>;base64,<data>)")
    return head[len("data:") : -len(";base64")] or "application/octet-stream", data


def openai_usage_to_gemini(usage: Json) -> Json:
    """OpenAI usage → Gemini usageMetadata. Both count cached tokens inside the prompt; Gemini counts thinking
    apart from the candidates, OpenAI inside completion_tokens."""
    prompt = count(usage.get("prompt_tokens"))
    completion = count(usage.get("completion_tokens"))
    details = usage.get("completion_tokens_details")
    reasoning = count(details.get("reasoning_tokens")) if isinstance(details, dict) else 0
    prompt_details = usage.get("prompt_tokens_details")
    cached = count(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict) else 0
    meta: Json = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": max(completion - reasoning, 0),
        "totalTokenCount": count(usage.get("total_tokens")) or prompt + completion,
    }
    if reasoning:
        meta["thoughtsTokenCount"] = reasoning
    if cached:
        meta["cachedContentTokenCount"] = cached
    return meta


def gemini_usage_to_openai(meta: Json) -> Json:
    """Gemini usageMetadata → OpenAI usage. Tokens of tool-use prompts (search results and the like) are
    prompt tokens too; thinking tokens are completion tokens, reported again as reasoning tokens."""
    prompt = count(meta.get("promptTokenCount")) + count(meta.get("toolUsePromptTokenCount"))
    thoughts = count(meta.get("thoughtsTokenCount"))
    completion = count(meta.get("candidatesTokenCount")) + thoughts
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": count(meta.get("totalTokenCount")) or prompt + completion,
        "prompt_tokens_details": {"cached_tokens": count(meta.get("cachedContentTokenCount"))},
        "completion_tokens_details": {"reasoning_tokens": thoughts},
    }
