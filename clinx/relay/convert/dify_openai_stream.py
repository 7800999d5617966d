"""Dify stream events → OpenAI chat completion chunks (OpenAI client over a Dify channel).

Dify sends data-only SSE frames, each JSON object naming its ``event``. A role chunk comes first, then content
deltas from ``message`` / ``agent_message`` answers (workflow apps: ``text_chunk``), tool-made files as Markdown,
and ``reasoning_chunk`` text as ``reasoning_content``. With ``debug`` on (New API's ``DIFY_DEBUG``), workflow and
node events are shown as ``reasoning_content`` lines in New API's wording (``Workflow: <id>``, ``Node: <type>
<status>``). ``message_end`` closes: a finish chunk, the usage chunk, ``[DONE]``; a workflow app's stream just ends
after ``workflow_finished`` and ``finish()`` closes it, answering with the workflow's outputs when it streamed no
text. An ``error`` event (or a failed workflow) becomes an OpenAI error chunk, then ``[DONE]``.
``message_replace`` (output moderation) cannot take back what was already sent: its text is appended.
"""

from __future__ import annotations

from clinx.core.types import Usage
from clinx.relay.convert.base import Event, Json
from clinx.relay.convert.dify_openai_common import (
    DEBUG_EVENTS,
    MODEL,
    completion_id,
    content_piece,
    detail,
    event_created,
    event_id,
    fold_usage,
    kind_of,
    openai_usage,
    outputs_text,
    text_or,
)


class DifyToOpenAIStream:
    def __init__(self, debug: bool = True) -> None:
        self.debug = debug
        self.ident = ""
        self.seen_id = ""
        self.created = 0
        self.conversation_id = ""
        self.started = False
        self.texted = False
        self.usage: Usage | None = None
        self.run: Json | None = None  # the workflow_finished details, when one came
        self.closed = False

    def feed(self, event: Event) -> list[Event]:
        data = event.data
        if self.closed or not isinstance(data, dict):
            return []
        kind = kind_of(event)
        self.seen_id = self.seen_id or event_id(data)
        self.created = self.created or event_created(data)
        self.conversation_id = self.conversation_id or text_or(data.get("conversation_id"))
        self.usage = fold_usage({**data, "event": kind}, self.usage)
        if kind == "message_end":
            return self._close()
        if kind == "error":
            return self._error(data.get("message"), data.get("code"))
        if kind == "workflow_finished":
            self.run = detail(data)
        return self._deltas(kind, data)

    def finish(self) -> list[Event]:
        if self.closed:
            return []
        run = self.run
        if run is not None and run.get("status") == "failed":
            return self._error(run.get("error") or "the Dify workflow failed", "dify_workflow_failed")
        if run is None:  # cut before the end: no finish reason to give, only the closing marker
            self.closed = True
            return [*self._usage_chunk(), Event("[DONE]")]
        out: list[Event] = []
        if not self.texted:
            text = outputs_text(run.get("outputs"))
            if text:
                out.extend(self._chunk({"content": text}))
        return out + self._close()

    def _deltas(self, kind: str, data: Json) -> list[Event]:
        if kind == "message_replace":
            text = text_or(data.get("answer"))
        elif kind == "reasoning_chunk":
            reasoning = text_or(detail(data).get("reasoning"))
            return self._chunk({"reasoning_content": reasoning}) if reasoning else []
        elif kind in DEBUG_EVENTS:
            line = self._debug_line(kind, detail(data)) if self.debug else ""
            return self._chunk({"reasoning_content": line}) if line else []
        else:
            text = content_piece(kind, data)
        if not text:
            return []
        self.texted = True
        return self._chunk({"content": text})

    @staticmethod
    def _debug_line(kind: str, run: Json) -> str:
        if kind.startswith("workflow_"):
            line = "Workflow: " + text_or(run.get("workflow_id"))
        else:
            line = "Node: " + text_or(run.get("node_type"))
        if kind.endswith("_finished") and text_or(run.get("status")):
            line += " " + text_or(run.get("status"))
        return line + "\n"

    def _close(self) -> list[Event]:
        self.closed = True
        return [*self._chunk({}, "stop"), *self._usage_chunk(), Event("[DONE]")]

    def _error(self, message: object, code: object) -> list[Event]:
        self.closed = True
        text = message if isinstance(message, str) and message else "Dify reported an error"
        error = {"message": text, "type": "upstream_error", "code": code if isinstance(code, str) else None}
        return [Event({"error": error}), Event("[DONE]")]

    def _usage_chunk(self) -> list[Event]:
        if self.usage is None:
            return []
        return [Event({**self._envelope(), "choices": [], "usage": openai_usage(self.usage)})]

    def _envelope(self) -> Json:
        self.ident = self.ident or completion_id(self.seen_id)
        envelope: Json = {"id": self.ident, "object": "chat.completion.chunk", "created": self.created, "model": MODEL}
        if self.conversation_id:
            envelope["conversation_id"] = self.conversation_id
        return envelope

    def _chunk(self, delta: Json, reason: str | None = None) -> list[Event]:
        """One chunk, after the role chunk when it is the first."""
        out: list[Event] = []
        if not self.started:
            self.started = True
            out.append(self._choice({"role": "assistant", "content": ""}, None))
        return [*out, self._choice(delta, reason)]

    def _choice(self, delta: Json, reason: str | None) -> Event:
        return Event({**self._envelope(), "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]})
