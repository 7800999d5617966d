"""A Gemini ``GenerateContentResponse`` → an OpenAI chat completion (OpenAI client over a Gemini channel): one choice
per candidate; text parts joined, thought parts into ``reasoning_content``, function calls into ``tool_calls``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clinx.relay.convert.base import Json
from clinx.relay.convert.gemini_openai_common import (
    call_id,
    dumps,
    gemini_finish_to_openai,
    gemini_usage_to_openai,
    signature_extra,
    text_or,
)
from clinx.relay.convert.shapes import as_dict, as_list


def completion_id(body: Json) -> str:
    response_id = body.get("responseId")
    return f"chatcmpl-{response_id}" if isinstance(response_id, str) and response_id else "chatcmpl-gemini"


def created_of(body: Json) -> int:
    """Vertex answers carry ``createTime`` (RFC 3339); the Gemini API none, and then ``created`` is 0."""
    raw = body.get("createTime")
    if not isinstance(raw, str):
        return 0
    try:
        return int(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def tool_call(part: Json, call: Json, index: int, response_id: str) -> Json:
    """A Gemini function call → an OpenAI tool call. Id: the call's own, else ``call_<responseId>_<n>`` (unique
    over a conversation), else ``call_<name>_<n>``; ``n`` counts the calls of the candidate."""
    name = text_or(call.get("name"))
    ident = text_or(call.get("id"))
    if not ident:
        ident = f"call_{response_id}_{index}" if response_id else call_id(name, index)
    args = call.get("args")
    out: Json = {
        "id": ident,
        "type": "function",
        "function": {"name": name, "arguments": dumps(args if isinstance(args, dict) else {})},
    }
    signature = part.get("thoughtSignature")
    if isinstance(signature, str) and signature:
        out["extra_content"] = signature_extra(signature)
    return out


def inline_markdown(inline: Any) -> str:
    """Generated media (image models) as a markdown data-URL image, as New API shows it."""
    if not isinstance(inline, dict) or not isinstance(inline.get("data"), str):
        return ""
    mime = text_or(inline.get("mimeType"), "application/octet-stream")
    label = "image" if mime.startswith("image/") else "media"
    return f"![{label}](data:{mime};base64,{inline['data']})"


def gemini_response_to_openai(body: Json) -> Json:
    response_id = text_or(body.get("responseId"))
    choices = [
        _choice(as_dict(raw, f"candidates[{position}]"), position, response_id)
        for position, raw in enumerate(as_list(body.get("candidates"), "candidates"))
    ]
    if not choices:
        # A blocked prompt has no candidate, only promptFeedback.blockReason.
        feedback = as_dict(body.get("promptFeedback"), "promptFeedback")
        reason = "content_filter" if feedback.get("blockReason") else "stop"
        choices = [{"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": reason}]
    model = body.get("modelVersion")
    out: Json = {
        "id": completion_id(body),
        "object": "chat.completion",
        "created": created_of(body),
        "model": model if isinstance(model, str) else "",
        "choices": choices,
    }
    usage = body.get("usageMetadata")
    if isinstance(usage, dict):
        out["usage"] = gemini_usage_to_openai(usage)
    return out


def _choice(candidate: Json, position: int, response_id: str) -> Json:
    content = as_dict(candidate.get("content"), f"candidates[{position}].content")
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[Json] = []
    signature = ""
    for part in as_list(content.get("parts"), f"candidates[{position}].content.parts"):
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("functionCall"), dict):
            calls.append(tool_call(part, part["functionCall"], len(calls), response_id))
            continue
        if isinstance(part.get("text"), str):
            (thoughts if part.get("thought") is True else texts).append(part["text"])
            found = part.get("thoughtSignature")
            signature = signature or (found if isinstance(found, str) else "")
        elif "inlineData" in part:
            texts.append(inline_markdown(part["inlineData"]))
    text = "".join(texts)
    message: Json = {"role": "assistant", "content": text if text or not calls else None}
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if calls:
        message["tool_calls"] = calls
    if signature:
        message["extra_content"] = signature_extra(signature)
    reason = candidate.get("finishReason")
    index = candidate.get("index")
    return {
        "index": index if isinstance(index, int) else position,
        "message": message,
        "finish_reason": gemini_finish_to_openai(reason if isinstance(reason, str) else "STOP", bool(calls)),
    }
