"""Relay routes (thin): read the request — size limit, JSON or multipart, model, stream flag — and hand it to
the pipeline. Errors here are the caller's (bad JSON 400, too large 413) and use OpenAI's error shape."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from clinx.auth.api_keys import read_key
from clinx.auth.rate_limit import gate_model_request
from clinx.core.errors import ClinxError, UpstreamError, ValidationError
from clinx.relay.context import RelayRequest
from clinx.relay.convert.base import Dialect
from clinx.relay.endpoints import CLIENT_DIALECT, SPECS, Endpoint
from clinx.relay.errors import render_error
from clinx.relay.metrics import measured
from clinx.relay.pipeline import Relay

log = logging.getLogger(__name__)


_stamp: list[Any] = [-1, ""]  # (second, its formatted timestamp): formatted once per second, not per request


def new_request_id() -> str:
    """New API's shape: a timestamp then random digits, sortable by time."""
    now = int(time.time())
    if now != _stamp[0]:
        _stamp[0], _stamp[1] = now, time.strftime("%Y%m%d%H%M%S", time.gmtime(now))
    # Not a secret, so the fast PRNG (no getrandom syscall per request).
    return f"{_stamp[1]}{random.getrandbits(29):09d}"


def client_ip(request: Request) -> str:
    client = request.scope.get("client")
    return str(client[0]) if client else ""


def raw_key(request: Request) -> str:
    """The caller's key; the query string is parsed only when there is one (``?key=`` is the last resort)."""
    return read_key(request.headers, request.query_params if request.scope.get("query_string") else {})


def relay_of(request: Request) -> Relay:
    relay: Relay = request.app.state.clinx.relay
    return relay


async def read_body(request: Request, limit_mb: int) -> bytes:
    limit = limit_mb * 1024 * 1024
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ValidationError(
            f"请求体过大 (the request body is over {limit_mb} MB)", code="read_request_body_failed", status=413
        )
    chunks: list[bytes] = []
    size = 0
    receive = request.receive  # straight from the server: the framework's stream wrapper costs more than this
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ValidationError(
                f"请求体过大 (the request body is over {limit_mb} MB)", code="read_request_body_failed", status=413
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationError(
            "请求体不是有效的 JSON (the request body is not valid JSON)", code="invalid_request_body"
        ) from None
    if not isinstance(body, dict):
        raise ValidationError(
            "请求体必须是 JSON 对象 (the request body must be a JSON object)", code="invalid_request_body"
        )
    return body


async def _form_fields(request: Request) -> list[tuple[str, Any]]:
    form = await request.form()
    fields: list[tuple[str, Any]] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            fields.append((name, (value.filename or "file", await value.read(), value.content_type or "")))
        else:
            fields.append((name, value))
    return fields


async def build_request(
    request: Request, endpoint: Endpoint, relay: Relay, request_id: str, *, key: str | None = None
) -> RelayRequest:
    spec = SPECS[endpoint]
    if spec.multipart:
        form = await _form_fields(request)
        model = next((str(v) for n, v in form if n == "model"), "") or spec.default_model
        body: dict[str, Any] | None = None
        stream = False
    else:
        body = parse_json(await read_body(request, relay.settings.max_request_body_mb))
        form = None
        model = str(body.get("model") or spec.default_model)
        stream = bool(body.get("stream")) and spec.streams
    if endpoint == Endpoint.GEMINI:
        model, stream = gemini_model_action(request)
    return RelayRequest(
        endpoint=endpoint,
        model=model,
        body=body,
        form=form,
        stream=stream,
        client_ip=client_ip(request),
        request_id=request_id,
        raw_key=raw_key(request) if key is None else key,
        headers=request.headers,
    )


def gemini_model_action(request: Request) -> tuple[str, bool]:
    """``/v1beta/models/{model}:{generateContent|streamGenerateContent}`` → (model, stream)."""
    model, _, action = str(request.path_params.get("model_action", "")).partition(":")
    if action not in {"generateContent", "streamGenerateContent"}:
        raise ValidationError(
            f"不支持的操作 {action!r} (use :generateContent or :streamGenerateContent)", code="invalid_request_body"
        )
    return model.removeprefix("models/"), action == "streamGenerateContent"


RelayHandler = Callable[[Request, Relay], Awaitable[Response]]


def endpoint_handler(endpoint: Endpoint) -> RelayHandler:
    async def handler(request: Request, relay: Relay) -> Response:
        request_id = new_request_id()
        key = raw_key(request)
        try:
            # Before reading the body, as New API's middleware: a malformed request still counts toward the total.
            ticket = await gate_model_request(
                relay.main,
                relay.cache,
                relay.clock,
                relay.options.current,
                key,
                float(relay.settings.sync_frequency),
            )
            relay_request = await build_request(request, endpoint, relay, request_id, key=key)
        except ClinxError as error:
            return render_error(error, request_id, CLIENT_DIALECT.get(endpoint, Dialect.OPENAI_CHAT))
        except ClientDisconnect:
            return Response(status_code=499)
        response = await relay.handle(relay_request)
        if ticket is not None and response.status_code < 400:
            await ticket.succeeded()
        return response

    return measured(endpoint, handler)


def _starlette_endpoint(handler: RelayHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handler(request, relay_of(request))

    return endpoint


def relay_routes() -> list[BaseRoute]:
    """The relay's routes for the framework's router (the OpenAPI document, trailing-slash redirects); the traffic
    itself is taken before the framework by ``RelayFastPath``."""
    routes: list[BaseRoute] = [
        Route(SPECS[e].path, _starlette_endpoint(endpoint_handler(e)), methods=["POST"]) for e in Endpoint
    ]
    # Gemini's path also exists under the v1 API version (``/v1/models/{model}:generateContent``).
    routes.append(
        Route("/v1/models/{model_action}", _starlette_endpoint(endpoint_handler(Endpoint.GEMINI)), methods=["POST"])
    )
    return routes


GEMINI_PREFIXES = ("/v1beta/models/", "/v1/models/")


class RelayFastPath:
    """ASGI in front of the application: a relay POST goes straight to its handler, skipping the framework's
    middleware stack, router and endpoint wrapper (a fifth of the CPU a relayed request cost). The relay routes have
    no per-IP limit (New API's global limits cover /api and web pages), so nothing the stack does is skipped for
    them; every other request goes to the application unchanged."""

    def __init__(self, app: ASGIApp, relay: Relay) -> None:
        self.app = app
        self.relay = relay
        self.exact = {SPECS[e].path: endpoint_handler(e) for e in Endpoint if e != Endpoint.GEMINI}
        self.gemini = endpoint_handler(Endpoint.GEMINI)

    def _route(self, scope: Scope) -> RelayHandler | None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path: str = scope["path"]
        handler = self.exact.get(path)
        if handler is not None:
            return handler
        for prefix in GEMINI_PREFIXES:
            if path.startswith(prefix):
                action = path[len(prefix) :]
                if action and "/" not in action:
                    scope["path_params"] = {"model_action": action}
                    return self.gemini
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self._route(scope)
        if handler is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await handler(request, self.relay)
        except Exception:  # a bug must still answer in the caller's dialect, without a stack trace
            log.exception("relay handler failed")
            dialect = Dialect.GEMINI if handler is self.gemini else _dialect_of_path(scope["path"])
            response = render_error(UpstreamError("internal error", code="internal_error", status=500), "", dialect)
        await response(scope, receive, send)


def _dialect_of_path(path: str) -> Dialect:
    for endpoint, spec in SPECS.items():
        if spec.path == path:
            return CLIENT_DIALECT.get(endpoint, Dialect.OPENAI_CHAT)
    return Dialect.OPENAI_CHAT
