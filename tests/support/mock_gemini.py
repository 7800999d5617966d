"""The mock provider's Gemini routes, POST /{v1beta,v1}/models/{model}:generateContent and :streamGenerateContent
(SSE with `alt=sse`, else a JSON array): key and body checks in Google's error shape, then the answer, with the same
model-name behaviours as the OpenAI routes (the model comes from the path)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from tests.support import mock_gemini_payloads as g
from tests.support.mock_http import Received, json_response
from tests.support.mock_wire import send_json, send_stream

if TYPE_CHECKING:
    from tests.support.mock_provider import MockProvider

METHODS = ("generateContent", "streamGenerateContent")
JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8"}
SSE_HEADERS = {"Content-Type": "text/event-stream", "Content-Disposition": "attachment"}


class GeminiRoutes:
    def __init__(self, provider: MockProvider) -> None:
        self._mock = provider

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/{version:v1beta|v1}/models/{target}", self._serve)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        rec = await self._mock.intake(request)
        model, _, method = request.match_info["target"].rpartition(":")
        if not model or method not in METHODS:
            message = f"Method not found: {request.match_info['target']}"
            return json_response(404, g.error(404, message))
        refusal = self._refusal(rec, model)
        if refusal is not None:
            return refusal
        if model == "mock-slow":
            await asyncio.sleep(self._mock.slow_seconds)
        return await self._generate(request, rec.json, model, method == "streamGenerateContent")

    def _refusal(self, rec: Received, model: str) -> web.Response | None:
        mock = self._mock
        if mock.fail_next:
            status = mock.fail_next.pop(0)
            return json_response(status, g.error(status))
        has_key = rec.headers.get("x-goog-api-key", "").strip() or rec.query.get("key", "").strip()
        if mock.require_auth and not has_key:
            # What Google answers a keyless call: 403, not 401.
            return json_response(403, g.error(403, g.NO_KEY_MESSAGE))
        if not isinstance(rec.json, dict):
            return json_response(400, g.error(400, g.validation_error(rec.json)))
        forced = g.ERROR_MODELS.get(model)
        if forced is not None:
            return json_response(forced, g.error(forced))
        problem = g.validation_error(rec.json)
        return None if problem is None else json_response(400, g.error(400, problem))

    async def _generate(
        self, request: web.Request, body: dict[str, Any], model: str, stream: bool
    ) -> web.StreamResponse:
        mock = self._mock
        plan = g.plan(body, model, mock.chunks, mock.new_id("mock"))
        cut = model == "mock-cut"
        if not stream:
            return await send_json(request, orjson.dumps(g.response(plan)), cut)
        chunks = g.stream_chunks(plan)
        cut_at = len(chunks) // 2 if cut else None
        if request.query.get("alt") == "sse":
            frames = [g.sse_frame(chunk) for chunk in chunks]
            return await send_stream(request, frames, cut_at, mock.delay, mock.coalesce, SSE_HEADERS)
        return await send_stream(request, g.array_frames(chunks), cut_at, mock.delay, mock.coalesce, JSON_HEADERS)
