"""Responses client over a Chat upstream, stream side: Chat chunks → named Responses events with a
``sequence_number`` counting from 0 (created, in_progress, output items with their parts and deltas, then one
terminal event: completed, incomplete or failed).

Reasoning and message items close as soon as another item starts; function-call items stay open until the
upstream's finish_reason (or the end of the stream), because Chat may interleave the argument deltas of
parallel calls. A stream cut before any finish_reason or ``[DONE]`` ends with ``response.incomplete`` whose
``incomplete_details`` is null (neither documented reason, max_output_tokens nor content_filter, applies) and
whose open items are marked incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clinx.relay.convert.base import Event, Json
from clinx.relay.convert.responses_openai_common import (
    as_list,
    as_object,
    call_item,
    call_item_id,
    count,
    finish_status,
    message_item,
    reasoning_item,
    refusal_part,
    response_id,
    response_object,
    responses_usage,
    text_or,
    text_part,
)
from clinx.relay.convert.responses_openai_response import reasoning_text


@dataclass
class _Item:
    """One output item being streamed: its place, id, and what has arrived so far."""

    index: int
    kind: str  # "message", "reasoning" or "function_call"
    item_id: str
    parts: list[list[str]] = field(default_factory=list)  # message: [part type, text]; reasoning: one part
    call_id: str = ""
    name: str = ""
    status: str = "in_progress"

    def snapshot(self) -> Json:
        if self.kind == "reasoning":
            return reasoning_item(self.item_id, self.parts[0][1] if self.parts else "")
        if self.kind == "message":
            parts = [text_part(text) if kind == "output_text" else refusal_part(text) for kind, text in self.parts]
            return message_item(self.item_id, parts, self.status)
        arguments = self.parts[0][1] if self.parts else ""
        return call_item(self.item_id, self.call_id, self.name, arguments, self.status)


class ChatToResponsesStream:
    def __init__(self) -> None:
        self._seq = 0
        self._base = ""
        self._created = 0
        self._model = ""
        self._started = False
        self._items: list[_Item] = []
        self._text: _Item | None = None  # the open message or reasoning item
        self._calls: dict[int, _Item] = {}  # Chat tool-call index → its item
        self._finish: str | None = None
        self._usage: Json | None = None
        self._done = False  # "[DONE]" arrived
        self._ended = False  # the terminal event was sent

    # --- StreamBridge -------------------------------------------------------------------------------------

    def feed(self, event: Event) -> list[Event]:
        if self._ended:
            return []
        if event.data == "[DONE]":
            self._done = True
            return self._terminal()
        chunk = as_object(event.data, "stream chunk")
        out = self._start(chunk)
        if chunk.get("error"):
            return out + self._fail(as_object(chunk["error"], "stream chunk error"))
        if isinstance(chunk.get("model"), str) and chunk["model"]:
            self._model = chunk["model"]
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        for i, raw in enumerate(as_list(chunk.get("choices"), "choices")):
            choice = as_object(raw, f"choices[{i}]")
            if choice.get("index", 0) == 0:  # Responses has no n: the first choice is the answer
                out += self._choice(choice)
        return out

    def finish(self) -> list[Event]:
        return [] if self._ended else self._terminal()

    # --- chunks -------------------------------------------------------------------------------------------

    def _start(self, chunk: Json) -> list[Event]:
        if self._started:
            return []
        self._started = True
        self._base = text_or(chunk.get("id"), "unknown")
        self._created = count(chunk.get("created"))
        self._model = text_or(chunk.get("model"), "")
        return [
            self._emit("response.created", response=self._response("in_progress", None)),
            self._emit("response.in_progress", response=self._response("in_progress", None)),
        ]

    def _choice(self, choice: Json) -> list[Event]:
        delta = as_object(choice.get("delta") or {}, "choices[0].delta")
        out: list[Event] = []
        reasoning = reasoning_text(delta)
        if reasoning:
            out += self._text_delta("reasoning", "summary_text", reasoning)
        for key, part in (("content", "output_text"), ("refusal", "refusal")):
            if isinstance(delta.get(key), str) and delta[key]:
                out += self._text_delta("message", part, delta[key])
        for i, call in enumerate(as_list(delta.get("tool_calls"), "choices[0].delta.tool_calls")):
            out += self._call_delta(as_object(call, f"choices[0].delta.tool_calls[{i}]"))
        if isinstance(choice.get("finish_reason"), str):
            self._finish = choice["finish_reason"]
            out += self._close_all()
        return out

    def _text_delta(self, kind: str, part: str, text: str) -> list[Event]:
        out: list[Event] = []
        item = self._text
        if item is None or item.kind != kind:
            out += self._close(item)
            item = self._text = self._open(kind, self._text_id(kind))
            out.append(self._emit("response.output_item.added", output_index=item.index, item=item.snapshot()))
        if not item.parts or item.parts[-1][0] != part:
            out += self._close_part(item)
            item.parts.append([part, ""])
            out.append(self._part_event(item, "added"))
        item.parts[-1][1] += text
        where = self._where(item)
        if kind == "reasoning":
            out.append(self._emit("response.reasoning_summary_text.delta", **where, delta=text))
        elif part == "output_text":
            out.append(self._emit("response.output_text.delta", **where, delta=text, logprobs=[]))
        else:
            out.append(self._emit("response.refusal.delta", **where, delta=text))
        return out

    def _call_delta(self, call: Json) -> list[Event]:
        index = call.get("index")
        if not isinstance(index, int):  # some providers omit the index: a new id starts a new call
            index = len(self._calls) if call.get("id") or not self._calls else max(self._calls)
        function = as_object(call.get("function") or {}, "tool_calls[].function")
        name = text_or(function.get("name"), "")
        out: list[Event] = []
        item = self._calls.get(index)
        if item is None:
            out += self._close(self._text)
            self._text = None
            call_id = text_or(call.get("id"), f"call_{self._base}_{index}")
            item = self._calls[index] = self._open("function_call", call_item_id(call_id))
            item.call_id, item.name, item.parts = call_id, name, [["arguments", ""]]
            out.append(self._emit("response.output_item.added", output_index=item.index, item=item.snapshot()))
        elif name and not item.name:
            item.name = name
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments and item.status == "in_progress":
            item.parts[0][1] += arguments
            out.append(
                self._emit(
                    "response.function_call_arguments.delta",
                    item_id=item.item_id,
                    output_index=item.index,
                    delta=arguments,
                )
            )
        return out

    # --- items --------------------------------------------------------------------------------------------

    def _open(self, kind: str, item_id: str) -> _Item:
        item = _Item(index=len(self._items), kind=kind, item_id=item_id)
        self._items.append(item)
        return item

    def _text_id(self, kind: str) -> str:
        prefix = "rs_" if kind == "reasoning" else "msg_"
        seen = sum(1 for item in self._items if item.kind == kind)
        return f"{prefix}{self._base}" + (f"_{seen}" if seen else "")

    def _where(self, item: _Item) -> Json:
        key = "summary_index" if item.kind == "reasoning" else "content_index"
        return {"item_id": item.item_id, "output_index": item.index, key: len(item.parts) - 1}

    def _part_event(self, item: _Item, stage: str) -> Event:
        kind, text = item.parts[-1]
        if item.kind == "reasoning":
            part = {"type": "summary_text", "text": text}
            return self._emit(f"response.reasoning_summary_part.{stage}", **self._where(item), part=part)
        part = text_part(text) if kind == "output_text" else refusal_part(text)
        return self._emit(f"response.content_part.{stage}", **self._where(item), part=part)

    def _close_part(self, item: _Item) -> list[Event]:
        if not item.parts:
            return []
        kind, text = item.parts[-1]
        where = self._where(item)
        if item.kind == "reasoning":
            done = self._emit("response.reasoning_summary_text.done", **where, text=text)
        elif kind == "output_text":
            done = self._emit("response.output_text.done", **where, text=text, logprobs=[])
        else:
            done = self._emit("response.refusal.done", **where, refusal=text)
        return [done, self._part_event(item, "done")]

    def _close(self, item: _Item | None, status: str = "completed") -> list[Event]:
        """Close an item: ``completed`` when the next item starts, the response's fate when the stream ends."""
        if item is None or item.status != "in_progress":
            return []
        out: list[Event] = []
        if item.kind == "function_call":
            arguments = item.parts[0][1]
            out.append(
                self._emit(
                    "response.function_call_arguments.done",
                    item_id=item.item_id,
                    output_index=item.index,
                    arguments=arguments,
                )
            )
        else:
            out += self._close_part(item)
        item.status = status
        out.append(self._emit("response.output_item.done", output_index=item.index, item=item.snapshot()))
        return out

    def _close_all(self) -> list[Event]:
        status = "completed" if self._status()[0] == "completed" else "incomplete"
        out = self._close(self._text, status)
        self._text = None
        for item in self._calls.values():
            out += self._close(item, status)
        return out

    # --- the end ------------------------------------------------------------------------------------------

    def _status(self) -> tuple[str, Json | None]:
        if self._finish is None and not self._done:
            return "incomplete", None  # cut before the upstream said why it stopped
        return finish_status(self._finish)

    def _terminal(self) -> list[Event]:
        out = self._start({}) + self._close_all()
        status, incomplete = self._status()
        self._ended = True
        name = "response.completed" if status == "completed" else "response.incomplete"
        return [*out, self._emit(name, response=self._response(status, incomplete))]

    def _fail(self, error: Json) -> list[Event]:
        code = error.get("code") or error.get("type") or "server_error"
        message = error.get("message") if isinstance(error.get("message"), str) else "upstream error"
        out = self._close_all()
        self._ended = True
        out.append(self._emit("error", code=str(code), message=message, param=error.get("param")))
        failed = self._response("failed", None, error={"code": str(code), "message": message})
        return [*out, self._emit("response.failed", response=failed)]

    def _response(self, status: str, incomplete: Json | None, error: Json | None = None) -> Json:
        final = status != "in_progress"
        return response_object(
            rid=response_id(self._base),
            created=self._created,
            model=self._model,
            status=status,
            output=[item.snapshot() for item in self._items] if final else [],
            usage=responses_usage(self._usage) if final else None,
            incomplete=incomplete,
            error=error,
        )

    def _emit(self, kind: str, **fields: object) -> Event:
        data: Json = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return Event(data=data, name=kind)
