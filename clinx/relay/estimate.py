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


IMAGE_PART_TOKENS = 765


def _content_bytes(content: Any) -> tuple[int, int]:
    """(UTF-8 bytes of text, number of images) of a message content (string or list of parts)."""
    if isinstance(content, str):
        return len(content.encode()), 0
    size = images = 0
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    size += len(part["text"].encode())
                elif part.get("type") in {"image_url", "image", "input_image"}:
                    images += 1
    return size, images


async def prepare(model: str) -> None:
    """Make exact local counting for ``model`` ready: its encoding loads on first use, in a thread (about a second
    and 40–80 MB, spent only by a node that meets a provider reporting no usage)."""
    await tokens.prepare(model)


def _quick_text_tokens(text: str) -> int:
    return len(text.encode()) // 3 + 1


def quick_prompt_tokens(endpoint: Endpoint, model: str, body: dict[str, Any] | None) -> int:
    """A cheap upper-leaning estimate for the reservation (settled against real usage afterwards): one token
    per three UTF-8 bytes (exact-ish for CJK, generous for English), four per message, a fixed cost per image.
    No encoding is needed: exact local counting is kept for when a provider reports no usage."""
    if not body:
        return 0
    if endpoint != Endpoint.CHAT:
        return _quick_other(endpoint, body)
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    size = images = 0
    for message in messages:
        if isinstance(message, dict):
            text, pictures = _content_bytes(message.get("content"))
            size += text
            images += pictures
    tools = body.get("tools")
    if isinstance(tools, list):
        size += sum(len(str(tool)) for tool in tools)
    return size // 3 + 4 * len(messages) + IMAGE_PART_TOKENS * images + 3


def _quick_other(endpoint: Endpoint, body: dict[str, Any]) -> int:
    if endpoint in (Endpoint.COMPLETIONS, Endpoint.IMAGES):
        return _quick_text_tokens(_input_text(body.get("prompt")))
    if endpoint in (Endpoint.EMBEDDINGS, Endpoint.MODERATIONS):
        return _quick_text_tokens(_input_text(body.get("input")))
    if endpoint == Endpoint.RERANK:
        return _quick_text_tokens(rerank_text(body))
    # Speech is priced per character (exact and cheap); the other dialects reserve their output and the
    # PreConsumedQuota floor, and settle on the provider's usage.
    return prompt_tokens(endpoint, "", body) if endpoint == Endpoint.SPEECH else 0


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
    if endpoint == Endpoint.RERANK:
        return tokens.count_text(model, rerank_text(body))
    return 0


def rerank_text(body: dict[str, Any]) -> str:
    """A rerank request's documents then its query, one per line, as New API counts them (for providers such as
    Cohere that report search units, not tokens)."""
    parts: list[str] = []
    documents = body.get("documents")
    for doc in documents if isinstance(documents, list) else []:
        if isinstance(doc, dict):
            doc = doc.get("text")
        if isinstance(doc, str):
            parts.append(doc)
    query = body.get("query")
    if isinstance(query, str) and query:
        parts.append(query)
    return "\n".join(parts)


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
