"""The streamed answer: chunks go to the client as the body iterator yields them, and a client that hangs up stops
the stream (the iterator sees the cancellation, so the upstream request is closed and the delivered part billed).

Starlette's StreamingResponse does the same with an anyio task group per response (uvicorn speaks ASGI 2.3, so
a disconnect can only be seen by waiting on ``receive``); that group costs more than the rest of the stream's
first chunk. Here one plain asyncio task waits for the disconnect and cancels the streaming task.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class EventStreamResponse(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        *,
        headers: Mapping[str, str] | None = None,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self.chunks = chunks
        self.on_end = on_end  # called once the stream is over, however it ended (even if it never started)
        self.status_code = 200
        self.background = None
        self.client_gone = False  # set when the client hung up (a cancellation otherwise is the server stopping)
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.current_task()
        assert streaming is not None
        state = {"finished": False, "gone": False}

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    if not state["finished"]:
                        state["gone"] = self.client_gone = True
                        streaming.cancel()
                    return

        watcher = asyncio.create_task(watch())
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for chunk in self.chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not state["gone"]:
                raise  # cancelled from outside (shutdown): not ours to swallow
            streaming.uncancel()  # the client went away: the stream is over, nothing to answer
        finally:
            state["finished"] = True
            watcher.cancel()
            close = getattr(self.chunks, "aclose", None)
            if close is not None:
                await close()  # ends the iterator now, wherever the cancellation landed
            if self.on_end is not None:
                self.on_end()
