"""Bridge 2, stream: Anthropic Messages stream events (upstream) → OpenAI chat completion chunks (client).

A role chunk opens the answer; text, thinking and tool-argument deltas become ``content``,
``reasoning_content`` and ``tool_calls`` deltas; ``message_delta`` gives the finish_reason chunk and
``message_stop`` the usage chunk (``choices: []``, always sent — the pipeline strips it when the client did
not ask) followed by ``[DONE]``. An ``error`` event becomes a chunk ``{"error": {...}}`` then ``[DONE]``.
"""

from __future__ import annotations

from typing import Any

from clinx.relay.convert.base import Event, Json
from clinx.relay.convert.claude_openai_common import dump_args, obj, openai_usage
from clinx.relay.convert.claude_openai_from_claude_response import finish_reason

DONE = Event(data="[DONE]")


class ClaudeToChatStream:
    """Feed Claude events, get OpenAI chunks."""

    def __init__(self) -> None:
        self._id = "chatcmpl-"
        self._model: Any = None
        self._started = False
        self._done = False
        self._usage: Json = {}
        self._calls: dict[int, int] = {}  # Claude block index → OpenAI tool call index

    def feed(self, event: Event) -> list[Event]:
        if self._done or not isinstance(event.data, dict):
            return []
        data = event.data
        kind = data.get("type") or event.name
        if kind == "message_start":
            return self._start(obj(data.get("message"), "message_start.message"))
        if kind == "content_block_start":
            return self._block_start(data)
        if kind == "content_block_delta":
            return self._block_delta(data)
        if kind == "message_delta":
            return self._message_delta(data)
        if kind == "message_stop":
            return self._end()
        if kind == "error":
            self._done = True
            return [Event(data={"error": _error(data.get("error"))}), DONE]
        return []  # ping, content_block_stop and unknown events carry nothing for an OpenAI client

    def finish(self) -> list[Event]:
        """A cut stream gets no finish_reason (OpenAI has none meaning "interrupted"), only the usage known so
        far and ``[DONE]``."""
        return [] if self._done else self._end()

    def _chunk(self, delta: Json, reason: str | None = None) -> Event:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
        return Event(data={**self._head(), "choices": [choice]})

    def _head(self) -> Json:
        return {"id": self._id, "object": "chat.completion.chunk", "created": 0, "model": self._model}

    def _start(self, message: Json) -> list[Event]:
        self._started = True
        self._id = "chatcmpl-" + (message["id"] if isinstance(message.get("id"), str) else "")
        self._model = message.get("model")
        if isinstance(message.get("usage"), dict):
            self._usage.update(message["usage"])
        return [self._chunk({"role": "assistant", "content": ""})]

    def _block_start(self, data: Json) -> list[Event]:
        block = data.get("content_block")
        block = block if isinstance(block, dict) else {}
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        if kind == "thinking" and block.get("thinking"):
            return [self._chunk({"reasoning_content": block["thinking"]})]
        if kind != "tool_use":
            return []
        index = len(self._calls)
        self._calls[_block_index(data)] = index
        initial = block.get("input")
        arguments = dump_args(initial) if isinstance(initial, dict) and initial else ""
        function = {"name": block.get("name", ""), "arguments": arguments}
        return [
            self._chunk(
                {"tool_calls": [{"index": index, "id": block.get("id", ""), "type": "function", "function": function}]}
            )
        ]

    def _block_delta(self, data: Json) -> list[Event]:
        delta = data.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [self._chunk({"content": delta["text"]})]
        if kind == "thinking_delta" and delta.get("thinking"):
            return [self._chunk({"reasoning_content": delta["thinking"]})]
        if kind == "signature_delta" and delta.get("signature"):
            return [self._chunk({"reasoning_signature": delta["signature"]})]
        call = self._calls.get(_block_index(data))
        if kind == "input_json_delta" and call is not None and delta.get("partial_json"):
            return [self._chunk({"tool_calls": [{"index": call, "function": {"arguments": delta["partial_json"]}}]})]
        return []

    def _message_delta(self, data: Json) -> list[Event]:
        usage = data.get("usage")
        if isinstance(usage, dict):
            self._usage.update({k: v for k, v in usage.items() if v is not None})
        delta = data.get("delta")
        reason = delta.get("stop_reason") if isinstance(delta, dict) else None
        return [self._chunk({}, finish_reason(reason))] if reason is not None else []

    def _end(self) -> list[Event]:
        self._done = True
        if not self._started:
            return [DONE]
        return [Event(data={**self._head(), "choices": [], "usage": openai_usage(self._usage)}), DONE]


def _block_index(data: Json) -> int:
    index = data.get("index")
    return index if isinstance(index, int) else -1


def _error(error: Any) -> Json:
    error = error if isinstance(error, dict) else {}
    message = error.get("message")
    kind = error.get("type")
    return {
        "message": message if isinstance(message, str) else "upstream stream error",
        "type": kind if isinstance(kind, str) else "api_error",
        "param": None,
        "code": None,
    }
