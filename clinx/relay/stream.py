"""Pass an upstream OpenAI-style SSE stream through, chunk by chunk as it arrives, while watching for usage.

The provider's usage chunk (``choices: []``) is forwarded only when the client asked for it. How the stream
ended is recorded: ``ok``, ``client_gone``, ``upstream_cut`` (no ``[DONE]`` before EOF) or ``timeout``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from clinx.core.types import Usage

DONE = b"data: [DONE]\n\n"


@dataclass
class StreamWatcher:
    """Feed raw bytes, get the bytes to send; collects usage and the delivered text."""

    usage_reader: Callable[[dict[str, Any]], Usage | None]
    forward_usage: bool
    usage: Usage | None = None
    done: bool = False
    payloads: list[bytes] = field(default_factory=list)
    _buffer: bytes = b""

    def feed(self, chunk: bytes) -> bytes:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        out: list[bytes] = []
        for raw in lines:
            frame = self._frame(raw.rstrip(b"\r"))
            if frame:
                out.append(frame)
        return b"".join(out)

    def _frame(self, line: bytes) -> bytes:
        if not line.startswith(b"data:"):
            return b""  # blank separators, comments and keep-alives: we write our own separators
        payload = line[5:].strip()
        if payload == b"[DONE]":
            self.done = True
            return DONE
        if b'"usage"' in payload and b'"usage":null' not in payload and b'"usage": null' not in payload:
            try:
                parsed = orjson.loads(payload)
            except orjson.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                usage = self.usage_reader(parsed)
                if usage is not None:
                    self.usage = usage
                    if parsed.get("choices") == [] and not self.forward_usage:
                        return b""
        self.payloads.append(payload)
        return b"data: " + payload + b"\n\n"

    def delivered_text(self) -> str:
        """The content and reasoning text sent so far (for local counting when no usage came)."""
        parts: list[str] = []
        for payload in self.payloads:
            try:
                chunk = orjson.loads(payload)
            except orjson.JSONDecodeError:
                continue
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                for key in ("content", "reasoning_content"):
                    if isinstance(delta.get(key), str):
                        parts.append(delta[key])
                if isinstance(choice.get("text"), str):
                    parts.append(choice["text"])
                for call in delta.get("tool_calls") or []:
                    function = call.get("function") or {}
                    parts.append(str(function.get("name") or "") + str(function.get("arguments") or ""))
        return "".join(parts)
