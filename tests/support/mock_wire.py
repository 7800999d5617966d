"""Response writing for the mock provider, shared by its OpenAI, Claude and Gemini routes: whole JSON bodies, paced
streams, and the mid-body cut that imitates an upstream dying."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from aiohttp import web

SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
# Set by routes whose provider names its request id header `request-id` (Anthropic) instead of `x-request-id`.
REQUEST_ID = web.RequestKey("mock_request_id", str)


async def send_json(request: web.Request, raw: bytes, cut: bool) -> web.StreamResponse:
    """The whole body, or with `cut` a Content-Length promising all of it and only the first half sent."""
    if not cut:
        return web.Response(body=raw, content_type="application/json")
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.content_length = len(raw)
    await resp.prepare(request)
    await resp.write(raw[: len(raw) // 2])
    return abort(request, resp)


async def send_stream(
    request: web.Request,
    frames: Iterable[bytes],
    cut_at: int | None,
    delay: float,
    coalesce: bool,
    headers: Mapping[str, str] = SSE_HEADERS,
) -> web.StreamResponse:
    """Write `frames` one write each, `delay` seconds apart; stop dead before frame `cut_at` when given."""
    resp = web.StreamResponse(headers=headers)
    try:
        await resp.prepare(request)
        if coalesce and not delay and cut_at is None:
            frames = (b"".join(frames),)
        for index, frame in enumerate(frames):
            if index == cut_at:
                return abort(request, resp)
            if delay:
                await asyncio.sleep(delay)
            await resp.write(frame)
        await resp.write_eof()
    except ConnectionResetError:
        resp.force_close()  # the client went away mid-stream; nothing left to send
    return resp


def abort(request: web.Request, resp: web.StreamResponse) -> web.StreamResponse:
    # Closing the transport mid-body is what a dying upstream looks like: no terminating chunk, no closing event.
    resp.force_close()
    if request.transport is not None:
        request.transport.close()
    return resp
