"""Pure builders for the mock provider's Gemini generateContent wire bodies: token counting, what to answer (a
`Plan`), whole responses, stream chunks with running usage, SSE and JSON-array framing, and the error shape."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from tests.support.mock_openai_payloads import TOOL_ARG_FRAGMENTS, TOOL_NAME, reply_words

TOOL_ARGS: dict[str, Any] = {"city": "Paris"}
THOUGHT_WORDS = ("Thinking ", "about ", "the ", "request. ")
THOUGHT_SIGNATURE = base64.b64encode(b"mock-thought-signature-0001").decode()
# Google ends each server-sent event with CRLF pairs, not bare newlines.
SSE_END = b"\r\n\r\n"

# (status, message) by HTTP status, as the Gemini API answers them.
ERRORS_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: (
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid "
        "authentication credential.",
    ),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: (
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    500: ("INTERNAL", "An internal error has occurred. Please retry or report in the troubleshooting guide."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}
ERROR_MODELS = {f"mock-error-{s}": s for s in (400, 401, 429, 500)}
NO_KEY_MESSAGE = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)


def _get(body: Any, camel: str, snake: str) -> Any:
    """Google's JSON mapping accepts both spellings of a field name."""
    if not isinstance(body, dict):
        return None
    return body.get(camel, body.get(snake))


def _parts_words(content: Any) -> int:
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list):
        return 0
    return sum(len(p["text"].split()) for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


def prompt_tokens(body: dict[str, Any]) -> int:
    """Whitespace-separated words of the text parts of `contents` and `systemInstruction`."""
    contents = body.get("contents")
    counted = sum(_parts_words(c) for c in contents) if isinstance(contents, list) else 0
    return counted + _parts_words(_get(body, "systemInstruction", "system_instruction"))


def validation_error(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Invalid JSON payload received. Unexpected token."
    if not body.get("contents"):
        return "* GenerateContentRequest.contents: contents is not specified\n"
    return None


def usage(prompt: int, candidates: int, thoughts: int = 0, cached: int = 0) -> dict[str, Any]:
    """Gemini usage: `promptTokenCount` includes any cached tokens; thoughts count on their own."""
    out: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if thoughts:
        out["thoughtsTokenCount"] = thoughts
    if cached:
        out["cachedContentTokenCount"] = cached
        out["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    return out


@dataclass(frozen=True)
class Plan:
    """What one answer holds, decided from the request and the model name in the path."""

    model: str
    response_id: str
    prompt: int
    words: int
    finish: str
    tool: bool = False
    thinking: bool = False
    with_usage: bool = True
    cached: int = 0


def plan(body: dict[str, Any], model: str, chunks: int, response_id: str) -> Plan:
    """The reply is `chunks` words, cut to `generationConfig.maxOutputTokens` (finishReason MAX_TOKENS); thought
    parts come first for model "mock-thinking" or when `thinkingConfig.includeThoughts` asks for them."""
    prompt = prompt_tokens(body)
    config = _get(body, "generationConfig", "generation_config")
    limit = _get(config, "maxOutputTokens", "max_output_tokens")
    include_thoughts = _get(_get(config, "thinkingConfig", "thinking_config"), "includeThoughts", "include_thoughts")
    limited = isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < chunks
    words, finish = (limit, "MAX_TOKENS") if limited else (chunks, "STOP")
    return Plan(
        model,
        response_id,
        prompt,
        0 if model == "mock-tool" else words,
        "STOP" if model == "mock-tool" else finish,
        tool=model == "mock-tool",
        thinking=model == "mock-thinking" or include_thoughts is True,
        with_usage=model != "mock-nousage",
        cached=prompt // 2 if model == "mock-cached" else 0,
    )


def _candidate(parts: list[dict[str, Any]], finish: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if finish is not None:
        out["finishReason"] = finish
    out["index"] = 0
    return out


def _response(
    p: Plan, parts: list[dict[str, Any]], finish: str | None, candidates: int, thoughts: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"candidates": [_candidate(parts, finish)]}
    if p.with_usage:
        out["usageMetadata"] = usage(p.prompt, candidates, thoughts, p.cached)
    out["modelVersion"] = p.model
    out["responseId"] = p.response_id
    return out


def _output_tokens(p: Plan) -> int:
    return len(TOOL_ARG_FRAGMENTS) if p.tool else p.words


def response(p: Plan) -> dict[str, Any]:
    if p.tool:
        parts: list[dict[str, Any]] = [{"functionCall": {"name": TOOL_NAME, "args": TOOL_ARGS}}]
    else:
        parts = [{"text": "".join(reply_words(p.words))}]
    if p.thinking:
        parts[0]["thoughtSignature"] = THOUGHT_SIGNATURE
        parts.insert(0, {"text": "".join(THOUGHT_WORDS), "thought": True})
    thoughts = len(THOUGHT_WORDS) if p.thinking else 0
    return _response(p, parts, p.finish, _output_tokens(p), thoughts)


def stream_chunks(p: Plan) -> list[dict[str, Any]]:
    """One chunk per thought word, then per reply word (or one functionCall chunk); each carries the usage so far
    and the last one the finishReason."""
    thought_words = THOUGHT_WORDS if p.thinking else ()
    thoughts = len(thought_words)
    chunks = [_response(p, [{"text": w, "thought": True}], None, 0, i + 1) for i, w in enumerate(thought_words)]
    if p.tool:
        pieces: list[dict[str, Any]] = [{"functionCall": {"name": TOOL_NAME, "args": TOOL_ARGS}}]
    else:
        pieces = [{"text": w} for w in reply_words(p.words)] or [{"text": ""}]
    if p.thinking:
        pieces[0]["thoughtSignature"] = THOUGHT_SIGNATURE
    last = len(pieces) - 1
    for i, part in enumerate(pieces):
        done = i == last
        produced = _output_tokens(p) if done else i + 1
        chunks.append(_response(p, [part], p.finish if done else None, produced, thoughts))
    return chunks


def sse_frame(chunk: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(chunk) + SSE_END


def array_frames(chunks: list[dict[str, Any]]) -> list[bytes]:
    """Without `alt=sse` the stream is one JSON array written element by element."""
    frames = [(b"[" if i == 0 else b",\r\n") + orjson.dumps(c) for i, c in enumerate(chunks)]
    frames.append(b"]")
    return frames


def error(status: int, message: str | None = None) -> dict[str, Any]:
    name, default = ERRORS_BY_STATUS.get(status, ("INTERNAL" if status >= 500 else "FAILED_PRECONDITION", ""))
    text = message or default or f"Mock upstream error {status}."
    return {"error": {"code": status, "message": text, "status": name}}
