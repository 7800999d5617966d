"""The mock provider's rerank routes and Cohere's OpenAI compatibility API: Cohere ``/v2/rerank`` (string documents,
``meta.billed_units.search_units``), Cohere ``/compatibility/v1/chat/completions`` and ``/embeddings`` (OpenAI bodies,
``stream_options`` refused), and ``/v1/rerank`` as Jina, SiliconFlow and Xinference answer it.

``/v1/rerank`` answers by model name: ``jina-*`` with Jina's ``usage.total_tokens``; names with a slash
(SiliconFlow's ``BAAI/...``) with ``meta.tokens``; any other (Xinference) with ``meta.tokens`` only when the request
sets ``return_len``. Tokens are whitespace words of the query and documents. Scores are the share of query words
found in each document, so rankings are deterministic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from tests.support import mock_openai_payloads as p
from tests.support.mock_http import Received, json_response
from tests.support.mock_wire import send_json, send_stream

if TYPE_CHECKING:
    from tests.support.mock_provider import MockProvider

Serve = Callable[[web.Request, Received], Awaitable[web.StreamResponse]]
# Model names that make these routes answer with an error, as on the OpenAI routes.
ERROR_STATUSES = {f"mock-error-{status}": status for status in (400, 401, 429, 500)}


def rerank_tokens(body: dict[str, Any]) -> int:
    """Whitespace words of the query and every document (strings or {"text": ...})."""
    return len(str(body.get("query") or "").split()) + sum(len(text.split()) for text in document_texts(body))


def document_texts(body: dict[str, Any]) -> list[str]:
    texts: list[str] = []
    for doc in body.get("documents") or []:
        text = doc.get("text") if isinstance(doc, dict) else doc
        texts.append(text if isinstance(text, str) else "")
    return texts


def relevance(query: str, text: str) -> float:
    words = set(query.lower().split())
    return round(len(words & set(text.lower().split())) / len(words), 4) if words else 0.0


def ranked(body: dict[str, Any], with_documents: bool) -> list[dict[str, Any]]:
    """Results best first (ties by index), cut to ``top_n`` when given."""
    texts = document_texts(body)
    query = str(body.get("query") or "")
    scores = [relevance(query, text) for text in texts]
    order = sorted(range(len(texts)), key=lambda i: (-scores[i], i))
    top_n = body.get("top_n")
    if isinstance(top_n, int) and not isinstance(top_n, bool) and top_n > 0:
        order = order[:top_n]
    results: list[dict[str, Any]] = []
    for i in order:
        result: dict[str, Any] = {"index": i, "relevance_score": scores[i]}
        if with_documents:
            result["document"] = {"text": texts[i]}
        results.append(result)
    return results


def cohere_error(status: int, message: str) -> web.Response:
    return json_response(status, {"id": "mock-cohere-error", "message": message})


def _error(status: int, message: str, cohere: bool) -> web.Response:
    """Cohere's error shape on its routes, OpenAI's elsewhere (Jina and the OpenAI-compatible hosts)."""
    return cohere_error(status, message) if cohere else json_response(status, p.error(message, "invalid_request_error"))


class RerankRoutes:
    def __init__(self, provider: MockProvider) -> None:
        self._mock = provider

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/v1/rerank", self._route(self._rerank, cohere=False))
        app.router.add_post("/v2/rerank", self._route(self._cohere_rerank, cohere=True))
        app.router.add_post("/compatibility/v1/chat/completions", self._route(self._compat_chat, cohere=True))
        app.router.add_post("/compatibility/v1/embeddings", self._route(self._compat_embeddings, cohere=True))

    def _route(self, serve: Serve, *, cohere: bool) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            rec = await self._mock.intake(request)
            refusal = self._refusal(rec, cohere)
            return refusal if refusal is not None else await serve(request, rec)

        return handler

    def _refusal(self, rec: Received, cohere: bool) -> web.Response | None:
        mock = self._mock
        if mock.fail_next:
            return _error(mock.fail_next.pop(0), "mock failure", cohere)
        auth = rec.headers.get("authorization", "")
        if mock.require_auth and not (auth.startswith("Bearer ") and auth[7:].strip()):
            return _error(401, "no api key supplied", cohere)
        if not isinstance(rec.json, dict):
            return _error(400, "invalid request: the body is not JSON", cohere)
        status = ERROR_STATUSES.get(rec.model)
        return None if status is None else _error(status, f"mock error {status}", cohere)

    # rerank

    async def _rerank(self, request: web.Request, rec: Received) -> web.StreamResponse:
        body: dict[str, Any] = rec.json
        if not isinstance(body.get("query"), str) or not isinstance(body.get("documents"), list):
            return json_response(422, {"detail": "query (string) and documents (list) are required"})
        results = ranked(body, with_documents=body.get("return_documents", True) is not False)
        tokens = rerank_tokens(body)
        model = rec.model
        if model.startswith("jina-"):
            answer: dict[str, Any] = {"model": model, "usage": {"total_tokens": tokens}, "results": results}
        elif "/" in model:
            answer = {"id": self._mock.new_id("rerank-"), "results": results, "meta": _meta(tokens)}
        else:
            meta = _meta(tokens) if body.get("return_len") is True else dict.fromkeys(_meta(0))
            answer = {"id": self._mock.new_id("rerank-"), "results": results, "meta": meta}
        return json_response(200, answer)

    async def _cohere_rerank(self, request: web.Request, rec: Received) -> web.StreamResponse:
        body: dict[str, Any] = rec.json
        if not rec.model or not isinstance(body.get("query"), str):
            return cohere_error(400, "invalid request: model and query are required")
        documents = body.get("documents")
        if not isinstance(documents, list) or not all(isinstance(doc, str) for doc in documents):
            return cohere_error(400, "invalid request: documents must be a list of strings")
        meta = {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}}
        answer = {"id": self._mock.new_id("cohere-rerank-"), "results": ranked(body, False), "meta": meta}
        return json_response(200, answer)

    # Cohere's OpenAI compatibility API

    async def _compat_chat(self, request: web.Request, rec: Received) -> web.StreamResponse:
        body: dict[str, Any] = rec.json
        if "stream_options" in body:
            return cohere_error(400, "invalid request: stream_options is not supported")
        if not isinstance(body.get("messages"), list):
            return cohere_error(400, "invalid request: messages is required")
        n = p.reply_length(body, self._mock.chunks)
        rid, created = self._mock.new_id("cohere-chat-"), int(self._mock.clock())
        if body.get("stream") is True:
            base = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": rec.model}
            frames = [p.frame(p.chat_chunk(base, delta, finish)) for delta, finish in p.chat_deltas(n, None)]
            frames.append(p.DONE_FRAME)
            return await send_stream(request, frames, None, self._mock.delay, self._mock.coalesce)
        usage = p.plain_usage(p.chat_prompt_tokens(body), n)
        answer = p.chat_completion(rid, created, rec.model, p.reply_text(n), usage)
        return await send_json(request, orjson.dumps(answer), False)

    async def _compat_embeddings(self, request: web.Request, rec: Received) -> web.StreamResponse:
        body: dict[str, Any] = rec.json
        if not body.get("input"):
            return cohere_error(400, "invalid request: input is required")
        answer = p.embeddings(rec.model, body["input"], body.get("encoding_format") == "base64")
        return json_response(200, answer)


def _meta(tokens: int) -> dict[str, Any]:
    billed = {"input_tokens": tokens, "output_tokens": 0, "search_units": 0, "classifications": 0}
    return {"api_version": None, "billed_units": billed, "tokens": {"input_tokens": tokens, "output_tokens": 0}}
