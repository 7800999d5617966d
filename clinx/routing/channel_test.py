"""Channel tests without I/O: which model a test uses, the tiny request it sends, how its answer is judged and
when a slow answer counts as a failure. The management route sends what this builds and acts on the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from clinx.core.types import ChannelInfo

FALLBACK_MODEL = "gpt-4o-mini"
TEST_TOKEN_NAME = "模型测试"  # New API's token name (and content) of channel-test log rows
EMBEDDING_MARKERS = ("embedding", "m3e", "bge-")
# Reasoning models refuse max_tokens and take max_completion_tokens instead.
COMPLETION_TOKEN_PREFIXES = ("o1", "o3", "o4", "gpt-5")
BAD_BODY = "bad_response_body"
TOO_SLOW = "channel_response_time_exceeded"


def pick_model(channel: ChannelInfo, requested: str = "") -> str:
    """``?model=``, else the channel's test model, else its first model, else gpt-4o-mini (New API's order)."""
    for candidate in (requested, channel.test_model, *channel.models[:1]):
        if candidate and candidate.strip():
            return candidate.strip()
    return FALLBACK_MODEL


def is_embedding(model: str) -> bool:
    name = model.lower()
    return any(marker in name for marker in EMBEDDING_MARKERS)


def probe_body(model: str) -> dict[str, Any]:
    """The request body of a test of ``model`` (origin name; the caller maps it for the channel)."""
    if is_embedding(model):
        return {"model": model, "input": "hello world"}
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    name = model.lower()
    if name.startswith(COMPLETION_TOKEN_PREFIXES):
        body["max_completion_tokens"] = 16
    elif "thinking" in name and "claude" not in name:
        body["max_tokens"] = 50  # thinking variants spend their first tokens on reasoning
    elif "gemini" in name:
        body["max_tokens"] = 3000
    else:
        body["max_tokens"] = 16
    return body


@dataclass(frozen=True)
class Verdict:
    """What a 2xx answer says: usable (with its parsed payload) or not (with a message and an error code)."""

    ok: bool
    payload: dict[str, Any]
    message: str = ""
    code: str = ""


def _bad(message: str) -> Verdict:
    return Verdict(False, {}, message, BAD_BODY)


def judge(body: bytes, *, embedding: bool) -> Verdict:
    """Judge a 2xx answer: it must be a JSON object carrying choices (chat) or data (embeddings), and some
    resellers answer errors with status 200, so an ``error`` member fails the test too."""
    try:
        payload = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return _bad(f"上游返回的不是 JSON (the upstream answer is not JSON): {body[:200].decode('utf-8', 'replace')}")
    if not isinstance(payload, dict):
        return _bad("上游返回的不是 JSON 对象 (the upstream answer is not a JSON object)")
    error = payload.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else error
        return Verdict(False, payload, str(message or error), "bad_response_status_code")
    member = "data" if embedding else "choices"
    if not isinstance(payload.get(member), list) or not payload[member]:
        return _bad(f"上游回答缺少 {member} (the upstream answer has no {member})")
    return Verdict(True, payload)


def too_slow(seconds: float, threshold_seconds: float) -> str:
    """The failure message when a test took longer than the threshold (0 = no limit), else ""."""
    if threshold_seconds <= 0 or seconds <= threshold_seconds:
        return ""
    return f"响应时间 {seconds:.2f}s 超过阈值 {threshold_seconds:.2f}s (the channel answered too slowly)"
