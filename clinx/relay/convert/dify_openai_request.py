"""OpenAI chat request → Dify app request (the same body serves ``/v1/chat-messages``, ``/v1/completion-messages``
and ``/v1/workflows/run``; each endpoint reads the fields it knows and Dify drops undeclared inputs).

Dify keeps a conversation's history on its side under a ``conversation_id``, which OpenAI clients do not have: they
resend the whole conversation each time. So the earlier turns are folded into ``query`` as a labelled transcript
(``SYSTEM: …``, ``USER: …``, ``ASSISTANT: …``, then the last user message), and each call starts a new Dify
conversation. A client that keeps Dify's ``conversation_id`` (returned beside each answer) and sends it back in the
body gets Dify's own memory instead: then only the last user message is sent.
"""

from __future__ import annotations

from typing import Any

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json
from clinx.relay.convert.shapes import as_dict, as_list
from clinx.relay.convert.shapes import as_str as optional_str

DEFAULT_USER = "clinx"
ROLE_LABELS = {
    "system": "SYSTEM",
    "developer": "SYSTEM",
    "user": "USER",
    "assistant": "ASSISTANT",
    "tool": "TOOL",
    "function": "TOOL",
}


def openai_request_to_dify(body: Json) -> Json:
    messages = [as_dict(m, f"messages[{i}]") for i, m in enumerate(as_list(body.get("messages"), "messages"))]
    last = _last_user(messages)
    conversation_id = optional_str(body.get("conversation_id"), "conversation_id")
    text = message_text(messages[last].get("content"), f"messages[{last}].content")
    # Turns after the last user message (an assistant prefill) have no place in a Dify query: dropped.
    query = transcript([] if conversation_id else messages[:last], text)
    inputs = dict(as_dict(body.get("inputs"), "inputs"))
    # Completion apps read their text from inputs.query, and workflow apps that declare a "query" input get it too;
    # apps that declare no such input ignore it.
    inputs.setdefault("query", query)
    out: Json = {
        "inputs": inputs,
        "query": query,
        "response_mode": "streaming",
        "user": optional_str(body.get("user"), "user") or DEFAULT_USER,
        # Each OpenAI call starts a new Dify conversation: naming it would cost an extra model call every time.
        "auto_generate_name": _flag(body.get("auto_generate_name"), False),
    }
    if conversation_id:
        out["conversation_id"] = conversation_id
    files = image_files(messages[last].get("content"))
    if files:
        out["files"] = files
    return out


def _last_user(messages: list[Json]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "user":
            return index
    raise ValidationError("messages must contain a user message: a Dify app answers the user's query")


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    raise ValidationError("auto_generate_name must be a boolean")


def _parts(content: Any, where: str) -> list[Json]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [as_dict(part, f"{where}[{i}]") for i, part in enumerate(as_list(content, where))]


def message_text(content: Any, where: str) -> str:
    """The text of a message's content (a string or parts); images and other media are not text."""
    if content is not None and not isinstance(content, str | list):
        raise ValidationError(f"{where} must be a string or an array of content parts")
    texts = []
    for i, part in enumerate(_parts(content, where)):
        if part.get("type") == "text":
            texts.append(optional_str(part.get("text"), f"{where}[{i}].text"))
    return "\n".join(texts)


def transcript(history: list[Json], text: str) -> str:
    """The query: the last user message alone, or after the earlier turns as a labelled transcript."""
    lines = []
    for i, message in enumerate(history):
        role = optional_str(message.get("role"), f"messages[{i}].role")
        said = "\n".join(
            part for part in (message_text(message.get("content"), f"messages[{i}].content"), _calls(message)) if part
        )
        if said:
            lines.append(f"{ROLE_LABELS.get(role, role.upper() or 'USER')}: {said}")
    if not lines:
        return text
    return "\n\n".join([*lines, f"USER: {text}"])


def _calls(message: Json) -> str:
    """An assistant's tool calls, written out so the transcript still says what the tool results answer."""
    lines = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            lines.append(f"(called {function.get('name')}({function.get('arguments') or ''}))")
    return "\n".join(lines)


def _image_url(part: Json) -> str:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise ValidationError("image_url.url must be a non-empty string")
    return url


def image_files(content: Any) -> list[Json]:
    """Images of the last user message given by URL, as Dify ``files``. Base64 data URLs need Dify's upload API
    (I/O a bridge cannot do): they are left out here; see ``inline_images``."""
    if not isinstance(content, list):
        return []
    files = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "image_url":
            url = _image_url(part)
            if not url.startswith("data:"):
                files.append({"type": "image", "transfer_method": "remote_url", "url": url})
    return files


def inline_images(body: Json) -> list[str]:
    """The base64 data URLs among the last user message's images: what a sender must upload to Dify
    (``/v1/files/upload``) and attach as ``local_file`` files."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return []
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if not isinstance(content, list):
                return []
            return [
                _image_url(part)
                for part in content
                if isinstance(part, dict) and part.get("type") == "image_url" and _image_url(part).startswith("data:")
            ]
    return []
