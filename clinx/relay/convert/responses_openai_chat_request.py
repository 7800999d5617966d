"""Chat client over a Responses upstream, request side: a Chat Completions body rewritten as a ``POST
/v1/responses`` body (system/developer messages → instructions, messages → input items, tool calls and results →
function_call / function_call_output items, nested function tools → flat ones, response_format → text.format)."""

from __future__ import annotations

from typing import Any

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json
from clinx.relay.convert.responses_openai_common import as_list, as_object, as_text, copy_keys

_SAME = (
    "temperature",
    "top_p",
    "parallel_tool_calls",
    "user",
    "metadata",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
)


def chat_request_to_responses(body: Json) -> Json:
    body = as_object(body, "request body")
    if body.get("n") not in (None, 1):
        raise ValidationError("n greater than 1 is not supported on this channel (Responses API)")
    if body.get("functions") is not None or body.get("function_call") is not None:
        raise ValidationError("legacy functions/function_call are not supported on this channel; use tools")
    instructions, items = _conversation(body.get("messages"))
    out: Json = {"model": body["model"]} if "model" in body else {}
    out["input"] = items
    if instructions:
        out["instructions"] = "\n\n".join(instructions)
    copy_keys(body, out, _SAME)
    # A Chat client expects nothing to be kept; some Responses upstreams (ChatGPT's Codex) even require it.
    out["store"] = body.get("store") is True
    limit = body.get("max_completion_tokens")
    limit = body.get("max_tokens") if limit is None else limit
    if limit is not None:
        out["max_output_tokens"] = limit
    tools = _tools(body.get("tools"))
    if tools:
        out["tools"] = tools
        if body.get("tool_choice") is not None:
            out["tool_choice"] = _tool_choice(body["tool_choice"])
    text = _text_config(body)
    if text:
        out["text"] = text
    if body.get("reasoning_effort") is not None:
        # "auto" asks for the most detailed summary the model offers, so reasoning_content has something to show.
        out["reasoning"] = {"effort": body["reasoning_effort"], "summary": "auto"}
    if body.get("stream") is True:
        out["stream"] = True
    return out


def _conversation(raw_messages: object) -> tuple[list[str], list[Json]]:
    """Messages → (instructions, input items). System and developer messages become instructions, wherever they
    stand: the Responses API reads instructions before the input (New API does the same)."""
    messages = as_list(raw_messages, "messages")
    if not messages:
        raise ValidationError("messages must not be empty")
    instructions: list[str] = []
    items: list[Json] = []
    for i, raw in enumerate(messages):
        where = f"messages[{i}]"
        message = as_object(raw, where)
        role = message.get("role")
        if role in ("system", "developer"):
            text = _text(message.get("content"), f"{where}.content")
            if text.strip():
                instructions.append(text)
        elif role == "user":
            items.append({"type": "message", "role": "user", "content": _user_content(message, where)})
        elif role == "assistant":
            items += _assistant(message, where)
        elif role == "tool":
            items.append(_tool_result(message, where))
        else:
            raise ValidationError(f"{where}.role must be system, developer, user, assistant or tool")
    return instructions, items


def _text(content: object, where: str) -> str:
    if isinstance(content, str):
        return content
    texts = []
    for i, raw in enumerate(as_list(content, where)):
        part = as_object(raw, f"{where}[{i}]")
        if part.get("type") == "text":
            texts.append(as_text(part.get("text"), f"{where}[{i}].text"))
        elif part.get("type") == "refusal":
            texts.append(as_text(part.get("refusal"), f"{where}[{i}].refusal"))
        else:
            raise ValidationError(f"{where}[{i}]: only text parts are allowed here")
    return "\n".join(texts)


def _user_content(message: Json, where: str) -> Any:
    content = message.get("content")
    if isinstance(content, str):
        return content
    where = f"{where}.content"
    return [_part(as_object(p, f"{where}[{i}]"), f"{where}[{i}]") for i, p in enumerate(as_list(content, where))]


def _part(part: Json, where: str) -> Json:
    kind = part.get("type")
    if kind == "text":
        return {"type": "input_text", "text": as_text(part.get("text"), f"{where}.text")}
    if kind == "image_url":
        image = part.get("image_url")
        if isinstance(image, str):
            image = {"url": image}
        image = as_object(image, f"{where}.image_url")
        url = as_text(image.get("url"), f"{where}.image_url.url")
        if not url:
            raise ValidationError(f"{where}.image_url.url is required")
        return {"type": "input_image", "image_url": url, "detail": image.get("detail") or "auto"}
    if kind == "file":
        file = as_object(part.get("file"), f"{where}.file")
        out: Json = {"type": "input_file"}
        copy_keys(file, out, ("file_data", "file_id", "filename"))
        return out
    if kind == "input_audio":
        return {"type": "input_audio", "input_audio": as_object(part.get("input_audio"), f"{where}.input_audio")}
    raise ValidationError(f"{where}.type {kind!r} is not a supported content part")


def _assistant(message: Json, where: str) -> list[Json]:
    # reasoning_content is not sent back: a Responses upstream only accepts reasoning items it issued itself.
    items: list[Json] = []
    text = _text(message.get("content"), f"{where}.content")
    if text:
        items.append({"type": "message", "role": "assistant", "content": text})
    for i, raw in enumerate(as_list(message.get("tool_calls"), f"{where}.tool_calls")):
        at = f"{where}.tool_calls[{i}]"
        call = as_object(raw, at)
        if call.get("type", "function") != "function":
            raise ValidationError(f"{at}.type must be function")
        function = as_object(call.get("function"), f"{at}.function")
        call_id = as_text(call.get("id"), f"{at}.id")
        name = as_text(function.get("name"), f"{at}.function.name")
        if not call_id or not name:
            raise ValidationError(f"{at}: a tool call needs id and function.name")
        arguments = as_text(function.get("arguments"), f"{at}.function.arguments") or "{}"
        items.append({"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments})
    return items


def _tool_result(message: Json, where: str) -> Json:
    call_id = as_text(message.get("tool_call_id"), f"{where}.tool_call_id")
    if not call_id:
        raise ValidationError(f"{where}: a tool message needs tool_call_id")
    output = _text(message.get("content"), f"{where}.content")
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def _tools(tools: object) -> list[Json]:
    """Function tools only; Chat's custom (free-form) tools are dropped."""
    out = []
    for i, raw in enumerate(as_list(tools, "tools")):
        tool = as_object(raw, f"tools[{i}]")
        if tool.get("type") != "function":
            continue
        function = as_object(tool.get("function"), f"tools[{i}].function")
        if not as_text(function.get("name"), f"tools[{i}].function.name"):
            raise ValidationError(f"tools[{i}].function.name is required")
        flat: Json = {"type": "function"}
        copy_keys(function, flat, ("name", "description"))
        # Responses requires parameters and defaults strict to true; Chat means an empty list and false.
        flat["parameters"] = function.get("parameters") or {"type": "object", "properties": {}}
        flat["strict"] = function.get("strict") is True
        out.append(flat)
    return out


def _tool_choice(choice: object) -> Any:
    if isinstance(choice, str):
        return choice
    choice = as_object(choice, "tool_choice")
    if choice.get("type") == "function":
        function = as_object(choice.get("function"), "tool_choice.function")
        return {"type": "function", "name": as_text(function.get("name"), "tool_choice.function.name")}
    if choice.get("type") == "allowed_tools":
        allowed = as_object(choice.get("allowed_tools"), "tool_choice.allowed_tools")
        tools = []
        for i, raw in enumerate(as_list(allowed.get("tools"), "tool_choice.allowed_tools.tools")):
            at = f"tool_choice.allowed_tools.tools[{i}]"
            function = as_object(as_object(raw, at).get("function"), f"{at}.function")
            tools.append({"type": "function", "name": as_text(function.get("name"), f"{at}.function.name")})
        return {"type": "allowed_tools", "mode": allowed.get("mode") or "auto", "tools": tools}
    raise ValidationError("tool_choice must be none, auto, required, a function or allowed_tools")


def _text_config(body: Json) -> Json:
    text: Json = {}
    fmt = body.get("response_format")
    if fmt is not None:
        fmt = as_object(fmt, "response_format")
        kind = fmt.get("type")
        if kind in ("text", "json_object"):
            text["format"] = {"type": kind}
        elif kind == "json_schema":
            schema = as_object(fmt.get("json_schema"), "response_format.json_schema")
            flat: Json = {"type": "json_schema"}
            copy_keys(schema, flat, ("name", "description", "schema", "strict"))
            text["format"] = flat
        else:
            raise ValidationError("response_format.type must be text, json_object or json_schema")
    copy_keys(body, text, ("verbosity",))
    return text
