"""Bridge 1, request: an Anthropic Messages body (client) → an OpenAI Chat Completions body (upstream)."""

from __future__ import annotations

from typing import Any

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json
from clinx.relay.convert.claude_openai_common import arr, dump_args, obj, opt_obj, opt_text, text

# Claude thinking budget → OpenAI reasoning_effort: at most 1024 tokens is "low", at most 8192 "medium".
LOW_BUDGET_MAX = 1024
MEDIUM_BUDGET_MAX = 8192
_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_PASSED = ("max_tokens", "temperature", "top_p", "stream")


def to_chat_request(body: Json) -> Json:
    body = obj(body, "request body")
    out: Json = {"model": body.get("model")}
    messages = _system(body.get("system"))
    for i, message in enumerate(arr(body.get("messages"), "messages")):
        messages.extend(_message(obj(message, f"messages[{i}]"), f"messages[{i}]"))
    out["messages"] = messages
    out.update({key: body[key] for key in _PASSED if body.get(key) is not None})
    stops = body.get("stop_sequences")
    if stops:
        out["stop"] = [text(s, "stop_sequences[]") for s in arr(stops, "stop_sequences")]
    out.update(_tools(body))
    effort = _effort(body)
    if effort:
        out["reasoning_effort"] = effort
    schema = _schema(body)
    if schema is not None:
        out["response_format"] = {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
    user = opt_obj(body.get("metadata"), "metadata").get("user_id")
    if isinstance(user, str) and user:
        out["user"] = user
    return out


def _system(system: Any) -> list[Json]:
    if system is None or system == "":
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    parts = [_text_of(obj(b, "system[]"), "system[]") for b in arr(system, "system")]
    joined = "\n".join(p for p in parts if p)
    return [{"role": "system", "content": joined}] if joined else []


def _text_of(block: Json, where: str) -> str:
    return text(block.get("text"), f"{where}.text") if block.get("type") == "text" else ""


def _message(message: Json, where: str) -> list[Json]:
    role = message.get("role")
    content = message.get("content")
    if role not in ("user", "assistant"):
        raise ValidationError(f"{where}.role must be 'user' or 'assistant'")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    blocks = [obj(b, f"{where}.content[{j}]") for j, b in enumerate(arr(content, f"{where}.content"))]
    return _assistant(blocks, where) if role == "assistant" else _user(blocks, where)


def _user(blocks: list[Json], where: str) -> list[Json]:
    """Tool results become ``tool`` messages placed first (OpenAI wants them right after the assistant's
    tool calls); the rest, plus any images a tool result carried, form one user message after them."""
    tools: list[Json] = []
    parts: list[Json] = []
    for j, block in enumerate(blocks):
        at = f"{where}.content[{j}]"
        if block.get("type") == "tool_result":
            message, images = _tool_result(block, at)
            tools.append(message)
            parts.extend(images)
        else:
            parts.extend(_user_part(block, at))
    if not parts:
        return tools
    if all(p["type"] == "text" for p in parts):
        return [*tools, {"role": "user", "content": "\n".join(p["text"] for p in parts)}]
    return [*tools, {"role": "user", "content": parts}]


def _user_part(block: Json, where: str) -> list[Json]:
    kind = block.get("type")
    if kind == "text":
        return [{"type": "text", "text": text(block.get("text"), f"{where}.text")}]
    if kind == "image":
        return [_image(obj(block.get("source"), f"{where}.source"), f"{where}.source")]
    if kind == "document":
        return [_document(block, where)]
    return []  # thinking echoes, server-tool blocks, unknown types: nothing an OpenAI user turn can hold


def _image(source: Json, where: str) -> Json:
    kind = source.get("type")
    if kind == "base64":
        media = text(source.get("media_type"), f"{where}.media_type")
        url = f"data:{media};base64,{text(source.get('data'), f'{where}.data')}"
    elif kind == "url":
        url = text(source.get("url"), f"{where}.url")
    else:
        raise ValidationError(f"{where}: image source type {kind!r} cannot be sent to an OpenAI-style channel")
    return {"type": "image_url", "image_url": {"url": url}}


def _document(block: Json, where: str) -> Json:
    source = obj(block.get("source"), f"{where}.source")
    kind = source.get("type")
    if kind == "text":
        return {"type": "text", "text": text(source.get("data"), f"{where}.source.data")}
    if kind == "base64":
        media = text(source.get("media_type"), f"{where}.source.media_type")
        data = text(source.get("data"), f"{where}.source.data")
        title = block.get("title")
        name = title if isinstance(title, str) and title else "document.pdf"
        return {"type": "file", "file": {"filename": name, "file_data": f"data:{media};base64,{data}"}}
    raise ValidationError(f"{where}: document source type {kind!r} cannot be sent to an OpenAI-style channel")


def _tool_result(block: Json, where: str) -> tuple[Json, list[Json]]:
    call_id = text(block.get("tool_use_id"), f"{where}.tool_use_id")
    content = block.get("content")
    images: list[Json] = []
    if content is None or isinstance(content, str):
        body = content or ""
    else:
        texts = []
        for k, item in enumerate(arr(content, f"{where}.content")):
            item = obj(item, f"{where}.content[{k}]")
            if item.get("type") == "image":
                images.append(_image(obj(item.get("source"), f"{where}.content[{k}].source"), where))
            else:
                texts.append(_text_of(item, f"{where}.content[{k}]"))
        body = "\n".join(t for t in texts if t)
    if block.get("is_error") is True:
        body = f"Error: {body}"
    return {"role": "tool", "tool_call_id": call_id, "content": body}, images


def _assistant(blocks: list[Json], where: str) -> list[Json]:
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[Json] = []
    for j, block in enumerate(blocks):
        at = f"{where}.content[{j}]"
        kind = block.get("type")
        if kind == "text":
            texts.append(text(block.get("text"), f"{at}.text"))
        elif kind == "thinking":
            thoughts.append(text(block.get("thinking"), f"{at}.thinking"))
        elif kind == "tool_use":
            name = text(block.get("name"), f"{at}.name")
            arguments = dump_args(opt_obj(block.get("input"), f"{at}.input"))
            call_id = text(block.get("id"), f"{at}.id")
            calls.append({"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}})
    if not (texts or thoughts or calls):
        return []
    message: Json = {"role": "assistant", "content": "".join(texts) if texts else None}
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if calls:
        message["tool_calls"] = calls
    return [message]


def _tools(body: Json) -> Json:
    """Custom tools become functions; Anthropic server tools (web search, bash, editor…) have no OpenAI
    counterpart and are dropped."""
    functions = []
    for i, tool in enumerate(arr(body.get("tools") or [], "tools")):
        tool = obj(tool, f"tools[{i}]")
        if tool.get("type") not in (None, "custom") or "input_schema" not in tool:
            continue
        function: Json = {"name": text(tool.get("name"), f"tools[{i}].name")}
        if tool.get("description"):
            function["description"] = opt_text(tool.get("description"), f"tools[{i}].description")
        function["parameters"] = obj(tool.get("input_schema"), f"tools[{i}].input_schema")
        functions.append({"type": "function", "function": function})
    if not functions:
        return {}
    out: Json = {"tools": functions}
    choice = opt_obj(body.get("tool_choice"), "tool_choice")
    kind = choice.get("type")
    if kind in ("auto", "none"):
        out["tool_choice"] = kind
    elif kind == "any":
        out["tool_choice"] = "required"
    elif kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": text(choice.get("name"), "tool_choice.name")}}
    if choice.get("disable_parallel_tool_use") is True:
        out["parallel_tool_calls"] = False
    return out


def _effort(body: Json) -> str | None:
    """``output_config.effort`` when given, else the thinking budget bucketed into low/medium/high."""
    effort = opt_obj(body.get("output_config"), "output_config").get("effort")
    if isinstance(effort, str) and effort in _EFFORTS:
        return _EFFORTS[effort]
    thinking = opt_obj(body.get("thinking"), "thinking")
    if thinking.get("type") != "enabled":
        return None
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool):
        raise ValidationError("thinking.budget_tokens must be an integer")
    if budget <= LOW_BUDGET_MAX:
        return "low"
    return "medium" if budget <= MEDIUM_BUDGET_MAX else "high"


def _schema(body: Json) -> Json | None:
    """Claude structured output (``output_config.format``, or the older beta ``output_format``)."""
    fmt = opt_obj(body.get("output_config"), "output_config").get("format") or body.get("output_format")
    if fmt is None:
        return None
    fmt = obj(fmt, "output_config.format")
    if fmt.get("type") != "json_schema":
        return None
    return obj(fmt.get("schema"), "output_config.format.schema")
