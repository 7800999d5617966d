"""A Gemini ``GenerateContentRequest`` → an OpenAI Chat Completions body (Gemini client over an OpenAI channel).

Gemini function responses name the function they answer, OpenAI tool messages name the call: each function call
gets a deterministic id (its own ``id`` when it has one, else ``call_<name>_<n>`` with ``n`` counting calls over the
conversation) and each later function response takes the id of the oldest unanswered call of that name.
"""

from __future__ import annotations

from typing import Any

from clinx.relay.convert.base import Json
from clinx.relay.convert.gemini_openai_common import as_int, call_id, data_url, dumps, field, signature_extra
from clinx.relay.convert.gemini_openai_schema import from_gemini_schema
from clinx.relay.convert.shapes import as_dict, as_list, as_str

_AUDIO_FORMATS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mp3": "mp3",
    "audio/mpeg": "mp3",
}
# thinkingBudget → reasoning_effort, by the upper bound of each band (the reverse bridge sends 1024/8192/24576).
_EFFORT_BANDS = ((1024, "low"), (8192, "medium"))
_LEVELS = {"minimal", "low", "medium", "high"}


class _CallIds:
    def __init__(self) -> None:
        self.made = 0
        self.open: dict[str, list[str]] = {}

    def call(self, name: str, given: str) -> str:
        ident = given or call_id(name, self.made)
        self.made += 1
        self.open.setdefault(name, []).append(ident)
        return ident

    def answer(self, name: str, given: str) -> str:
        waiting = self.open.get(name, [])
        if given:
            if given in waiting:
                waiting.remove(given)
            return given
        if waiting:
            return waiting.pop(0)
        self.made += 1
        return call_id(name, self.made - 1)


def gemini_request_to_openai(body: Json) -> Json:
    out: Json = {}
    if isinstance(body.get("model"), str):
        out["model"] = body["model"]
    messages: list[Json] = []
    system = _system_text(field(body, "systemInstruction"))
    if system:
        messages.append({"role": "system", "content": system})
    ids = _CallIds()
    for i, content in enumerate(as_list(field(body, "contents"), "contents")):
        messages.extend(_content(as_dict(content, f"contents[{i}]"), f"contents[{i}]", ids))
    out["messages"] = messages
    _tools(body, out)
    _generation(as_dict(field(body, "generationConfig"), "generationConfig"), out)
    return out


def _system_text(system: Any) -> str:
    if isinstance(system, str):
        return system
    parts = as_list(field(as_dict(system, "systemInstruction"), "parts"), "systemInstruction.parts")
    texts = [as_str(field(p, "text"), "systemInstruction.parts[].text") for p in parts if isinstance(p, dict)]
    return "\n".join(t for t in texts if t)


def _content(content: Json, where: str, ids: _CallIds) -> list[Json]:
    role = as_str(field(content, "role"), f"{where}.role") or "user"
    parts = [as_dict(p, f"{where}.parts[]") for p in as_list(field(content, "parts"), f"{where}.parts")]
    if role == "model":
        return [_assistant(parts, where, ids)]
    return _user(parts, where, ids)


def _assistant(parts: list[Json], where: str, ids: _CallIds) -> Json:
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[Json] = []
    signature = ""
    for part in parts:
        call = field(part, "functionCall")
        if call is not None:
            calls.append(_tool_call(as_dict(call, f"{where}.functionCall"), part, where, ids))
            continue
        text = field(part, "text")
        if not isinstance(text, str):
            continue  # images, code execution: an OpenAI assistant message cannot carry them
        (thoughts if field(part, "thought") is True else texts).append(text)
        signature = signature or as_str(field(part, "thoughtSignature"), f"{where}.thoughtSignature")
    message: Json = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if calls:
        message["tool_calls"] = calls
    if signature:
        message["extra_content"] = signature_extra(signature)
    return message


def _tool_call(call: Json, part: Json, where: str, ids: _CallIds) -> Json:
    name = as_str(field(call, "name"), f"{where}.functionCall.name")
    args = as_dict(field(call, "args"), f"{where}.functionCall.args")
    out: Json = {
        "id": ids.call(name, as_str(field(call, "id"), f"{where}.functionCall.id")),
        "type": "function",
        "function": {"name": name, "arguments": dumps(args)},
    }
    signature = as_str(field(part, "thoughtSignature"), f"{where}.thoughtSignature")
    if signature:
        out["extra_content"] = signature_extra(signature)
    return out


def _user(parts: list[Json], where: str, ids: _CallIds) -> list[Json]:
    tools: list[Json] = []
    blocks: list[Json] = []
    for part in parts:
        answer = field(part, "functionResponse")
        if answer is not None:
            tools.append(_tool_message(as_dict(answer, f"{where}.functionResponse"), where, ids))
            continue
        block = _user_block(part, where)
        if block is not None:
            blocks.append(block)
    if not blocks:
        return tools
    if len(blocks) == 1 and blocks[0]["type"] == "text":
        return [*tools, {"role": "user", "content": blocks[0]["text"]}]
    return [*tools, {"role": "user", "content": blocks}]


def _tool_message(answer: Json, where: str, ids: _CallIds) -> Json:
    name = as_str(field(answer, "name"), f"{where}.functionResponse.name")
    ident = ids.answer(name, as_str(field(answer, "id"), f"{where}.functionResponse.id"))
    return {"role": "tool", "tool_call_id": ident, "content": dumps(field(answer, "response") or {})}


def _user_block(part: Json, where: str) -> Json | None:
    text = field(part, "text")
    if isinstance(text, str):
        return {"type": "text", "text": text}
    inline = field(part, "inlineData")
    if inline is not None:
        inline = as_dict(inline, f"{where}.inlineData")
        mime = as_str(field(inline, "mimeType"), f"{where}.inlineData.mimeType") or "application/octet-stream"
        data = as_str(field(inline, "data"), f"{where}.inlineData.data")
        return _media(mime, data)
    file = field(part, "fileData")
    if file is not None:
        uri = as_str(field(as_dict(file, f"{where}.fileData"), "fileUri"), f"{where}.fileData.fileUri")
        return {"type": "image_url", "image_url": {"url": uri}}
    return None


def _media(mime: str, data: str) -> Json:
    if mime in _AUDIO_FORMATS:
        return {"type": "input_audio", "input_audio": {"data": data, "format": _AUDIO_FORMATS[mime]}}
    if mime.startswith("image/"):
        return {"type": "image_url", "image_url": {"url": data_url(mime, data)}}
    return {"type": "file", "file": {"file_data": data_url(mime, data)}}


def _tools(body: Json, out: Json) -> None:
    functions: list[Json] = []
    for i, tool in enumerate(as_list(field(body, "tools"), "tools")):
        declarations = field(as_dict(tool, f"tools[{i}]"), "functionDeclarations")
        for j, raw in enumerate(as_list(declarations, f"tools[{i}].functionDeclarations")):
            functions.append(_function(as_dict(raw, f"tools[{i}].functionDeclarations[{j}]")))
    if not functions:
        return
    config = as_dict(field(as_dict(field(body, "toolConfig"), "toolConfig"), "functionCallingConfig"), "toolConfig")
    mode = as_str(field(config, "mode"), "functionCallingConfig.mode").upper()
    names = [n for n in as_list(field(config, "allowedFunctionNames"), "allowedFunctionNames") if isinstance(n, str)]
    if mode == "ANY" and len(names) > 1:
        # OpenAI cannot name several functions in tool_choice; offering only the allowed ones is equivalent.
        functions = [f for f in functions if f["function"]["name"] in names] or functions
    out["tools"] = functions
    if mode == "NONE":
        out["tool_choice"] = "none"
    elif mode == "ANY":
        out["tool_choice"] = {"type": "function", "function": {"name": names[0]}} if len(names) == 1 else "required"
    elif mode in {"AUTO", "VALIDATED"}:
        out["tool_choice"] = "auto"


def _function(raw: Json) -> Json:
    function: Json = {"name": as_str(field(raw, "name"), "functionDeclarations[].name")}
    description = field(raw, "description")
    if isinstance(description, str) and description:
        function["description"] = description
    json_schema = field(raw, "parametersJsonSchema")
    if isinstance(json_schema, dict):
        function["parameters"] = json_schema
    elif isinstance(field(raw, "parameters"), dict):
        function["parameters"] = from_gemini_schema(field(raw, "parameters"))
    else:
        function["parameters"] = {"type": "object", "properties": {}}
    return {"type": "function", "function": function}


_PLAIN = (
    ("maxOutputTokens", "max_tokens"),
    ("temperature", "temperature"),
    ("topP", "top_p"),
    ("candidateCount", "n"),
    ("seed", "seed"),
    ("presencePenalty", "presence_penalty"),
    ("frequencyPenalty", "frequency_penalty"),
    ("responseLogprobs", "logprobs"),
    ("logprobs", "top_logprobs"),
)


def _generation(config: Json, out: Json) -> None:
    for gemini_name, openai_name in _PLAIN:
        value = field(config, gemini_name)
        if value is not None:
            out[openai_name] = value
    stop = field(config, "stopSequences")
    if stop:
        out["stop"] = as_list(stop, "generationConfig.stopSequences")
    if as_str(field(config, "responseMimeType"), "generationConfig.responseMimeType") == "application/json":
        out["response_format"] = _response_format(config)
    effort = _effort(as_dict(field(config, "thinkingConfig"), "generationConfig.thinkingConfig"))
    if effort:
        out["reasoning_effort"] = effort


def _response_format(config: Json) -> Json:
    schema = field(config, "responseJsonSchema")
    if not isinstance(schema, dict):
        legacy = field(config, "responseSchema")
        schema = from_gemini_schema(legacy) if isinstance(legacy, dict) else None
    if schema is None:
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}


def _effort(thinking: Json) -> str:
    """thinkingLevel passes as is (lower-cased); thinkingBudget 0 → "none", 1–1024 → "low", 1025–8192 →
    "medium", more → "high"; -1 (dynamic) and no budget leave the upstream's default."""
    level = as_str(field(thinking, "thinkingLevel"), "thinkingConfig.thinkingLevel")
    if level.lower() in _LEVELS:
        return level.lower()
    budget = as_int(field(thinking, "thinkingBudget"), "thinkingConfig.thinkingBudget")
    if budget is None or budget < 0:
        return ""
    if budget == 0:
        return "none"
    return next((effort for bound, effort in _EFFORT_BANDS if budget <= bound), "high")
