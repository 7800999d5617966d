"""An OpenAI chat completion → a Gemini ``GenerateContentResponse`` (Gemini client over an OpenAI channel): one
candidate per choice, parts in Gemini's order (thought, text, function calls)."""

from __future__ import annotations

from typing import Any

from clinx.relay.convert.base import Json
from clinx.relay.convert.gemini_openai_common import (
    answer_arguments,
    google_signature,
    openai_finish_to_gemini,
    openai_usage_to_gemini,
)
from clinx.relay.convert.shapes import as_dict, as_list


def openai_response_to_gemini(body: Json) -> Json:
    candidates = []
    for position, raw in enumerate(as_list(body.get("choices"), "choices")):
        choice = as_dict(raw, f"choices[{position}]")
        candidates.append(_candidate(choice, position))
    out: Json = {"candidates": candidates}
    usage = body.get("usage")
    if isinstance(usage, dict):
        out["usageMetadata"] = openai_usage_to_gemini(usage)
    if isinstance(body.get("model"), str):
        out["modelVersion"] = body["model"]
    if isinstance(body.get("id"), str):
        out["responseId"] = body["id"]
    return out


def _candidate(choice: Json, position: int) -> Json:
    message = as_dict(choice.get("message"), f"choices[{position}].message")
    # An empty answer still has one (empty) text part, as Gemini's own empty answers do.
    parts = message_parts(message) or [{"text": ""}]
    candidate: Json = {"content": {"role": "model", "parts": parts}}
    reason = choice.get("finish_reason")
    if isinstance(reason, str):
        candidate["finishReason"] = openai_finish_to_gemini(reason)
    index = choice.get("index")
    candidate["index"] = index if isinstance(index, int) else position
    return candidate


def message_parts(message: Json) -> list[Json]:
    """Thought, text and function-call parts of an assistant message (or of a stream delta without tool calls).
    A message-level signature goes back on the text part, or on the thought part when there is no text."""
    parts: list[Json] = []
    reasoning = reasoning_text(message)
    if reasoning:
        parts.append({"text": reasoning, "thought": True})
    text = _content_text(message.get("content"))
    refusal = message.get("refusal")
    if isinstance(refusal, str):
        text += refusal
    if text:
        parts.append({"text": text})
    signature = google_signature(message)
    if signature:
        if parts:
            parts[-1]["thoughtSignature"] = signature
        else:
            parts.append({"text": "", "thoughtSignature": signature})
    for call in as_list(message.get("tool_calls"), "message.tool_calls"):
        if isinstance(call, dict):
            parts.append(function_call_part(call))
    return parts


def reasoning_text(message: Json) -> str:
    """``reasoning_content`` (New API, DeepSeek), or ``reasoning`` as some OpenAI-compatible servers name it."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def function_call_part(call: Json) -> Json:
    function = call.get("function")
    function = function if isinstance(function, dict) else {}
    name = function.get("name")
    gemini_call: Json = {
        "name": name if isinstance(name, str) else "",
        "args": answer_arguments(function.get("arguments")),
    }
    ident = call.get("id")
    if isinstance(ident, str) and ident:
        gemini_call = {"id": ident, **gemini_call}
    part: Json = {"functionCall": gemini_call}
    signature = google_signature(call)
    if signature:
        part["thoughtSignature"] = signature
    return part
