"""The channel setting ``thinking_to_content``: reasoning text is delivered as ordinary content wrapped in
``<think>…</think>``, for clients that show only ``content`` (OpenAI Chat answers and streams; pure)."""

from __future__ import annotations

from dataclasses import dataclass

from clinx.relay.convert.base import Event, Json

OPEN, CLOSE = "<think>\n", "\n</think>\n"


def answer(payload: Json) -> Json:
    for choice in payload.get("choices") or []:
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict) and message.get("reasoning_content"):
            reasoning = message.pop("reasoning_content")
            message["content"] = f"{OPEN}{reasoning}{CLOSE}{message.get('content') or ''}"
    return payload


@dataclass
class StreamThinkToContent:
    """Rewrites OpenAI chunks as they pass; ``thinking`` is True between the first reasoning delta and the
    first content after it."""

    thinking: bool = False

    def feed(self, event: Event) -> list[Event]:
        data = event.data
        if not isinstance(data, dict):
            return [*self._close(), event] if self.thinking and data == "[DONE]" else [event]
        out: list[Event] = []
        for choice in data.get("choices") or []:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if not isinstance(delta, dict):
                continue
            reasoning = delta.pop("reasoning_content", None)
            text = ""
            if reasoning:
                text = (OPEN if not self.thinking else "") + str(reasoning)
                self.thinking = True
            if delta.get("content"):
                if self.thinking:
                    text += CLOSE
                    self.thinking = False
                text += str(delta["content"])
            elif self.thinking and choice.get("finish_reason"):
                text += CLOSE
                self.thinking = False
            if text:
                delta["content"] = text
        out.append(event)
        return out

    def _close(self) -> list[Event]:
        self.thinking = False
        return [Event({"choices": [{"index": 0, "delta": {"content": CLOSE}, "finish_reason": None}]})]
