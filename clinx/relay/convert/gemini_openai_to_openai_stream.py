"""Gemini ``streamGenerateContent`` chunks → OpenAI chat completion chunks (OpenAI client over a Gemini channel).

Per candidate: a role chunk first, then one delta per part (thought → ``reasoning_content``, text → ``content``, a
function call → one complete ``tool_calls`` entry at the next index), then a finish chunk. Gemini repeats running
usage totals on every chunk; the last one becomes the closing ``choices: []`` usage chunk, then ``[DONE]``.
"""

from __future__ import annotations

from clinx.relay.convert.base import Event, Json
from clinx.relay.convert.gemini_openai_common import gemini_finish_to_openai, gemini_usage_to_openai, signature_extra
from clinx.relay.convert.gemini_openai_to_openai_response import completion_id, created_of, inline_markdown, tool_call


class GeminiToOpenAIStream:
    def __init__(self) -> None:
        self.ident = ""
        self.response_id = ""
        self.model = ""
        self.created = 0
        self.started: set[int] = set()
        self.finished: set[int] = set()
        self.tool_counts: dict[int, int] = {}
        self.usage: Json | None = None
        self.done = False

    def feed(self, event: Event) -> list[Event]:
        data = event.data
        if self.done or not isinstance(data, dict):
            return []
        if isinstance(data.get("error"), dict):
            message = data["error"].get("message")
            text = message if isinstance(message, str) else "upstream error"
            return [Event({"error": {"message": text, "type": "upstream_error", "code": data["error"].get("status")}})]
        if not self.ident:
            self.ident = completion_id(data)
            self.response_id = data["responseId"] if isinstance(data.get("responseId"), str) else ""
            self.created = created_of(data)
        if not self.model and isinstance(data.get("modelVersion"), str):
            self.model = data["modelVersion"]
        if isinstance(data.get("usageMetadata"), dict):
            self.usage = gemini_usage_to_openai(data["usageMetadata"])
        candidates = data.get("candidates")
        out: list[Event] = []
        for position, candidate in enumerate(candidates if isinstance(candidates, list) else []):
            if isinstance(candidate, dict):
                out.extend(self._candidate(candidate, position))
        feedback = data.get("promptFeedback")
        if not candidates and isinstance(feedback, dict) and feedback.get("blockReason"):
            out.extend(self._start(0))
            out.extend(self._finish(0, "content_filter"))
        return out

    def finish(self) -> list[Event]:
        if self.done:
            return []
        self.done = True
        out: list[Event] = []
        if self.usage is not None:
            out.append(Event({**self._envelope(), "choices": [], "usage": self.usage}))
        out.append(Event("[DONE]"))
        return out

    def _candidate(self, candidate: Json, position: int) -> list[Event]:
        index = candidate["index"] if isinstance(candidate.get("index"), int) else position
        out = self._start(index)
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else []:
            delta = self._delta(part, index) if isinstance(part, dict) else None
            if delta:
                out.append(self._chunk(index, delta, None))
        reason = candidate.get("finishReason")
        if isinstance(reason, str):
            out.extend(self._finish(index, gemini_finish_to_openai(reason, self.tool_counts.get(index, 0) > 0)))
        return out

    def _delta(self, part: Json, index: int) -> Json | None:
        call = part.get("functionCall")
        if isinstance(call, dict):
            number = self.tool_counts.get(index, 0)
            self.tool_counts[index] = number + 1
            return {"tool_calls": [{"index": number, **tool_call(part, call, number, self.response_id)}]}
        text = part.get("text")
        if isinstance(text, str):
            delta: Json = {("reasoning_content" if part.get("thought") is True else "content"): text} if text else {}
            signature = part.get("thoughtSignature")
            if isinstance(signature, str) and signature:
                delta["extra_content"] = signature_extra(signature)
            return delta
        markdown = inline_markdown(part.get("inlineData"))
        return {"content": markdown} if markdown else None

    def _start(self, index: int) -> list[Event]:
        if index in self.started:
            return []
        self.started.add(index)
        return [self._chunk(index, {"role": "assistant", "content": ""}, None)]

    def _finish(self, index: int, reason: str) -> list[Event]:
        if index in self.finished:
            return []
        self.finished.add(index)
        return [self._chunk(index, {}, reason)]

    def _envelope(self) -> Json:
        return {
            "id": self.ident or "chatcmpl-gemini",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        }

    def _chunk(self, index: int, delta: Json, reason: str | None) -> Event:
        return Event({**self._envelope(), "choices": [{"index": index, "delta": delta, "finish_reason": reason}]})
