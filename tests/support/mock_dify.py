"""The mock provider's Dify routes: POST /v1/chat-messages (a chatflow; an agent app when the query mentions
"mock-dify-agent"), /v1/completion-messages and /v1/workflows/run, in Dify's blocking and streaming formats
(data-only SSE frames naming their ``event``, an ``event: ping`` first). Errors in Dify's shape ``{code, message,
status}``; a query mentioning "mock-dify-error" fails mid-stream with an ``error`` event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from tests.support import mock_openai_payloads as p
from tests.support.mock_http import Received, json_response
from tests.support.mock_wire import send_stream

if TYPE_CHECKING:
    from tests.support.mock_provider import MockProvider

APPS = {"/v1/chat-messages": "chat", "/v1/completion-messages": "completion", "/v1/workflows/run": "workflow"}
PING = b"event: ping\n\n"
AGENT = "mock-dify-agent"
FAIL = "mock-dify-error"


def dify_error(status: int, code: str, message: str) -> web.Response:
    return json_response(status, {"code": code, "message": message, "status": status})


def _frame(event: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(event) + b"\n\n"


class DifyRoutes:
    def __init__(self, provider: MockProvider) -> None:
        self._mock = provider

    def add_to(self, app: web.Application) -> None:
        for path in APPS:
            app.router.add_post(path, self._serve)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        rec = await self._mock.intake(request)
        app = APPS[request.path]
        refusal = self._refusal(rec, app)
        if refusal is not None:
            return refusal
        body: dict[str, Any] = rec.json
        query = str(body.get("query") or "") if app == "chat" else str(body["inputs"].get("query") or "")
        run = _Run(self._mock, app, query)
        if body["response_mode"] == "blocking":
            if AGENT in query:
                return dify_error(400, "app_unavailable", "Agent Chat App does not support blocking mode")
            return json_response(200, run.blocking())
        return await send_stream(request, run.frames(), None, self._mock.delay, self._mock.coalesce)

    def _refusal(self, rec: Received, app: str) -> web.Response | None:
        mock = self._mock
        if mock.fail_next:
            status = mock.fail_next.pop(0)
            return dify_error(status, "mock_failure", f"mock failure {status}")
        auth = rec.headers.get("authorization", "")
        if mock.require_auth and not (auth.startswith("Bearer ") and auth[7:].strip()):
            return dify_error(401, "unauthorized", "Access token is invalid")
        body = rec.json
        if not isinstance(body, dict) or body.get("response_mode") not in ("streaming", "blocking"):
            return dify_error(400, "invalid_param", "response_mode must be streaming or blocking")
        if not isinstance(body.get("user"), str) or not body["user"]:
            return dify_error(400, "invalid_param", "user is required")
        if not isinstance(body.get("inputs"), dict):
            return dify_error(400, "invalid_param", "inputs is required")
        if app == "chat" and not isinstance(body.get("query"), str):
            return dify_error(400, "invalid_param", "query is required")
        if app == "completion" and not body["inputs"].get("query"):
            return dify_error(400, "invalid_param", "query is required in input form")
        return None


class _Run:
    """One app run: its ids, reply words and usage, written as a blocking answer or as stream frames."""

    def __init__(self, mock: MockProvider, app: str, query: str) -> None:
        self.app = app
        self.agent = AGENT in query
        self.fail = FAIL in query
        self.words = p.reply_words(mock.chunks)
        self.usage = {"prompt_tokens": 10 + len(query.split()), "completion_tokens": len(self.words)}
        self.usage["total_tokens"] = self.usage["prompt_tokens"] + self.usage["completion_tokens"]
        self.task_id = mock.new_id("task-")
        self.message_id = mock.new_id("msg-")
        self.conversation_id = "" if app == "completion" else mock.new_id("conv-")
        self.run_id = mock.new_id("run-")
        self.created = int(mock.clock())

    def blocking(self) -> dict[str, Any]:
        if self.app == "workflow":
            return {"workflow_run_id": self.run_id, "task_id": self.task_id, "data": self._finished()}
        answer: dict[str, Any] = {
            "event": "message",
            "task_id": self.task_id,
            "id": self.message_id,
            "message_id": self.message_id,
            "mode": "chat" if self.app == "chat" else "completion",
            "answer": "".join(self.words),
            "metadata": {"usage": self.usage},
            "created_at": self.created,
        }
        if self.conversation_id:
            answer["conversation_id"] = self.conversation_id
        return answer

    def frames(self) -> Iterator[bytes]:
        yield PING
        if self.app == "workflow":
            events = self._workflow_events()
        elif self.app == "chat" and not self.agent:
            events = self._chatflow_events()
        else:
            events = self._message_events()
        for event in events:
            yield _frame(event)

    def _base(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "workflow_run_id": self.run_id}

    def _message(self, kind: str, answer: str) -> dict[str, Any]:
        event = {"event": kind, "task_id": self.task_id, "id": self.message_id, "message_id": self.message_id}
        if self.conversation_id:
            event["conversation_id"] = self.conversation_id
        return {**event, "answer": answer, "created_at": self.created}

    def _answers(self, kind: str) -> Iterator[dict[str, Any]]:
        for index, word in enumerate(self.words):
            if self.fail and index == len(self.words) // 2:
                yield {
                    "event": "error",
                    "task_id": self.task_id,
                    "message_id": self.message_id,
                    "status": 400,
                    "code": "completion_request_error",
                    "message": "mock failure mid-stream",
                }
                return
            yield self._message(kind, word)

    def _end(self) -> dict[str, Any]:
        end = self._message("message_end", "")
        del end["answer"], end["created_at"]
        return {**end, "metadata": {"usage": self.usage, "retriever_resources": []}}

    def _message_events(self) -> Iterator[dict[str, Any]]:
        kind = "agent_message" if self.agent else "message"
        if self.agent:
            yield {**self._message("agent_thought", ""), "position": 1, "thought": "", "tool": "", "tool_input": ""}
        yield from self._answers(kind)
        if not self.fail:
            yield self._end()

    def _node(self, kind: str, node_type: str, outputs: dict[str, Any] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"id": f"{self.run_id}-{node_type}", "node_id": node_type, "node_type": node_type}
        if kind == "node_finished":
            data.update(status="succeeded", outputs=outputs or {})
        return {"event": kind, **self._base(), "data": {**data, "title": node_type.title(), "index": 1}}

    def _started(self) -> dict[str, Any]:
        data = {"id": self.run_id, "workflow_id": "wf-mock", "created_at": self.created}
        return {"event": "workflow_started", **self._base(), "data": data}

    def _finished(self) -> dict[str, Any]:
        outputs = {"text": "".join(self.words)} if self.app == "workflow" else {}
        return {
            "id": self.run_id,
            "workflow_id": "wf-mock",
            "status": "succeeded",
            "outputs": outputs,
            "total_tokens": self.usage["total_tokens"],
            "created_at": self.created,
        }

    def _chatflow_events(self) -> Iterator[dict[str, Any]]:
        yield self._started()
        yield self._node("node_started", "llm")
        yield from self._answers("message")
        if self.fail:
            return
        yield self._node("node_finished", "llm", {"text": "".join(self.words), "usage": self.usage})
        yield {"event": "workflow_finished", **self._base(), "data": self._finished()}
        yield self._end()

    def _workflow_events(self) -> Iterator[dict[str, Any]]:
        yield self._started()
        yield self._node("node_started", "llm")
        for word in self.words:
            yield {"event": "text_chunk", **self._base(), "data": {"text": word, "from_variable_selector": ["llm"]}}
        yield self._node("node_finished", "llm", {"text": "".join(self.words), "usage": self.usage})
        yield {"event": "workflow_finished", **self._base(), "data": self._finished()}
