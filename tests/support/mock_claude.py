"""The mock provider's Anthropic Messages route, POST /v1/messages: header and body checks in Anthropic's error
shape, then a whole message or its named-event stream, with the same model-name behaviours as the OpenAI routes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from tests.support import mock_claude_payloads as c
from tests.support.mock_http import Received, json_response
from tests.support.mock_wire import REQUEST_ID, send_json, send_stream

if TYPE_CHECKING:
    from tests.support.mock_provider import MockProvider


class ClaudeRoutes:
    def __init__(self, provider: MockProvider) -> None:
        self._mock = provider

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._serve)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        rec = await self._mock.intake(request)
        rid = self._mock.new_id("req_mock")
        request[REQUEST_ID] = rid
        refusal = self._refusal(rec, rid)
        if refusal is not None:
            return refusal
        if rec.model == "mock-slow":
            await asyncio.sleep(self._mock.slow_seconds)
        return await self._messages(request, rec.json)

    def _refusal(self, rec: Received, rid: str) -> web.Response | None:
        mock = self._mock
        if mock.fail_next:
            status = mock.fail_next.pop(0)
            return json_response(status, c.error_for_status(status, rid))
        if mock.require_auth and not _has_key(rec):
            return json_response(401, c.error("authentication_error", "x-api-key header is required", rid))
        if not rec.headers.get("anthropic-version"):
            return json_response(400, c.error("invalid_request_error", "anthropic-version: header is required", rid))
        if not isinstance(rec.json, dict):
            message = "There was an issue with the format of your request: the body is not a JSON object."
            return json_response(400, c.error("invalid_request_error", message, rid))
        forced = c.ERROR_MODELS.get(rec.model)
        if forced is not None:
            return json_response(forced, c.error_for_status(forced, rid))
        problem = c.validation_error(rec.json)
        return None if problem is None else json_response(400, c.error("invalid_request_error", problem, rid))

    async def _messages(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        mock = self._mock
        tool_id = mock.new_id("toolu_mock") if body["model"] == "mock-tool" else None
        plan = c.plan(body, mock.chunks, tool_id)
        mid, cut = mock.new_id("msg_mock"), plan.model == "mock-cut"
        if body.get("stream") is True:
            frames = [c.frame(name, data) for name, data in c.stream_events(mid, plan)]
            return await send_stream(request, frames, len(frames) // 2 if cut else None, mock.delay, mock.coalesce)
        return await send_json(request, orjson.dumps(c.response(mid, plan)), cut)


def _has_key(rec: Received) -> bool:
    # The official SDKs send either `x-api-key` or, for OAuth tokens and newer releases, `Authorization: Bearer`.
    bearer = rec.headers.get("authorization", "")
    return bool(rec.headers.get("x-api-key", "").strip() or (bearer.startswith("Bearer ") and bearer[7:].strip()))
