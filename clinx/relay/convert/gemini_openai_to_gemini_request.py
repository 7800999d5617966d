"""An OpenAI Chat Completions body → a Gemini ``GenerateContentRequest`` (OpenAI client over a Gemini channel).

Gemini wants alternating ``user``/``model`` contents, so consecutive messages of one side are merged (tool results
are ``user`` parts); function responses name the function, found from the earlier assistant tool call's id.
"""

from __future__ import annotations

import json
from typing import Any

from clinx.core.errors import ValidationError
from clinx.relay.convert.base import Json
from clinx.relay.convert.gemini_openai_common import google_signature, parse_arguments, split_data_url
from clinx.relay.convert.gemini_openai_schema import to_gemini_schema
from clinx.relay.convert.shapes import as_dict, as_list, as_str

# Gemini 3 refuses a replayed function call without its thought signature; Google documents this value for
# histories that never had one (e.g. written by another model, or by a client that dropped extra_content).
SKIP_SIGNATURE = "skip_thought_signature_validator"
# reasoning_effort → thinkingBudget: within every Gemini 2.5 model's range (flash-lite's minimum is 512,
# flash's maximum 24576).
THINKING_BUDGETS = {"minimal": 512, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 24576}
# fileData needs a MIME type; a URL's extension is the only hint a pure bridge has (image/jpeg when none fits).
MIME_BY_EXTENSION = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "heic": "image/heic",
    "heif": "image/heif",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "mp3": "audio/mp3",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "mov": "video/mov",
    "webm": "video/webm",
}
_AUDIO_MIME = {"wav": "audio/wav", "mp3": "audio/mp3"}
_CHOICE_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}


def guess_mime(url: str) -> str:
    path = url.split("?", 1)[0].split("#", 1)[0]
    last = path.rsplit("/", 1)[-1]
    extension = last.rsplit(".", 1)[-1].lower() if "." in last else ""
    return MIME_BY_EXTENSION.get(extension, "image/jpeg")


def openai_request_to_gemini(body: Json) -> Json:
    system: list[Json] = []
    contents: list[Json] = []
    names: dict[str, str] = {}
    needs_signature = "gemini-3" in as_str(body.get("model"), "model")
    for i, raw in enumerate(as_list(body.get("messages"), "messages")):
        where = f"messages[{i}]"
        message = as_dict(raw, where)
        role = as_str(message.get("role"), f"{where}.role")
        if role in {"system", "developer"}:
            text = _text(message.get("content"), where)
            if text:
                system.append({"text": text})
        elif role == "user":
            _append(contents, "user", _user_parts(message.get("content"), where))
        elif role == "assistant":
            _append(contents, "model", _model_parts(message, where, names, needs_signature))
        elif role in {"tool", "function"}:
            _append(contents, "user", [_function_response(message, where, names)])
        else:
            raise ValidationError(f"{where}.role {role!r} is not one of system, developer, user, assistant, tool")
    out: Json = {"contents": contents}
    if system:
        out["systemInstruction"] = {"parts": system}
    _tools(body, out)
    config = _generation(body)
    if config:
        out["generationConfig"] = config
    return out


def _append(contents: list[Json], role: str, parts: list[Json]) -> None:
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def _text(content: Any, where: str) -> str:
    """The text of a message's content (a string, or the text and refusal parts of an array)."""
    if content is None or isinstance(content, str):
        return content or ""
    texts = []
    for part in as_list(content, f"{where}.content"):
        part = as_dict(part, f"{where}.content[]")
        text = part.get("text") if part.get("type") == "text" else part.get("refusal")
        if isinstance(text, str):
            texts.append(text)
    return "".join(texts)


def _user_parts(content: Any, where: str) -> list[Json]:
    if content is None or isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[Json] = []
    for j, raw in enumerate(as_list(content, f"{where}.content")):
        part = _user_part(as_dict(raw, f"{where}.content[{j}]"), f"{where}.content[{j}]")
        if part is not None:
            parts.append(part)
    return parts


def _user_part(part: Json, where: str) -> Json | None:
    kind = part.get("type")
    if kind == "text":
        text = as_str(part.get("text"), f"{where}.text")
        return {"text": text} if text else None
    if kind == "image_url":
        image = part.get("image_url")
        url = as_str(image.get("url") if isinstance(image, dict) else image, f"{where}.image_url.url")
        return _url_part(url, where)
    if kind == "input_audio":
        audio = as_dict(part.get("input_audio"), f"{where}.input_audio")
        audio_format = as_str(audio.get("format"), f"{where}.input_audio.format")
        mime = _AUDIO_MIME.get(audio_format, f"audio/{audio_format}")
        return {"inlineData": {"mimeType": mime, "data": as_str(audio.get("data"), f"{where}.input_audio.data")}}
    if kind == "file":
        file_data = as_dict(part.get("file"), f"{where}.file").get("file_data")
        if isinstance(file_data, str) and file_data:
            return _url_part(file_data, where)
    return None  # file ids and unknown part types cannot reach Gemini


def _url_part(url: str, where: str) -> Json:
    if url.startswith("data:"):
        mime, data = split_data_url(url, f"{where} url")
        return {"inlineData": {"mimeType": mime, "data": data}}
    return {"fileData": {"mimeType": guess_mime(url), "fileUri": url}}


def _model_parts(message: Json, where: str, names: dict[str, str], needs_signature: bool) -> list[Json]:
    parts: list[Json] = []
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        parts.append({"text": reasoning, "thought": True})
    text = _text(message.get("content"), where)
    if text:
        parts.append({"text": text})
    signature = google_signature(message)
    if signature and parts:
        parts[-1]["thoughtSignature"] = signature
    calls = [as_dict(c, f"{where}.tool_calls[]") for c in as_list(message.get("tool_calls"), f"{where}.tool_calls")]
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        calls.append({"function": legacy})
    call_parts = [_function_call(call, f"{where}.tool_calls[{j}]", names) for j, call in enumerate(calls)]
    if needs_signature and call_parts and not any("thoughtSignature" in p for p in call_parts):
        call_parts[0]["thoughtSignature"] = SKIP_SIGNATURE
    return parts + call_parts


def _function_call(call: Json, where: str, names: dict[str, str]) -> Json:
    function = as_dict(call.get("function"), f"{where}.function")
    name = as_str(function.get("name"), f"{where}.function.name")
    if not name:
        raise ValidationError(f"{where}.function.name is required")
    ident = call.get("id")
    if isinstance(ident, str) and ident:
        names[ident] = name
    part: Json = {"functionCall": {"name": name, "args": parse_arguments(function.get("arguments"), where)}}
    signature = google_signature(call)
    if signature:
        part["thoughtSignature"] = signature
    return part


def _function_response(message: Json, where: str, names: dict[str, str]) -> Json:
    ident = as_str(message.get("tool_call_id"), f"{where}.tool_call_id")
    name = names.get(ident) or as_str(message.get("name"), f"{where}.name")
    if not name:
        raise ValidationError(f"{where}: tool_call_id {ident!r} does not match a tool call of an earlier message")
    text = _text(message.get("content"), where)
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    response = value if isinstance(value, dict) else {"content": value}
    return {"functionResponse": {"name": name, "response": response}}


def _tools(body: Json, out: Json) -> None:
    declarations = []
    for i, raw in enumerate(as_list(body.get("tools"), "tools")):
        tool = as_dict(raw, f"tools[{i}]")
        if tool.get("type", "function") == "function":
            declarations.append(_declaration(as_dict(tool.get("function"), f"tools[{i}].function"), f"tools[{i}]"))
    if not declarations:
        return
    mode, allowed = _tool_choice(body.get("tool_choice"))
    if mode == "AUTO" and allowed:
        # AUTO cannot name functions in Gemini; offering only the allowed ones is equivalent.
        declarations = [d for d in declarations if d["name"] in allowed] or declarations
    out["tools"] = [{"functionDeclarations": declarations}]
    if mode:
        config: Json = {"mode": mode}
        if mode == "ANY" and allowed:
            config["allowedFunctionNames"] = allowed
        out["toolConfig"] = {"functionCallingConfig": config}


def _declaration(function: Json, where: str) -> Json:
    name = as_str(function.get("name"), f"{where}.function.name")
    if not name:
        raise ValidationError(f"{where}.function.name is required")
    declaration: Json = {"name": name}
    description = function.get("description")
    if isinstance(description, str) and description:
        declaration["description"] = description
    parameters = to_gemini_schema(function.get("parameters"))
    # Gemini refuses an OBJECT schema without properties: a function without parameters declares none.
    if parameters.get("properties"):
        declaration["parameters"] = parameters
    return declaration


def _tool_choice(choice: Any) -> tuple[str, list[str]]:
    if isinstance(choice, str):
        return _CHOICE_MODES.get(choice, ""), []
    if not isinstance(choice, dict):
        return "", []
    if choice.get("type") == "function":
        name = as_dict(choice.get("function"), "tool_choice.function").get("name")
        return "ANY", [name] if isinstance(name, str) and name else []
    if choice.get("type") == "allowed_tools":
        allowed = as_dict(choice.get("allowed_tools"), "tool_choice.allowed_tools")
        names = []
        for tool in as_list(allowed.get("tools"), "tool_choice.allowed_tools.tools"):
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                names.append(function["name"])
        return ("ANY" if allowed.get("mode") == "required" else "AUTO"), names
    return "", []


_PLAIN = (
    ("temperature", "temperature"),
    ("top_p", "topP"),
    ("n", "candidateCount"),
    ("seed", "seed"),
    ("presence_penalty", "presencePenalty"),
    ("frequency_penalty", "frequencyPenalty"),
    ("logprobs", "responseLogprobs"),
    ("top_logprobs", "logprobs"),
)


def _generation(body: Json) -> Json:
    config: Json = {}
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None:
        config["maxOutputTokens"] = limit
    for openai_name, gemini_name in _PLAIN:
        if body.get(openai_name) is not None:
            config[gemini_name] = body[openai_name]
    stop = body.get("stop")
    if isinstance(stop, str) and stop:
        config["stopSequences"] = [stop]
    elif stop:
        config["stopSequences"] = as_list(stop, "stop")
    fmt = as_dict(body.get("response_format"), "response_format")
    if fmt.get("type") in {"json_object", "json_schema"}:
        config["responseMimeType"] = "application/json"
        schema = as_dict(fmt.get("json_schema"), "response_format.json_schema").get("schema")
        if fmt.get("type") == "json_schema" and isinstance(schema, dict):
            config["responseJsonSchema"] = schema
    thinking = _thinking(as_str(body.get("reasoning_effort"), "reasoning_effort"))
    if thinking:
        config["thinkingConfig"] = thinking
    return config


def _thinking(effort: str) -> Json:
    if effort == "none":
        return {"thinkingBudget": 0}
    if effort in THINKING_BUDGETS:
        return {"thinkingBudget": THINKING_BUDGETS[effort], "includeThoughts": True}
    return {}
