"""Responses client over a Chat upstream, request side: a ``POST /v1/responses`` body rewritten as a Chat
Completions body (instructions and input items → messages, flat function tools → nested ones, text.format →
response_format, reasoning.effort → reasoning_effort)."""

from __future__ import annotations

from typing import Any

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json
from clinx.relay.convert.responses_openai_common import as_list, as_object, as_text, copy_keys

# Parameters with the same name and meaning in both APIs.
_SAME = (
    "temperature",
    "top_p",
    "user",
    "metadata",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
)
_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
_TEXT_PARTS = ("input_text", "output_text", "text")


def responses_request_to_chat(body: Json) -> Json:
    body = as_object(body, "request body")
    _refuse_server_state(body)
    messages = _Messages()
    instructions = as_text(body.get("instructions"), "instructions")
    if instructions:
        messages.out.append({"role": "system", "content": instructions})
    raw_input = body.get("input")
    if isinstance(raw_input, str):
        messages.out.append({"role": "user", "content": raw_input})
    else:
        for i, item in enumerate(as_list(raw_input, "input")):
            messages.add(as_object(item, f"input[{i}]"), f"input[{i}]")
    if not messages.out:
        raise ValidationError("input is empty: send a string or at least one message item")

    out: Json = {"model": body["model"]} if "model" in body else {}
    out["messages"] = messages.out
    copy_keys(body, out, _SAME)
    if body.get("max_output_tokens") is not None:
        out["max_completion_tokens"] = body["max_output_tokens"]
    tools = _tools(body.get("tools"))
    if tools:  # OpenAI refuses tool_choice and parallel_tool_calls without tools
        out["tools"] = tools
        copy_keys(body, out, ("parallel_tool_calls",))
        choice = _tool_choice(body.get("tool_choice"))
        if choice is not None:
            out["tool_choice"] = choice
    _text(body.get("text"), out)
    reasoning = body.get("reasoning")
    if reasoning is not None and as_object(reasoning, "reasoning").get("effort") is not None:
        out["reasoning_effort"] = reasoning["effort"]
    if body.get("stream") is True:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def _refuse_server_state(body: Json) -> None:
    """A Chat upstream keeps no responses or conversations: features that read them cannot be honoured, and
    silently answering without the earlier turns would be wrong."""
    for key in ("previous_response_id", "conversation", "prompt"):
        if body.get(key) is not None:
            raise ValidationError(
                f"{key} needs conversation state stored by the Responses API, which this channel (Chat "
                "Completions) does not have; send the whole conversation in input instead"
            )
    if body.get("background") is True:
        raise ValidationError("background responses are not supported on this channel (Chat Completions)")


class _Messages:
    """Input items → Chat messages. Reasoning items wait for the assistant message that follows them;
    function_call items join the assistant message just before them (one Chat turn holds text and calls)."""

    def __init__(self) -> None:
        self.out: list[Json] = []
        self._reasoning: list[str] = []

    def add(self, item: Json, where: str) -> None:
        kind = item.get("type")
        if kind in (None, "message"):
            self._message(item, where)
        elif kind == "function_call":
            self._call(item, where)
        elif kind == "function_call_output":
            self._output(item, where)
        elif kind == "reasoning":
            self._reasoning_item(item, where)
        elif kind == "item_reference":
            raise ValidationError(f"{where}: item_reference needs stored items, which this channel does not have")
        elif not isinstance(kind, str) or not (kind.endswith(("_call", "_call_output")) or kind.startswith("mcp_")):
            raise ValidationError(f"{where}.type {kind!r} is not a supported input item")
        # Records of built-in tool runs (web_search_call, computer_call_output, mcp_call…) have no Chat form.

    def _message(self, item: Json, where: str) -> None:
        role = item.get("role")
        role = _ROLES.get(role) if isinstance(role, str) else None
        if role is None:
            raise ValidationError(f"{where}.role must be user, assistant, system or developer")
        content = item.get("content")
        if role == "assistant":
            self._assistant().update(content=_joined_text(content, f"{where}.content", ""))
            return
        if role == "system":
            self.out.append({"role": "system", "content": _joined_text(content, f"{where}.content", "\n")})
            return
        self.out.append({"role": "user", "content": _user_content(content, f"{where}.content")})

    def _assistant(self) -> Json:
        """A new assistant message carrying the reasoning read since the last one."""
        message: Json = {"role": "assistant", "content": None}
        if self._reasoning:
            message["reasoning_content"] = "\n\n".join(self._reasoning)
            self._reasoning = []
        self.out.append(message)
        return message

    def _call(self, item: Json, where: str) -> None:
        call_id = as_text(item.get("call_id"), f"{where}.call_id")
        name = as_text(item.get("name"), f"{where}.name")
        if not call_id or not name:
            raise ValidationError(f"{where}: a function_call item needs call_id and name")
        arguments = as_text(item.get("arguments"), f"{where}.arguments") or "{}"
        last = self.out[-1] if self.out else None
        if last is None or last["role"] != "assistant" or self._reasoning:
            last = self._assistant()
        call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        last.setdefault("tool_calls", []).append(call)

    def _output(self, item: Json, where: str) -> None:
        call_id = as_text(item.get("call_id"), f"{where}.call_id")
        if not call_id:
            raise ValidationError(f"{where}: a function_call_output item needs call_id")
        output = item.get("output")
        if isinstance(output, list):
            parts = [_part(as_object(p, f"{where}.output[{i}]"), f"{where}.output[{i}]") for i, p in enumerate(output)]
            content: Any = _collapse(parts, "")
        else:
            content = as_text(output, f"{where}.output")
        self.out.append({"role": "tool", "tool_call_id": call_id, "content": content})

    def _reasoning_item(self, item: Json, where: str) -> None:
        # encrypted_content is dropped: only the Responses API that produced it can read it.
        texts = [
            as_text(as_object(part, f"{where}.{key}[{i}]").get("text"), f"{where}.{key}[{i}].text")
            for key in ("summary", "content")
            for i, part in enumerate(as_list(item.get(key), f"{where}.{key}"))
        ]
        text = "\n\n".join(t for t in texts if t)
        if text:
            self._reasoning.append(text)


def _user_content(content: object, where: str) -> Any:
    if isinstance(content, str):
        return content
    return [_part(as_object(p, f"{where}[{i}]"), f"{where}[{i}]") for i, p in enumerate(as_list(content, where))]


def _joined_text(content: object, where: str, separator: str) -> str:
    """System and assistant messages become plain strings: the form every Chat provider accepts."""
    if isinstance(content, str):
        return content
    texts = []
    for i, raw in enumerate(as_list(content, where)):
        part = as_object(raw, f"{where}[{i}]")
        if part.get("type") not in (*_TEXT_PARTS, "refusal"):
            raise ValidationError(f"{where}[{i}]: only text is allowed in system and assistant messages")
        texts.append(as_text(part.get("refusal" if part.get("type") == "refusal" else "text"), f"{where}[{i}]"))
    return separator.join(texts)


def _collapse(parts: list[Json], separator: str) -> Any:
    if all(p["type"] == "text" for p in parts):
        return separator.join(p["text"] for p in parts)
    return parts


def _part(part: Json, where: str) -> Json:
    kind = part.get("type")
    if kind in _TEXT_PARTS:
        return {"type": "text", "text": as_text(part.get("text"), f"{where}.text")}
    if kind == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str) or not url:
            raise ValidationError(
                f"{where}: images must be sent as image_url (a URL or a base64 data URL); file_id needs the "
                "Files API, which this channel (Chat Completions) does not have"
            )
        image: Json = {"url": url}
        copy_keys(part, image, ("detail",))
        return {"type": "image_url", "image_url": image}
    if kind == "input_file":
        if part.get("file_url") is not None and part.get("file_data") is None and part.get("file_id") is None:
            raise ValidationError(f"{where}: input_file by file_url is not supported here; send file_data")
        file: Json = {}
        copy_keys(part, file, ("file_data", "file_id", "filename"))
        return {"type": "file", "file": file}
    if kind == "input_audio":
        return {"type": "input_audio", "input_audio": as_object(part.get("input_audio"), f"{where}.input_audio")}
    raise ValidationError(f"{where}.type {kind!r} is not a supported content part")


def _tools(tools: object) -> list[Json]:
    """Function tools only: built-in tools (web_search, file_search, code_interpreter, computer…) run inside the
    Responses API and have no Chat equivalent, so they are dropped. ``strict`` passes only when set: forcing
    Responses' default (true) on a Chat upstream would refuse the loose schemas many clients send."""
    out = []
    for i, raw in enumerate(as_list(tools, "tools")):
        tool = as_object(raw, f"tools[{i}]")
        if tool.get("type") != "function":
            continue
        name = as_text(tool.get("name"), f"tools[{i}].name")
        if not name:
            raise ValidationError(f"tools[{i}]: a function tool needs a name")
        function: Json = {"name": name}
        copy_keys(tool, function, ("description", "parameters", "strict"))
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: object) -> Any:
    if choice is None or isinstance(choice, str):
        return choice
    choice = as_object(choice, "tool_choice")
    kind = choice.get("type")
    if kind == "function":
        return {"type": "function", "function": {"name": as_text(choice.get("name"), "tool_choice.name")}}
    if kind == "allowed_tools":
        # Chat's own allowed_tools form is recent and rarely supported; the mode keeps the intent.
        return choice.get("mode") or "auto"
    return None  # a built-in tool, dropped with the tool itself


def _text(text: object, out: Json) -> None:
    if text is None:
        return
    text = as_object(text, "text")
    copy_keys(text, out, ("verbosity",))
    fmt = text.get("format")
    if fmt is None:
        return
    fmt = as_object(fmt, "text.format")
    kind = fmt.get("type")
    if kind == "json_object":
        out["response_format"] = {"type": "json_object"}
    elif kind == "json_schema":
        schema: Json = {}
        copy_keys(fmt, schema, ("name", "description", "schema", "strict"))
        out["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif kind != "text":
        raise ValidationError("text.format.type must be text, json_object or json_schema")
