"""A mock upstream on 127.0.0.1 for end-to-end tests and the benchmark: speaks OpenAI's wire format (plus an Azure
chat route), Anthropic Messages and Gemini generateContent, records what it received, and picks failure behaviours
by the request's model."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

import orjson
from aiohttp import web

from tests.support import mock_openai_payloads as p
from tests.support.mock_claude import ClaudeRoutes
from tests.support.mock_cloud import CloudRoutes
from tests.support.mock_dify import DifyRoutes
from tests.support.mock_gemini import GeminiRoutes
from tests.support.mock_http import Received, RecordedFile, bad_request, json_response, read_request
from tests.support.mock_rerank import RerankRoutes
from tests.support.mock_wire import REQUEST_ID, send_json, send_stream

__all__ = ["ERROR_MODELS", "MockProvider", "Received", "RecordedFile"]

Handler = Callable[[web.Request, "Received"], Awaitable[web.StreamResponse]]
Endpoint = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEFAULT_MODELS = (
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-3.5-turbo-instruct",
    "text-embedding-3-small",
    "dall-e-3",
    "tts-1",
    "whisper-1",
    "omni-moderation-latest",
)
QUOTA_ERROR = p.error(
    "You exceeded your current quota, please check your plan and billing details.",
    "insufficient_quota",
    "insufficient_quota",
)
# Model names that make any endpoint answer with an OpenAI error.
ERROR_MODELS: dict[str, tuple[int, bytes]] = {
    **{f"mock-error-{s}": (s, orjson.dumps(p.error_for_status(s))) for s in (400, 401, 429, 500)},
    "mock-error-quota": (429, orjson.dumps(QUOTA_ERROR)),
}


def include_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


class MockProvider:
    """Start with `async with MockProvider() as mock:`; point a channel at `mock.base_url`.

    Routes: OpenAI under "" and "/v1", Azure under "/openai/deployments/…", Anthropic at "/v1/messages", Gemini at
    "/v1beta/models/{model}:generateContent" and ":streamGenerateContent" (also under "/v1/models/…").
    `chunks` is the reply length in words (one stream chunk each), `delay` seconds pass between stream chunks,
    `slow_seconds` before the first byte for model "mock-slow". `fail_next` holds HTTP statuses answered to the
    next requests, one popped per request. `record=False` keeps `received` empty and `coalesce=True` sends an
    undelayed stream in one write instead of one write per chunk (both for benchmarks)."""

    def __init__(
        self,
        *,
        chunks: int = 20,
        delay: float = 0.0,
        slow_seconds: float = 2.0,
        record: bool = True,
        coalesce: bool = False,
        require_auth: bool = True,
        models: Iterable[str] = DEFAULT_MODELS,
        balance_usd: float = 100.0,
        used_usd: float = 25.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.chunks = chunks
        self.delay = delay
        self.slow_seconds = slow_seconds
        self.record = record
        self.coalesce = coalesce
        self.require_auth = require_auth
        self.models = list(models)
        self.balance_usd = balance_usd
        self.used_usd = used_usd
        self.clock = clock
        self.fail_next: list[int] = []
        self.received: list[Received] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._tag = secrets.token_hex(3)
        self._counter = itertools.count(1)

    # lifecycle

    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.on_response_prepare.append(self._stamp_request_id)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.base_url = f"http://127.0.0.1:{site.port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> MockProvider:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def reset(self) -> None:
        self.received.clear()
        self.fail_next.clear()

    @property
    def last(self) -> Received:
        return self.received[-1]

    # plumbing

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{self._tag}{next(self._counter):06d}"

    async def intake(self, request: web.Request) -> Received:
        """Read a request and, when recording, keep it in `received`."""
        rec = await read_request(request)
        if self.record:
            self.received.append(rec)
        return rec

    async def _stamp_request_id(self, request: web.Request, response: web.StreamResponse) -> None:
        if REQUEST_ID in request:  # Anthropic names it `request-id` and repeats it in error bodies
            response.headers["request-id"] = request[REQUEST_ID]
        else:
            response.headers["x-request-id"] = self.new_id("req_mock")

    def _add_routes(self, app: web.Application) -> None:
        json_routes: dict[str, Handler] = {
            "/chat/completions": self._chat,
            "/completions": self._completions,
            "/embeddings": self._embeddings,
            "/images/generations": self._image_generations,
            "/audio/speech": self._speech,
            "/moderations": self._moderations,
        }
        form_routes: dict[str, Handler] = {
            "/images/edits": self._image_edits,
            "/audio/transcriptions": self._transcriptions,
            "/audio/translations": self._translations,
        }
        get_routes: dict[str, Handler] = {
            "/models": self._models,
            "/dashboard/billing/subscription": self._subscription,
            "/dashboard/billing/usage": self._usage,
        }
        for prefix in ("", "/v1"):
            for path, handler in json_routes.items():
                app.router.add_post(prefix + path, self._endpoint(handler, needs_json=True))
            for path, handler in form_routes.items():
                app.router.add_post(prefix + path, self._endpoint(handler))
            for path, handler in get_routes.items():
                app.router.add_get(prefix + path, self._endpoint(handler))
        for path, handler in (("chat/completions", self._chat), ("completions", self._completions)):
            route = f"/openai/deployments/{{deployment}}/{path}"
            app.router.add_post(route, self._endpoint(handler, needs_json=True, azure=True))
        app.router.add_post("/openai/deployments/{deployment}/embeddings", self._endpoint(self._embeddings, True, True))
        ClaudeRoutes(self).add_to(app)
        GeminiRoutes(self).add_to(app)
        DifyRoutes(self).add_to(app)
        RerankRoutes(self).add_to(app)
        CloudRoutes(self).add_to(app)

    def _endpoint(self, handler: Handler, needs_json: bool = False, azure: bool = False) -> Endpoint:
        async def serve(request: web.Request) -> web.StreamResponse:
            rec = await self.intake(request)
            refusal = self._refusal(request, rec, azure)
            if refusal is None and needs_json and not isinstance(rec.json, dict):
                refusal = bad_request("We could not parse the JSON body of your request.")
            if refusal is not None:
                return refusal
            if rec.model == "mock-slow":
                await asyncio.sleep(self.slow_seconds)
            return await handler(request, rec)

        return serve

    def _refusal(self, request: web.Request, rec: Received, azure: bool) -> web.Response | None:
        if self.fail_next:
            status = self.fail_next.pop(0)
            return json_response(status, p.error_for_status(status))
        if azure:
            return self._azure_refusal(rec)
        auth = rec.headers.get("authorization", "")
        if self.require_auth and not (auth.startswith("Bearer ") and auth[7:].strip()):
            message = "You didn't provide an API key. You need to provide your API key in an Authorization header."
            return json_response(401, p.error(message, "invalid_request_error"))
        error = ERROR_MODELS.get(rec.model)
        return json_response(*error) if error is not None else None

    def _azure_refusal(self, rec: Received) -> web.Response | None:
        if "api-version" not in rec.query:
            return json_response(404, p.error("Resource not found", "invalid_request_error", "404"))
        if self.require_auth and not rec.headers.get("api-key"):
            message = "Access denied due to invalid subscription key or wrong API endpoint."
            return json_response(401, p.error(message, "invalid_request_error", "401"))
        error = ERROR_MODELS.get(rec.model)
        return json_response(*error) if error is not None else None

    @staticmethod
    async def _send_json(request: web.Request, body: dict[str, Any], cut: bool) -> web.StreamResponse:
        return await send_json(request, orjson.dumps(body), cut)

    # chat and completions

    async def _chat(self, request: web.Request, rec: Received) -> web.StreamResponse:
        body: dict[str, Any] = rec.json
        if not isinstance(body.get("messages"), list):
            return bad_request("Missing required parameter: 'messages'.", "messages")
        model = rec.model or request.match_info.get("deployment", "")
        prompt = p.chat_prompt_tokens(body)
        call_id = self.new_id("call_mock") if model == "mock-tool" else None
        n = len(p.TOOL_ARG_FRAGMENTS) if call_id else p.reply_length(body, self.chunks)
        usage = self._usage_for(model, lambda: p.chat_usage(prompt, n, prompt // 2 if model == "mock-cached" else 0))
        rid, created, cut = self.new_id("chatcmpl-mock"), int(self.clock()), model == "mock-cut"
        if body.get("stream") is True:
            base: dict[str, Any] = {
                "id": rid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": p.FINGERPRINT,
            }
            frames = (p.chat_chunk(base, delta, finish) for delta, finish in p.chat_deltas(n, call_id))
            return await self._stream_frames(request, body, base, frames, usage, 1 + n // 2 if cut else None)
        text = None if call_id else p.reply_text(n)
        return await self._send_json(request, p.chat_completion(rid, created, model, text, usage, call_id), cut)

    async def _completions(self, request: web.Request, rec: Received) -> web.StreamResponse:
        body: dict[str, Any] = rec.json
        if "prompt" not in body:
            return bad_request("Missing required parameter: 'prompt'.", "prompt")
        model = rec.model or request.match_info.get("deployment", "")
        prompt, n = p.input_tokens(body["prompt"]), p.reply_length(body, self.chunks)
        usage = self._usage_for(model, lambda: p.plain_usage(prompt, n))
        rid, created, cut = self.new_id("cmpl-mock"), int(self.clock()), model == "mock-cut"
        if body.get("stream") is True:
            base: dict[str, Any] = {
                "id": rid,
                "object": "text_completion",
                "created": created,
                "model": model,
                "system_fingerprint": p.FINGERPRINT,
            }
            chunks = [p.text_chunk(base, word, None) for word in p.reply_words(n)]
            chunks.append(p.text_chunk(base, "", "stop"))
            return await self._stream_frames(request, body, base, iter(chunks), usage, n // 2 if cut else None)
        return await self._send_json(request, p.text_completion(rid, created, model, p.reply_text(n), usage), cut)

    @staticmethod
    def _usage_for(model: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
        return None if model == "mock-nousage" else build()

    async def _stream_frames(
        self,
        request: web.Request,
        body: dict[str, Any],
        base: dict[str, Any],
        chunks: Iterator[dict[str, Any]],
        usage: dict[str, Any] | None,
        cut_at: int | None,
    ) -> web.StreamResponse:
        with_usage = usage is not None and include_usage(body)
        if with_usage:
            base["usage"] = None  # chunks are built lazily from `base`, so they all carry "usage": null

        def frames() -> Iterator[bytes]:
            for chunk in chunks:
                yield p.frame(chunk)
            if with_usage and usage is not None:
                yield p.frame(p.usage_chunk(base, usage))
            yield p.DONE_FRAME

        return await send_stream(request, frames(), cut_at, self.delay, self.coalesce)

    # other JSON endpoints

    async def _embeddings(self, request: web.Request, rec: Received) -> web.StreamResponse:
        body: dict[str, Any] = rec.json
        if not body.get("input"):
            return bad_request("'input' is a required property", "input")
        model = rec.model or request.match_info.get("deployment", "")
        out = p.embeddings(model, body["input"], body.get("encoding_format") == "base64")
        return await self._send_json(request, out, model == "mock-cut")

    async def _image_generations(self, request: web.Request, rec: Received) -> web.StreamResponse:
        body: dict[str, Any] = rec.json
        if not isinstance(body.get("prompt"), str):
            return bad_request("Missing required parameter: 'prompt'.", "prompt")
        n = body["n"] if isinstance(body.get("n"), int) else 1
        out = p.images(int(self.clock()), body["prompt"], n, body.get("response_format") == "b64_json")
        return await self._send_json(request, out, rec.model == "mock-cut")

    async def _image_edits(self, request: web.Request, rec: Received) -> web.StreamResponse:
        if "image" not in rec.files and "image[]" not in rec.files:
            return bad_request("Missing required parameter: 'image'.", "image")
        n = int(rec.form["n"]) if rec.form.get("n", "").isdigit() else 1
        as_b64 = rec.form.get("response_format") == "b64_json"
        return await self._send_json(request, p.images(int(self.clock()), rec.form.get("prompt", ""), n, as_b64), False)

    async def _speech(self, request: web.Request, rec: Received) -> web.StreamResponse:
        text = rec.json.get("input")
        if not isinstance(text, str):
            return bad_request("Missing required parameter: 'input'.", "input")
        fmt = rec.json.get("response_format", "mp3")
        content_type = {"opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac", "wav": "audio/wav"}
        return web.Response(body=p.speech_audio(text), content_type=content_type.get(fmt, "audio/mpeg"))

    async def _moderations(self, request: web.Request, rec: Received) -> web.StreamResponse:
        if "input" not in rec.json:
            return bad_request("'input' is a required property", "input")
        return json_response(200, p.moderation(self.new_id("modr-mock"), rec.model, rec.json["input"]))

    # audio uploads

    async def _transcriptions(self, request: web.Request, rec: Received) -> web.StreamResponse:
        return self._transcript(rec, "transcribe", rec.form.get("language", "english"))

    async def _translations(self, request: web.Request, rec: Received) -> web.StreamResponse:
        return self._transcript(rec, "translate", "english")

    @staticmethod
    def _transcript(rec: Received, task: str, language: str) -> web.Response:
        upload = rec.files.get("file")
        if upload is None:
            return bad_request("Missing required parameter: 'file'.", "file")
        fmt = rec.form.get("response_format", "json")
        if fmt == "text":
            return web.Response(text=p.transcript_text(upload.data) + "\n", content_type="text/plain")
        if fmt in ("srt", "vtt"):
            return web.Response(text=p.subtitles(upload.data, fmt == "vtt"), content_type="text/plain")
        if fmt == "verbose_json":
            return json_response(200, p.verbose_transcript(task, language, upload.data))
        return json_response(200, {"text": p.transcript_text(upload.data)})

    # listings and billing

    async def _models(self, request: web.Request, rec: Received) -> web.StreamResponse:
        data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "mock"} for m in self.models]
        return json_response(200, {"object": "list", "data": data})

    async def _subscription(self, request: web.Request, rec: Received) -> web.StreamResponse:
        limit = self.balance_usd
        body = {
            "object": "billing_subscription",
            "has_payment_method": True,
            "soft_limit_usd": limit,
            "hard_limit_usd": limit,
            "system_hard_limit_usd": limit,
            "access_until": 0,
        }
        return json_response(200, body)

    async def _usage(self, request: web.Request, rec: Received) -> web.StreamResponse:
        return json_response(200, {"object": "list", "total_usage": round(self.used_usd * 100, 4)})
