"""Dify answers → one OpenAI chat completion: the blocking answer of a chat or completion app (``answer``,
``metadata.usage``) or of a workflow (``data.outputs``, ``data.total_tokens``), and ``aggregate``, which folds a
whole Dify event stream into the chat-app blocking shape (the gateway always asks Dify for a stream: agent apps
answer no other way)."""

from __future__ import annotations

from clinx.core.errors import UpstreamError
from clinx.core.types import Usage
from clinx.relay.convert.base import Event, Json
from clinx.relay.convert.dify_openai_common import (
    MODEL,
    completion_id,
    content_piece,
    count,
    detail,
    event_created,
    event_id,
    fold_usage,
    kind_of,
    openai_usage,
    outputs_text,
    text_or,
)


def dify_response_to_openai(answer: Json) -> Json:
    workflow = detail(answer) if "answer" not in answer else {}
    if workflow:
        text = outputs_text(workflow.get("outputs"))
        usage = fold_usage({"event": "workflow_finished", "data": workflow}, None)
    else:
        text = text_or(answer.get("answer"))
        usage = fold_usage({"event": "message_end", "metadata": answer.get("metadata")}, None)
    out: Json = {
        "id": completion_id(event_id(answer)),
        "object": "chat.completion",
        "created": event_created(answer),
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    if usage is not None:
        out["usage"] = openai_usage(usage)
    conversation = text_or(answer.get("conversation_id"))
    if conversation:
        out["conversation_id"] = conversation  # not OpenAI's: lets a client continue the Dify conversation
    return out


def stream_error(data: Json) -> UpstreamError:
    """A Dify ``error`` event (the HTTP status stayed 200) as the error it stands for."""
    message = text_or(data.get("message")) or "Dify reported an error"
    status = count(data.get("status"))
    return UpstreamError(
        message, code=text_or(data.get("code")) or "dify_error", status=status if status >= 400 else 500
    )


class _Gathered:
    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.ident = ""
        self.message_id = ""
        self.conversation_id = ""
        self.created = 0
        self.usage: Usage | None = None
        self.outputs: object = None

    def take(self, data: Json) -> None:
        kind = data.get("event")
        self.ident = self.ident or event_id(data)
        if kind in ("message", "agent_message", "message_end", "message_replace"):
            self.message_id = self.message_id or text_or(data.get("message_id")) or text_or(data.get("id"))
        self.conversation_id = self.conversation_id or text_or(data.get("conversation_id"))
        self.created = self.created or event_created(data)
        self.usage = fold_usage(data, self.usage)
        if kind == "error":
            raise stream_error(data)
        if kind == "message_replace":  # output moderation replaced the answer so far
            self.pieces = [text_or(data.get("answer"))]
        elif kind == "workflow_finished":
            run = detail(data)
            if run.get("status") == "failed":
                raise UpstreamError(
                    text_or(run.get("error")) or "the Dify workflow failed", code="dify_workflow_failed"
                )
            self.outputs = run.get("outputs")
        else:
            self.pieces.append(content_piece(str(kind), data))


def aggregate(events: list[Event]) -> Json:
    """A complete Dify event stream → the blocking answer a chat app would have given. An ``error`` event or a
    failed workflow raises ``UpstreamError``; a workflow that streamed no text answers with its outputs."""
    gathered = _Gathered()
    for event in events:
        if isinstance(event.data, dict):
            gathered.take({**event.data, "event": kind_of(event)})
    ident = gathered.message_id or gathered.ident
    answer: Json = {
        "event": "message",
        "id": ident,
        "message_id": ident,
        "answer": "".join(gathered.pieces) or outputs_text(gathered.outputs),
        "metadata": {"usage": openai_usage(gathered.usage)} if gathered.usage else {},
        "created_at": gathered.created,
    }
    if gathered.conversation_id:
        answer["conversation_id"] = gathered.conversation_id
    return answer
