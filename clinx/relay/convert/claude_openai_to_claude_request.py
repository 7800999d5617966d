"""Bridge 2, request: an OpenAI Chat Completions body (client) → an Anthropic Messages body (upstream)."""

from __future__ import annotations

import re
from typing import Any

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json
from clinx.relay.convert.claude_openai_common import arr, obj, opt_obj, opt_text, parse_args, text

# New API's claude.default_max_tokens; the pipeline may override it per model.
DEFAULT_MAX_TOKENS = 8192
# reasoning_effort → thinking budget_tokens; "none"/"minimal" leave thinking off.
THINKING_BUDGETS = {"low": 1024, "medium": 4096, "high": 16384, "xhigh": 32768, "max": 32768}
_NO_THINKING = ("none", "minimal")
_TOOL_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_DATA_URL = re.compile(r"^data:([^;,]+);base64,(.*)$", re.DOTALL)


def to_claude_request(body: Json) -> Json:
    body = obj(body, "request body")
    system, messages = _messages(arr(body.get("messages"), "messages"))
    out: Json = {"model": body.get("model"), "max_tokens": _max_tokens(body)}
    if system:
        out["system"] = system
    out["messages"] = messages
    for key in ("temperature", "top_p", "stream"):
        if body.get(key) is not None:
            out[key] = body[key]
    stops = _stops(body.get("stop"))
    if stops:
        out["stop_sequences"] = stops
    out.update(_tools(body))
    _thinking(body, out)
    user = body.get("user")
    if isinstance(user, str) and user:
        out["metadata"] = {"user_id": user}
    return out


def tool_id(value: Any, where: str) -> str:
    """Claude accepts tool ids matching ``[A-Za-z0-9_-]+``; other characters (some upstreams use ``.`` or
    ``:``) become ``_``, the same way for the call and its result so they still pair."""
    return _TOOL_ID_UNSAFE.sub("_", text(value, where)) or "_"


def _max_tokens(body: Json) -> int:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValidationError(f"{key} must be a positive integer")
        return value
    return DEFAULT_MAX_TOKENS


def _stops(stop: Any) -> list[str]:
    """Claude refuses whitespace-only stop sequences, so those are left out."""
    if stop is None:
        return []
    items = [stop] if isinstance(stop, str) else arr(stop, "stop")
    return [s for s in (text(s, "stop[]") for s in items) if s.strip()]


def _messages(messages: list[Any]) -> tuple[str, list[Json]]:
    """System and developer messages, wherever they are, join the top-level system prompt. Consecutive
    messages of the same Claude role (tool results then a user turn, for instance) are merged into one."""
    system: list[str] = []
    out: list[Json] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        message = obj(message, where)
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(_plain_text(message.get("content"), f"{where}.content"))
            continue
        converted = _turn(message, role, where)
        if converted is not None:
            _append(out, converted)
    return "\n".join(s for s in system if s), out


def _turn(message: Json, role: Any, where: str) -> Json | None:
    if role == "user":
        blocks = _user_blocks(message.get("content"), f"{where}.content")
        return {"role": "user", "content": blocks} if blocks else None
    if role == "assistant":
        blocks = _assistant_blocks(message, where)
        return {"role": "assistant", "content": blocks} if blocks else None
    if role == "tool":
        result: Json = {
            "type": "tool_result",
            "tool_use_id": tool_id(message.get("tool_call_id"), f"{where}.tool_call_id"),
            "content": _plain_text(message.get("content"), f"{where}.content"),
        }
        return {"role": "user", "content": [result]}
    raise ValidationError(
        f"{where}.role {role!r} is not supported on a Claude channel (use system/user/assistant/tool)"
    )


def _append(out: list[Json], message: Json) -> None:
    if out and out[-1]["role"] == message["role"]:
        out[-1]["content"].extend(message["content"])
    else:
        out.append(message)


def _plain_text(content: Any, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    parts = [obj(p, f"{where}[{j}]") for j, p in enumerate(arr(content, where))]
    return "\n".join(text(p.get("text"), f"{where}[].text") for p in parts if p.get("type") == "text")


def _user_blocks(content: Any, where: str) -> list[Json]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks = []
    for j, part in enumerate(arr(content, where)):
        at = f"{where}[{j}]"
        part = obj(part, at)
        kind = part.get("type")
        if kind == "text":
            value = text(part.get("text"), f"{at}.text")
            if value:
                blocks.append({"type": "text", "text": value})
        elif kind == "image_url":
            blocks.append(_image(part.get("image_url"), f"{at}.image_url"))
        elif kind == "file":
            blocks.append(_document(opt_obj(part.get("file"), f"{at}.file"), f"{at}.file"))
        elif kind == "input_audio":
            raise ValidationError(f"{at}: audio input cannot be sent to a Claude channel")
    return blocks


def _image(image: Any, where: str) -> Json:
    url = image if isinstance(image, str) else text(obj(image, where).get("url"), f"{where}.url")
    if url.startswith("data:"):
        media, data = _data_url(url, where)
        return {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise ValidationError(f"{where}.url must be an http(s) URL or a base64 data URL")


def _document(file: Json, where: str) -> Json:
    data_url = file.get("file_data")
    if not isinstance(data_url, str):
        raise ValidationError(f"{where}: only inline file_data (a base64 data URL) can be sent to a Claude channel")
    media, data = _data_url(data_url, where)
    block: Json = {"type": "document", "source": {"type": "base64", "media_type": media, "data": data}}
    name = file.get("filename")
    if isinstance(name, str) and name:
        block["title"] = name
    return block


def _data_url(url: str, where: str) -> tuple[str, str]:
    match = _DATA_URL.match(url)
    if match is None:
        raise ValidationError(f"{where}: data URLs must look like data:<media type>;base64,<data>")
    return match.group(1), match.group(2)


def _assistant_blocks(message: Json, where: str) -> list[Json]:
    """A thinking block survives only with its signature (``reasoning_signature``), which Claude needs to
    accept it back; reasoning text without one is dropped."""
    blocks: list[Json] = []
    reasoning = message.get("reasoning_content")
    signature = message.get("reasoning_signature")
    if isinstance(reasoning, str) and reasoning and isinstance(signature, str) and signature:
        blocks.append({"type": "thinking", "thinking": reasoning, "signature": signature})
    value = _plain_text(message.get("content"), f"{where}.content")
    if value:
        blocks.append({"type": "text", "text": value})
    for k, call in enumerate(arr(message.get("tool_calls") or [], f"{where}.tool_calls")):
        at = f"{where}.tool_calls[{k}]"
        call = obj(call, at)
        function = obj(call.get("function"), f"{at}.function")
        block: Json = {
            "type": "tool_use",
            "id": tool_id(call.get("id"), f"{at}.id"),
            "name": text(function.get("name"), f"{at}.function.name"),
            "input": parse_args(opt_text(function.get("arguments"), f"{at}.function.arguments")),
        }
        blocks.append(block)
    return blocks


def _tools(body: Json) -> Json:
    tools = []
    for i, tool in enumerate(arr(body.get("tools") or [], "tools")):
        tool = obj(tool, f"tools[{i}]")
        if tool.get("type", "function") != "function":
            continue  # custom/hosted OpenAI tools have no Claude counterpart
        function = obj(tool.get("function"), f"tools[{i}].function")
        converted: Json = {"name": text(function.get("name"), f"tools[{i}].function.name")}
        if function.get("description"):
            converted["description"] = opt_text(function.get("description"), f"tools[{i}].function.description")
        schema = function.get("parameters")
        converted["input_schema"] = (
            obj(schema, f"tools[{i}].function.parameters")
            if schema is not None
            else {"type": "object", "properties": {}}
        )
        tools.append(converted)
    if not tools:
        return {}
    out: Json = {"tools": tools}
    choice = _tool_choice(body.get("tool_choice"))
    if body.get("parallel_tool_calls") is False and choice.get("type") != "none":
        choice = {"type": "auto", **choice, "disable_parallel_tool_use": True}
    if choice:
        out["tool_choice"] = choice
    return out


def _tool_choice(choice: Any) -> Json:
    if choice is None:
        return {}
    if choice in ("auto", "none"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    if isinstance(choice, dict):
        function = opt_obj(choice.get("function"), "tool_choice.function")
        return {"type": "tool", "name": text(function.get("name"), "tool_choice.function.name")}
    raise ValidationError("tool_choice must be 'auto', 'none', 'required' or {type: function, function: {name}}")


def _thinking(body: Json, out: Json) -> None:
    """reasoning_effort turns on extended thinking. Claude then requires max_tokens above the budget (it is
    raised by the budget when it is not), no temperature/top_p tweaks, and no forced tool choice — a forced
    tool choice wins and thinking stays off."""
    effort = body.get("reasoning_effort")
    if effort is None or effort in _NO_THINKING:
        return
    if not isinstance(effort, str) or effort not in THINKING_BUDGETS:
        raise ValidationError("reasoning_effort must be one of none, minimal, low, medium, high, xhigh")
    if out.get("tool_choice", {}).get("type") in ("any", "tool"):
        return
    budget = THINKING_BUDGETS[effort]
    out["thinking"] = {"type": "enabled", "budget_tokens": budget}
    if out["max_tokens"] <= budget:
        out["max_tokens"] += budget
    out.pop("temperature", None)
    out.pop("top_p", None)
