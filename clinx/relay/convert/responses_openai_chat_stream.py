"""Chat client over a Responses upstream, stream side: Responses events → Chat chunks (unnamed, ending with
``[DONE]``). Text, refusal and reasoning deltas become content / refusal / reasoning_content deltas; each
function_call item becomes a tool call at the next index. ``response.completed`` / ``response.incomplete`` give
the finish chunk and a usage chunk (``choices: []``, always sent: the gateway forwards it only when the client
asked); ``response.failed`` and ``error`` give an OpenAI-style ``{"error": …}`` chunk. A ``.done`` event or an
``output_item.done`` carrying text never streamed as deltas is sent as the missing remainder. A stream cut
before its terminal event ends with ``[DONE]`` alone: no finish_reason is made up."""

from __future__ import annotations

from clinx.relay.convert.base import Event, Json
from clinx.relay.convert.responses_openai_chat_response import error_message, finish_reason
from clinx.relay.convert.responses_openai_common import (
    as_list,
    as_object,
    as_text,
    chat_id,
    chat_usage,
    count,
    text_or,
)

_TEXT_DELTAS = {
    "response.output_text.delta": "content",
    "response.refusal.delta": "refusal",
    "response.reasoning_summary_text.delta": "reasoning_content",
    "response.reasoning_text.delta": "reasoning_content",
}
_TEXT_DONES = {
    "response.output_text.done": ("content", "text"),
    "response.refusal.done": ("refusal", "refusal"),
    "response.reasoning_summary_text.done": ("reasoning_content", "text"),
    "response.reasoning_text.done": ("reasoning_content", "text"),
}
_TERMINAL = ("response.completed", "response.incomplete")


class ResponsesToChatStream:
    def __init__(self) -> None:
        self._id = chat_id("unknown")
        self._created = 0
        self._model = ""
        self._started = False
        self._calls: dict[str, int] = {}  # function_call item id → Chat tool-call index
        self._by_index: dict[int, str] = {}  # output_index → item id, for events that only carry the index
        self._sent: dict[tuple[str, ...], str] = {}  # what each text or argument stream has delivered so far
        self._ended = False

    def feed(self, event: Event) -> list[Event]:
        if self._ended or event.data == "[DONE]":
            return []
        data = as_object(event.data, "stream event")
        kind = data.get("type") if isinstance(data.get("type"), str) else event.name
        if kind in ("response.created", "response.in_progress", "response.queued"):
            self._meta(data.get("response"))
            return self._start()
        if kind in _TEXT_DELTAS:
            return self._text(_TEXT_DELTAS[kind], data, as_text(data.get("delta"), f"{kind}.delta"), False)
        if kind in _TEXT_DONES:
            field, key = _TEXT_DONES[kind]
            return self._text(field, data, as_text(data.get(key), f"{kind}.{key}"), True)
        if kind == "response.output_item.added":
            return self._item(data, done=False)
        if kind == "response.output_item.done":
            return self._item(data, done=True)
        if kind == "response.function_call_arguments.delta":
            return self._arguments(data, as_text(data.get("delta"), f"{kind}.delta"), False)
        if kind == "response.function_call_arguments.done":
            return self._arguments(data, as_text(data.get("arguments"), f"{kind}.arguments"), True)
        if kind in _TERMINAL:
            return self._complete(as_object(data.get("response") or {}, f"{kind}.response"))
        if kind == "response.failed":
            response = data.get("response")
            return self._fail(response.get("error") if isinstance(response, dict) else None)
        if kind == "error":
            return self._fail(data)
        return []  # in_progress markers of built-in tools, annotations, keep-alives

    def finish(self) -> list[Event]:
        if self._ended:
            return []
        self._ended = True
        return [Event(data="[DONE]")]

    # --- events -------------------------------------------------------------------------------------------

    def _meta(self, response: object) -> None:
        if not isinstance(response, dict) or self._started:
            return
        self._id = chat_id(text_or(response.get("id"), "unknown"))
        self._created = count(response.get("created_at"))
        self._model = text_or(response.get("model"), "")

    def _start(self) -> list[Event]:
        if self._started:
            return []
        self._started = True
        return [self._chunk({"role": "assistant", "content": ""})]

    def _text(self, field: str, data: Json, text: str, done: bool) -> list[Event]:
        part = f"s{data['summary_index']}" if "summary_index" in data else f"c{data.get('content_index', 0)}"
        key = (field, self._item_id(data), part)
        # Reasoning parts are joined by a blank line, as in the non-stream answer.
        gap = field == "reasoning_content" and key not in self._sent and any(k[0] == field for k in self._sent)
        piece = self._piece(key, text, done)
        if not piece:
            return []
        return [*self._start(), self._chunk({field: "\n\n" + piece if gap else piece})]

    def _item(self, data: Json, *, done: bool) -> list[Event]:
        item = as_object(data.get("item"), "output_item.item")
        item_id = as_text(item.get("id"), "item.id") or f"out{data.get('output_index')}"
        if isinstance(data.get("output_index"), int):
            self._by_index[data["output_index"]] = item_id
        kind = item.get("type")
        out: list[Event] = []
        if kind == "function_call":
            if item_id not in self._calls:
                out += self._open_call(item_id, item)
            out += self._arguments({"item_id": item_id}, as_text(item.get("arguments"), "item.arguments"), True)
        elif kind == "message" and done:
            for i, raw in enumerate(as_list(item.get("content"), "item.content")):
                part = as_object(raw, f"item.content[{i}]")
                field, key = ("refusal", "refusal") if part.get("type") == "refusal" else ("content", "text")
                where = {"item_id": item_id, "content_index": i}
                out += self._text(field, where, as_text(part.get(key), f"item.content[{i}].{key}"), True)
        return out

    def _open_call(self, item_id: str, item: Json) -> list[Event]:
        index = self._calls[item_id] = len(self._calls)
        call_id = as_text(item.get("call_id"), "item.call_id") or item_id
        function = {"name": as_text(item.get("name"), "item.name"), "arguments": ""}
        call = {"index": index, "id": call_id, "type": "function", "function": function}
        return [*self._start(), self._chunk({"tool_calls": [call]})]

    def _arguments(self, data: Json, arguments: str, done: bool) -> list[Event]:
        item_id = self._item_id(data)
        if item_id not in self._calls:
            return []  # arguments of an item never announced: nothing to attach them to
        piece = self._piece(("arguments", item_id), arguments, done)
        if not piece:
            return []
        call = {"index": self._calls[item_id], "function": {"arguments": piece}}
        return [self._chunk({"tool_calls": [call]})]

    def _complete(self, response: Json) -> list[Event]:
        finish = finish_reason(response.get("status"), response.get("incomplete_details"), bool(self._calls))
        usage = {"id": self._id, "object": "chat.completion.chunk", "created": self._created, "model": self._model}
        usage |= {"choices": [], "usage": chat_usage(response.get("usage"))}
        self._ended = True
        return [*self._start(), self._chunk({}, finish), Event(data=usage), Event(data="[DONE]")]

    def _fail(self, error: object) -> list[Event]:
        code = error.get("code") if isinstance(error, dict) else None
        body = {"message": error_message(error), "type": "server_error", "param": None, "code": code}
        self._ended = True
        return [Event(data={"error": body}), Event(data="[DONE]")]

    # --- helpers ------------------------------------------------------------------------------------------

    def _item_id(self, data: Json) -> str:
        if isinstance(data.get("item_id"), str) and data["item_id"]:
            return str(data["item_id"])
        return self._by_index.get(data.get("output_index"), f"out{data.get('output_index')}")  # type: ignore[arg-type]

    def _piece(self, key: tuple[str, ...], text: str, done: bool) -> str:
        """The part of ``text`` not delivered yet: a delta as is; for a full text (``done``), what it adds to
        the deltas already sent (nothing when they disagree: the client already has its version)."""
        sent = self._sent.get(key, "")
        if not done:
            if text:
                self._sent[key] = sent + text
            return text
        if len(text) > len(sent) and text.startswith(sent):
            self._sent[key] = text
            return text[len(sent) :]
        return ""

    def _chunk(self, delta: Json, finish: str | None = None) -> Event:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        data = {"id": self._id, "object": "chat.completion.chunk", "created": self._created, "model": self._model}
        return Event(data={**data, "choices": [choice]})
