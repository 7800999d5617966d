"""OpenAI chat completion chunks → Gemini ``streamGenerateContent`` chunks (Gemini client over an OpenAI channel).

Text and thought deltas pass through as they come. Gemini streams whole function calls, so tool-call argument
deltas are buffered per choice and tool index and sent as one ``functionCall`` part once the call is complete (a
later tool index starts, or the choice finishes). Gemini's last chunk carries both ``finishReason`` and
``usageMetadata``, so a finish reason is held until OpenAI's usage chunk (or the end of the stream). No ``[DONE]``.
A stream cut before a choice finished sends the calls whose arguments parse and no finish reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinx.relay.convert.base import Event, Json
from clinx.relay.convert.gemini_openai_common import (
    google_signature,
    int_or,
    openai_finish_to_gemini,
    openai_usage_to_gemini,
    parse_answer_arguments,
    signature_extra,
    text_or,
)
from clinx.relay.convert.gemini_openai_to_gemini_response import function_call_part, message_parts


@dataclass
class _Call:
    ident: str = ""
    name: str = ""
    arguments: str = ""
    signature: str = ""

    def part(self) -> Json:
        call: Json = {"id": self.ident, "function": {"name": self.name, "arguments": self.arguments}}
        if self.signature:
            call["extra_content"] = signature_extra(self.signature)
        return function_call_part(call)


class OpenAIToGeminiStream:
    def __init__(self) -> None:
        self.response_id = ""
        self.model = ""
        self.calls: dict[int, dict[int, _Call]] = {}
        self.finish_reasons: dict[int, str] = {}
        self.tail: dict[int, list[Json]] = {}
        self.seen: set[int] = set()
        self.usage: Json | None = None
        self.closed = False

    def feed(self, event: Event) -> list[Event]:
        data = event.data
        if self.closed or not isinstance(data, dict):
            return []
        if isinstance(data.get("error"), dict):
            return [Event(_error(data["error"]))]
        self.response_id = self.response_id or text_or(data.get("id"))
        self.model = self.model or text_or(data.get("model"))
        candidates = []
        choices = data.get("choices")
        for choice in choices if isinstance(choices, list) else []:
            if isinstance(choice, dict):
                candidate = self._choice(choice)
                if candidate is not None:
                    candidates.append(candidate)
        if isinstance(data.get("usage"), dict):
            self.usage = openai_usage_to_gemini(data["usage"])
        out = [Event(self._chunk(candidates))] if candidates else []
        # Some servers repeat usage on every chunk: close only once every choice seen so far has finished.
        if self.usage is not None and self.finish_reasons and self.seen <= set(self.finish_reasons):
            out.append(Event(self._closing({})))
        return out

    def finish(self) -> list[Event]:
        if self.closed:
            return []
        # Calls still buffered belong to choices that never finished: only complete-looking ones are sent.
        cut = {
            index: [c.part() for c in calls.values() if parse_answer_arguments(c.arguments) is not None]
            for index, calls in self.calls.items()
        }
        cut = {index: parts for index, parts in cut.items() if parts}
        if not cut and not self.finish_reasons and self.usage is None:
            return []
        return [Event(self._closing(cut))]

    def _choice(self, choice: Json) -> Json | None:
        index = int_or(choice.get("index"), 0)
        self.seen.add(index)
        delta = choice.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        parts = message_parts({k: v for k, v in delta.items() if k != "tool_calls"})
        tool_deltas = delta.get("tool_calls")
        for position, raw in enumerate(tool_deltas if isinstance(tool_deltas, list) else []):
            if not isinstance(raw, dict):
                continue
            slot = int_or(raw.get("index"), position)
            if slot not in self.calls.get(index, {}):
                parts.extend(self._flush(index))
            _merge(self.calls.setdefault(index, {}).setdefault(slot, _Call()), raw)
        reason = choice.get("finish_reason")
        if isinstance(reason, str):
            # Held with the finish reason: Gemini's last chunk carries the last parts, the reason and the usage.
            self.tail[index] = parts + self._flush(index)
            self.finish_reasons[index] = openai_finish_to_gemini(reason)
            return None
        return {"content": {"role": "model", "parts": parts}, "index": index} if parts else None

    def _flush(self, index: int) -> list[Json]:
        calls = self.calls.pop(index, {})
        return [call.part() for call in calls.values()]

    def _chunk(self, candidates: list[Json]) -> Json:
        chunk: Json = {"candidates": candidates}
        if self.model:
            chunk["modelVersion"] = self.model
        if self.response_id:
            chunk["responseId"] = self.response_id
        return chunk

    def _closing(self, cut: dict[int, list[Json]]) -> Json:
        self.closed = True
        candidates = []
        for index in sorted(set(cut) | set(self.finish_reasons)):
            parts = self.tail.get(index, []) + cut.get(index, [])
            # As Gemini's own last chunk, a finishing candidate without new parts has one empty text part.
            candidate: Json = {"content": {"role": "model", "parts": parts or [{"text": ""}]}}
            if index in self.finish_reasons:
                candidate["finishReason"] = self.finish_reasons[index]
            candidate["index"] = index
            candidates.append(candidate)
        chunk = self._chunk(candidates)
        if self.usage is not None:
            chunk["usageMetadata"] = self.usage
        return chunk


def _merge(call: _Call, delta: Json) -> None:
    """Ids and names come whole in the first delta (some servers repeat them later: they are not appended);
    arguments come in pieces."""
    function = delta.get("function")
    function = function if isinstance(function, dict) else {}
    call.ident = call.ident or text_or(delta.get("id"))
    call.name = call.name or text_or(function.get("name"))
    call.arguments += text_or(function.get("arguments"))
    call.signature = call.signature or (google_signature(delta) or "")


def _error(error: Json) -> Json:
    message = error.get("message")
    return {
        "error": {
            "code": 500,
            "message": message if isinstance(message, str) else "upstream error",
            "status": "INTERNAL",
        }
    }
