"""Bridge 2, answer: an Anthropic Messages message (upstream) → an OpenAI chat completion (client)."""

from __future__ import annotations

from typing import Any

from clinx.relay.convert.base import Json
from clinx.relay.convert.claude_openai_common import (
    CLAUDE_TO_OPENAI_FINISH,
    arr,
    dump_args,
    obj,
    openai_usage,
    opt_obj,
    opt_text,
    text,
)


def finish_reason(stop_reason: Any) -> str:
    return CLAUDE_TO_OPENAI_FINISH.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def from_claude_response(answer: Json) -> Json:
    answer = obj(answer, "upstream answer")
    blocks = [obj(b, f"content[{i}]") for i, b in enumerate(arr(answer.get("content") or [], "content"))]
    texts = [text(b.get("text"), "content[].text") for b in blocks if b.get("type") == "text"]
    thinking = [b for b in blocks if b.get("type") == "thinking"]
    message: Json = {"role": "assistant", "content": "".join(texts) if texts else None}
    if thinking:
        message["reasoning_content"] = "".join(opt_text(b.get("thinking"), "content[].thinking") for b in thinking)
        signature = thinking[0].get("signature")
        # One signature can only vouch for one block's text: with several thinking blocks none is passed on.
        if len(thinking) == 1 and isinstance(signature, str) and signature:
            message["reasoning_signature"] = signature
    calls = [_tool_call(b) for b in blocks if b.get("type") == "tool_use"]
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-" + opt_text(answer.get("id"), "id"),
        "object": "chat.completion",
        "created": 0,  # Claude answers carry no timestamp; the pipeline may stamp one
        "model": answer.get("model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(answer.get("stop_reason")),
            }
        ],
        "usage": openai_usage(opt_obj(answer.get("usage"), "usage")),
    }


def _tool_call(block: Json) -> Json:
    arguments = dump_args(opt_obj(block.get("input"), "tool_use.input"))
    function = {"name": text(block.get("name"), "tool_use.name"), "arguments": arguments}
    return {"id": text(block.get("id"), "tool_use.id"), "type": "function", "function": function}
