"""Pure builders for the mock provider's Anthropic Messages wire bodies: token counting, what to answer (a `Plan`),
the message body, the stream's named events and the error shape. No I/O here."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from tests.support.mock_openai_payloads import TOOL_ARG_FRAGMENTS, TOOL_NAME, reply_text, reply_words

# Anthropic opens a streamed tool input with an empty fragment before the pieces of JSON.
TOOL_JSON_FRAGMENTS = ("", *TOOL_ARG_FRAGMENTS)
TOOL_INPUT: dict[str, Any] = {"city": "Paris"}
THINKING_WORDS = ("Let ", "me ", "think ", "about ", "this ", "first. ")
THINKING_TEXT = "".join(THINKING_WORDS)
SIGNATURE = base64.b64encode(b"mock-thinking-signature-0001").decode()
CACHE_CREATION_TOKENS = 7
REQUIRED_FIELDS = ("model", "max_tokens", "messages")

# (error type, message) by HTTP status, as Anthropic answers them.
ERRORS_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request (mock-error-400)."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your per-minute rate limit (mock)."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}
# Model names that make /v1/messages answer with that status.
ERROR_MODELS = {f"mock-error-{s}": s for s in (400, 401, 429, 500)}


def _words(text: Any) -> int:
    return len(text.split()) if isinstance(text, str) else 0


def _content_words(content: Any) -> int:
    """Words of a string, or of the text in a list of blocks (tool results count their own content)."""
    if not isinstance(content, list):
        return _words(content)
    total = 0
    for block in content:
        if isinstance(block, dict):
            total += _words(block.get("text")) + (_content_words(block.get("content")) if "content" in block else 0)
    return total


def prompt_tokens(body: dict[str, Any]) -> int:
    """Whitespace-separated words of `system` plus every message's text (no per-message overhead)."""
    messages = body.get("messages")
    counted = sum(_content_words(m.get("content")) for m in messages if isinstance(m, dict)) if messages else 0
    return _content_words(body.get("system")) + counted


def validation_error(body: dict[str, Any]) -> str | None:
    """The message Anthropic gives for a body missing what /v1/messages requires, or None when it is acceptable."""
    for name in REQUIRED_FIELDS:
        if name not in body:
            return f"{name}: Field required"
    limit = body["max_tokens"]
    if not isinstance(limit, int) or isinstance(limit, bool):
        return "max_tokens: Input should be a valid integer"
    if limit < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    if not isinstance(body["messages"], list):
        return "messages: Input should be a valid list"
    return None


def thinking_enabled(body: dict[str, Any]) -> bool:
    """A request turning extended thinking on gets a thinking block, as from Claude (a gateway may have rewritten
    "mock-thinking" into that)."""
    config = body.get("thinking")
    return isinstance(config, dict) and config.get("type") in ("enabled", "adaptive")


def usage(prompt: int, output: int, cache_read: int = 0, cache_creation: int = 0) -> dict[str, Any]:
    """Anthropic usage: `input_tokens` excludes the tokens read from or written to the cache."""
    return {
        "input_tokens": prompt,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_creation, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output,
        "service_tier": "standard",
    }


def usage_for(model: str, prompt: int, output: int) -> dict[str, Any]:
    """Usage by model name. Anthropic always reports usage, so "mock-nousage" reports zeros; "mock-cached" reads
    half the prompt from the cache (leaving the rest in `input_tokens`) and writes 7 more tokens to it."""
    if model == "mock-nousage":
        return usage(0, 0)
    if model == "mock-cached":
        cached = prompt // 2
        return usage(prompt - cached, output, cached, CACHE_CREATION_TOKENS)
    return usage(prompt, output)


@dataclass(frozen=True)
class Plan:
    """What one answer holds: `words` reply words (or a tool call), an optional thinking block, and its usage."""

    model: str
    words: int
    stop_reason: str
    usage: dict[str, Any]
    tool_id: str | None = None
    thinking: bool = False


def plan(body: dict[str, Any], chunks: int, tool_id: str | None) -> Plan:
    """The reply is `chunks` words, cut to `max_tokens` words (stop_reason "max_tokens") when that is smaller; a
    thinking block comes first for model "mock-thinking" or when the request enables thinking."""
    model = body["model"]
    prompt = prompt_tokens(body)
    if tool_id is not None:
        return Plan(model, 0, "tool_use", usage_for(model, prompt, len(TOOL_ARG_FRAGMENTS)), tool_id)
    limit = body["max_tokens"]
    words, stop = (limit, "max_tokens") if limit < chunks else (chunks, "end_turn")
    thinking = model == "mock-thinking" or thinking_enabled(body)
    output = words + (len(THINKING_WORDS) if thinking else 0)
    return Plan(model, words, stop, usage_for(model, prompt, output), None, thinking)


def content(p: Plan) -> list[dict[str, Any]]:
    if p.tool_id is not None:
        return [{"type": "tool_use", "id": p.tool_id, "name": TOOL_NAME, "input": TOOL_INPUT}]
    blocks: list[dict[str, Any]] = []
    if p.thinking:
        blocks.append({"type": "thinking", "thinking": THINKING_TEXT, "signature": SIGNATURE})
    blocks.append({"type": "text", "text": reply_text(p.words)})
    return blocks


def message(
    mid: str, p: Plan, blocks: list[dict[str, Any]], stop_reason: str | None, use: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": p.model,
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": use,
    }


def response(mid: str, p: Plan) -> dict[str, Any]:
    return message(mid, p, content(p), p.stop_reason, p.usage)


Event = tuple[str, dict[str, Any]]


def _block_events(index: int, block: dict[str, Any], p: Plan) -> list[Event]:
    """content_block_start (the block emptied), a ping after the first start, the deltas, content_block_stop."""
    kind = block["type"]
    if kind == "tool_use":
        start = {**block, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": f} for f in TOOL_JSON_FRAGMENTS]
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": w} for w in THINKING_WORDS]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    else:
        start = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": w} for w in reply_words(p.words)]
    opening = {"type": "content_block_start", "index": index, "content_block": start}
    events: list[Event] = [("content_block_start", opening)]
    if index == 0:
        events.append(("ping", {"type": "ping"}))
    events.extend(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas)
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def stream_events(mid: str, p: Plan) -> list[Event]:
    """message_start (usage so far: the input and 1 output token), the blocks, message_delta, message_stop."""
    start_usage = {**p.usage, "output_tokens": min(1, p.usage["output_tokens"])}
    opening = {"type": "message_start", "message": message(mid, p, [], None, start_usage)}
    events: list[Event] = [("message_start", opening)]
    for index, block in enumerate(content(p)):
        events.extend(_block_events(index, block, p))
    delta = {"stop_reason": p.stop_reason, "stop_sequence": None}
    final_usage = {"output_tokens": p.usage["output_tokens"]}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def frame(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def error(type_: str, message_: str, request_id: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type_, "message": message_}, "request_id": request_id}


def error_for_status(status: int, request_id: str) -> dict[str, Any]:
    default = ("api_error", f"Mock upstream error {status}.") if status >= 500 else ("invalid_request_error", "")
    type_, message_ = ERRORS_BY_STATUS.get(status, default)
    return error(type_, message_ or f"Mock upstream error {status}.", request_id)
