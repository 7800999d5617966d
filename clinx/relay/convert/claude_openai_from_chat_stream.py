"""Bridge 1, stream: OpenAI chat completion chunks (upstream) → Anthropic Messages stream events (client).

One block is open at a time, as Anthropic streams them: a change of kind (reasoning, text, a new tool call
index) closes the open block and starts the next. Argument deltas for a call whose block is already closed
(only upstreams that interleave parallel calls send them) still go to that call's block index, where the
anthropic SDK's accumulator places them. ``message_delta`` and ``message_stop`` wait for ``[DONE]`` (or
``finish()``) because OpenAI reports usage last.
"""

from __future__ import annotations

from typing import Any

from clinx.relay.convert.base import Event, Json
from clinx.relay.convert.claude_openai_common import (
    arr,
    claude_error,
    claude_stop_reason,
    claude_usage,
    obj,
)
from clinx.relay.convert.claude_openai_from_chat_response import EMPTY_USAGE, call_id, reasoning_of


def _event(data: Json) -> Event:
    return Event(data=data, name=data["type"])


class ChatToClaudeStream:
    """Feed OpenAI chunks, get Claude events. See the module docstring for the block discipline."""

    def __init__(self) -> None:
        self._id = ""
        self._started = False
        self._ended = False
        self._next_index = 0
        self._open: tuple[str, int] | None = None  # (kind, block index) of the open block
        self._tools: dict[int, int] = {}  # every tool call seen: OpenAI call index → Claude block index
        self._finish: str | None = None
        self._usage: Json | None = None

    def feed(self, event: Event) -> list[Event]:
        if self._ended:
            return []
        if event.data == "[DONE]":
            return self._close(normal=True)
        chunk = obj(event.data, "stream chunk")
        if "error" in chunk and not chunk.get("choices"):
            self._ended = True
            return [_event(claude_error(chunk["error"]))]
        out = [] if self._started else [self._start(chunk)]
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        for choice in arr(chunk.get("choices") or [], "stream chunk choices"):
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                out.extend(self._choice(choice))
        return out

    def finish(self) -> list[Event]:
        return [] if self._ended else self._close(normal=False)

    def _start(self, chunk: Json) -> Event:
        self._started = True
        upstream_id = chunk.get("id")
        self._id = upstream_id if isinstance(upstream_id, str) else ""
        message: Json = {
            "id": "msg_" + self._id,
            "type": "message",
            "role": "assistant",
            "model": chunk.get("model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": dict(EMPTY_USAGE),  # OpenAI reports usage only at the end: the real counts ride message_delta
        }
        return _event({"type": "message_start", "message": message})

    def _choice(self, choice: Json) -> list[Event]:
        delta = choice.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        out: list[Event] = []
        reasoning = reasoning_of(delta)
        if reasoning:
            out += self._text_delta("thinking", {"type": "thinking_delta", "thinking": reasoning})
        signature = delta.get("reasoning_signature")
        if isinstance(signature, str) and signature and self._open is not None and self._open[0] == "thinking":
            out += self._text_delta("thinking", {"type": "signature_delta", "signature": signature})
        content = delta.get("content")
        if isinstance(content, str) and content:
            out += self._text_delta("text", {"type": "text_delta", "text": content})
        for position, call in enumerate(arr(delta.get("tool_calls") or [], "delta.tool_calls")):
            if isinstance(call, dict):
                out += self._tool_delta(call, position)
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            self._finish = reason
            out += self._close_blocks()
        return out

    def _text_delta(self, kind: str, delta: Json) -> list[Event]:
        out: list[Event] = []
        if self._open is None or self._open[0] != kind:
            out += self._close_blocks()
            block = (
                {"type": "thinking", "thinking": "", "signature": ""}
                if kind == "thinking"
                else {"type": "text", "text": ""}
            )
            out.append(self._block_start(block))
            self._open = (kind, self._next_index - 1)
        out.append(_event({"type": "content_block_delta", "index": self._open[1], "delta": delta}))
        return out

    def _tool_delta(self, call: Json, position: int) -> list[Event]:
        out: list[Event] = []
        index = self._call_index(call, position)
        function = call.get("function")
        function = function if isinstance(function, dict) else {}
        if index not in self._tools:
            out += self._close_blocks()
            name = function.get("name")
            block = {
                "type": "tool_use",
                "id": call_id(call.get("id"), self._id, index),
                "name": name if isinstance(name, str) else "",
                "input": {},
            }
            out.append(self._block_start(block))
            self._tools[index] = self._next_index - 1
            self._open = ("tool", self._next_index - 1)
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            delta = {"type": "input_json_delta", "partial_json": arguments}
            out.append(_event({"type": "content_block_delta", "index": self._tools[index], "delta": delta}))
        return out

    def _call_index(self, call: Json, position: int) -> int:
        """OpenAI's call index; upstreams that omit it are placed by call id (a new id is a new call)."""
        index: Any = call.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            return index
        if not self._tools:
            return position
        if isinstance(call.get("id"), str) and call["id"]:
            return max(self._tools) + 1
        return max(self._tools)

    def _block_start(self, block: Json) -> Event:
        event = _event({"type": "content_block_start", "index": self._next_index, "content_block": block})
        self._next_index += 1
        return event

    def _close_blocks(self) -> list[Event]:
        if self._open is None:
            return []
        index = self._open[1]
        self._open = None
        return [_event({"type": "content_block_stop", "index": index})]

    def _close(self, *, normal: bool) -> list[Event]:
        """Close the message. Without a finish_reason, a normal end ([DONE]) reads as ``end_turn`` (or
        ``tool_use`` when tools were called) while a cut stream gets a null stop_reason."""
        self._ended = True
        if not self._started:
            return []
        out = self._close_blocks()
        stop = claude_stop_reason(self._finish, bool(self._tools)) if normal or self._finish else None
        usage = claude_usage(self._usage) if self._usage is not None else {"output_tokens": 0}
        out.append(
            _event({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": usage})
        )
        out.append(_event({"type": "message_stop"}))
        return out
