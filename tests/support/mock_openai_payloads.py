"""Pure builders for the mock provider's OpenAI wire bodies: token counting, chat/completion bodies and stream
chunks, embeddings, moderations, transcriptions and the error shape. No I/O here."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import orjson

FINGERPRINT = "fp_mock0001"
DONE_FRAME = b"data: [DONE]\n\n"
_VOCAB = ("Hello", "from", "mock", "provider", "this", "is", "a", "deterministic", "reply", "text")
TOOL_NAME = "get_weather"
# Streamed the way OpenAI splits tool arguments; joined they are the non-stream `arguments` string.
TOOL_ARG_FRAGMENTS = ('{"', "city", '":"', "Paris", '"}')
TOOL_ARGUMENTS = "".join(TOOL_ARG_FRAGMENTS)
MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# An input containing this word is flagged by the mock moderation endpoint.
MODERATION_TRIGGER = "mock-flag"


@lru_cache(maxsize=256)
def reply_words(n: int) -> tuple[str, ...]:
    """The n content deltas of a reply; each is one word plus a trailing space (one completion token each)."""
    return tuple(_VOCAB[i % len(_VOCAB)] + " " for i in range(n))


def reply_text(n: int) -> str:
    return "".join(reply_words(n))


def _words(text: Any) -> int:
    return len(text.split()) if isinstance(text, str) else 0


def _content_words(content: Any) -> int:
    if isinstance(content, list):
        return sum(_words(part.get("text")) for part in content if isinstance(part, dict))
    return _words(content)


def chat_prompt_tokens(body: dict[str, Any]) -> int:
    """Whitespace-separated words across all message contents, plus 3 per message."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    return sum(_content_words(m.get("content")) + 3 for m in messages if isinstance(m, dict))


def input_tokens(value: Any) -> int:
    """Tokens of a completions `prompt` or embeddings `input`: words of strings, length of token arrays."""
    if isinstance(value, str):
        return _words(value)
    if isinstance(value, list):
        if value and all(isinstance(v, int) for v in value):
            return len(value)
        return sum(input_tokens(v) for v in value)
    return 0


def reply_length(body: dict[str, Any], chunks: int) -> int:
    """Words to produce: the server's chunk count, or the request's token limit when smaller."""
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < chunks:
        return limit
    return chunks


def chat_usage(prompt: int, completion: int, cached: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def plain_usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def tool_call(call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": TOOL_NAME, "arguments": TOOL_ARGUMENTS}}


def chat_completion(
    rid: str, created: int, model: str, text: str | None, usage: dict[str, Any] | None, call_id: str | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
    if call_id is not None:
        message["tool_calls"] = [tool_call(call_id)]
    body: dict[str, Any] = {
        "id": rid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if call_id is not None else "stop",
            }
        ],
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }
    if usage is not None:
        body["usage"] = usage
    return body


def text_completion(rid: str, created: int, model: str, text: str, usage: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": rid,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
        "system_fingerprint": FINGERPRINT,
    }
    if usage is not None:
        body["usage"] = usage
    return body


def frame(obj: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def chat_deltas(n: int, call_id: str | None) -> Iterator[tuple[dict[str, Any], str | None]]:
    """(delta, finish_reason) for each chat stream chunk, ending with the empty-delta finish chunk."""
    if call_id is None:
        yield {"role": "assistant", "content": "", "refusal": None}, None
        for word in reply_words(n):
            yield {"content": word}, None
        yield {}, "stop"
        return
    head = {"index": 0, "id": call_id, "type": "function", "function": {"name": TOOL_NAME, "arguments": ""}}
    yield {"role": "assistant", "content": None, "tool_calls": [head], "refusal": None}, None
    for fragment in TOOL_ARG_FRAGMENTS:
        yield {"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}, None
    yield {}, "tool_calls"


def chat_chunk(base: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    chunk = dict(base)
    chunk["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    return chunk


def text_chunk(base: dict[str, Any], text: str, finish: str | None) -> dict[str, Any]:
    chunk = dict(base)
    chunk["choices"] = [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}]
    return chunk


def usage_chunk(base: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    chunk = dict(base)
    chunk["choices"] = []
    chunk["usage"] = usage
    return chunk


def embedding_vector(text: str) -> list[float]:
    """8 floats derived from the input; each is k/128, exactly representable as float32 for base64 round trips."""
    seed = zlib.crc32(text.encode())
    return [(((seed >> (4 * k)) & 0xFF) - 128) / 128 for k in range(8)]


def embedding_inputs(value: Any) -> list[str]:
    """Each embedding input as a string key (token arrays keyed by their numbers)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [" ".join(map(str, value))]
    if isinstance(value, list):
        return [v if isinstance(v, str) else " ".join(map(str, v)) for v in value if isinstance(v, str | list)]
    return []


def embeddings(model: str, value: Any, as_base64: bool) -> dict[str, Any]:
    data: list[dict[str, Any]] = []
    for index, text in enumerate(embedding_inputs(value)):
        vector = embedding_vector(text)
        encoded: Any = base64.b64encode(struct.pack("<8f", *vector)).decode() if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = input_tokens(value)
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def moderation(rid: str, model: str, value: Any) -> dict[str, Any]:
    texts = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if value else []
    results = []
    for text in texts:
        flagged = MODERATION_TRIGGER in text
        results.append(
            {
                "flagged": flagged,
                "categories": {c: flagged and c == "violence" for c in MODERATION_CATEGORIES},
                "category_scores": {c: 0.9 if flagged and c == "violence" else 0.0001 for c in MODERATION_CATEGORIES},
                "category_applied_input_types": {c: ["text"] for c in MODERATION_CATEGORIES},
            }
        )
    return {"id": rid, "model": model or "omni-moderation-latest", "results": results}


def images(created: int, prompt: str, n: int, as_b64: bool) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for i in range(n):
        item: dict[str, Any] = {"revised_prompt": prompt}
        if as_b64:
            item["b64_json"] = base64.b64encode(b"\x89PNG\r\n\x1a\nmock-image-%d" % i).decode()
        else:
            item["url"] = f"https://images.mock.invalid/image-{i}.png"
        items.append(item)
    return {"created": created, "data": items}


def speech_audio(text: str) -> bytes:
    """Bytes that look like an MP3 (ID3 tag, then frame sync), sized by the input so tests can compare."""
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * (1 + len(text))


def transcript_text(audio: bytes) -> str:
    return f"Mock transcript of {len(audio)} bytes."


def audio_duration(audio: bytes) -> float:
    # 16 kHz mono 16-bit PCM: 32,000 bytes a second.
    return round(len(audio) / 32000, 2)


def verbose_transcript(task: str, language: str, audio: bytes) -> dict[str, Any]:
    text = transcript_text(audio)
    duration = audio_duration(audio)
    segment = {
        "id": 0,
        "seek": 0,
        "start": 0.0,
        "end": duration,
        "text": text,
        "tokens": list(range(50364, 50364 + len(text.split()))),
        "temperature": 0.0,
        "avg_logprob": -0.25,
        "compression_ratio": 1.0,
        "no_speech_prob": 0.01,
    }
    return {"task": task, "language": language, "duration": duration, "text": text, "segments": [segment]}


def subtitles(audio: bytes, vtt: bool) -> str:
    end = audio_duration(audio)
    stamp = f"00:00:{end:06.3f}"
    if vtt:
        return f"WEBVTT\n\n00:00:00.000 --> {stamp}\n{transcript_text(audio)}\n\n"
    return f"1\n00:00:00,000 --> {stamp.replace('.', ',')}\n{transcript_text(audio)}\n\n"


def error(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


# (message, type, code) by HTTP status, as OpenAI answers them.
ERRORS_BY_STATUS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request (mock-error-400).", "invalid_request_error", None),
    401: (
        "Incorrect API key provided: sk-mock***. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    403: ("Country, region, or territory not supported", "request_forbidden", "unsupported_country_region_territory"),
    404: ("The model does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"),
    429: (
        "Rate limit reached for requests (mock). Please try again in 20ms.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later", "server_error", None),
}


def error_for_status(status: int) -> dict[str, Any]:
    message, type_, code = ERRORS_BY_STATUS.get(status, (f"Mock upstream error {status}.", "server_error", None))
    return error(message, type_, code)
