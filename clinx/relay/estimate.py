"""Token estimates the relay needs before the call (to reserve) and after it when the provider gave no usage."""

from __future__ import annotations

from typing import Any

from clinx.billing import tokens
from clinx.relay.endpoints import Endpoint


def _input_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(v for v in value if isinstance(v, str))
    return ""


def prompt_tokens(endpoint: Endpoint, model: str, body: dict[str, Any] | None) -> int:
    if not body:
        return 0
    if endpoint == Endpoint.CHAT:
        messages = body.get("messages")
        tools = body.get("tools")
        return tokens.count_chat_prompt(
            model, messages if isinstance(messages, list) else [], tools if isinstance(tools, list) else None
        )
    if endpoint == Endpoint.COMPLETIONS:
        return tokens.count_text(model, _input_text(body.get("prompt")))
    if endpoint in (Endpoint.EMBEDDINGS, Endpoint.MODERATIONS):
        return tokens.count_text(model, _input_text(body.get("input")))
    if endpoint == Endpoint.SPEECH:
        return len(_input_text(body.get("input")))  # TTS is priced per input character
    if endpoint == Endpoint.IMAGES:
        return tokens.count_text(model, _input_text(body.get("prompt")))
    return 0


def max_output_tokens(body: dict[str, Any] | None) -> int:
    if not body:
        return 0
    for name in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


def completion_tokens(model: str, text: str) -> int:
    return tokens.count_completion(model, text) if text else 0
