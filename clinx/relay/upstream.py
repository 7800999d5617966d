"""The one upstream sender: a pooled HTTP/1.1 client (``clinx.relay.http1``), opened in the app lifespan.
Failures to get an answer are translated here, once, into UpstreamError; a body cut later surfaces as
``TransportError`` (or TimeoutError) from ``read()`` or iteration, which the callers turn into theirs."""

from __future__ import annotations

from clinx.core.errors import UpstreamError
from clinx.relay.adaptors.base import UpstreamCall
from clinx.relay.http1 import Http1Client, Http1Response, TransportError, encode_multipart

__all__ = ["TransportError", "Upstream", "UpstreamResponse"]

UpstreamResponse = Http1Response


class Upstream:
    def __init__(self, *, per_host: int = 1024, idle_timeout: float = 90.0) -> None:
        # Streams hold a connection for their whole length: the per-host cap is a safety net, not a throttle.
        self._limits = (per_host, idle_timeout)
        self._client: Http1Client | None = None

    async def open(self) -> None:
        per_host, idle = self._limits
        self._client = Http1Client(max_per_host=per_host, idle_timeout=idle)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def send(self, call: UpstreamCall, *, total: float | None, idle: float | None) -> Http1Response:
        """Send and return the response with its body unread (the caller reads or streams it, then releases)."""
        if self._client is None:
            raise UpstreamError("the upstream client is not open", code="do_request_failed")
        body = call.body
        headers = call.headers
        if call.form is not None:
            body, content_type = encode_multipart(call.form)
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            headers["Content-Type"] = content_type
        try:
            return await self._client.request(call.method, call.url, headers, body, total=total, idle=idle)
        except TimeoutError as exc:
            raise UpstreamError("upstream did not answer in time", code="do_request_failed", status=504) from exc
        except (TransportError, OSError, ValueError) as exc:
            raise UpstreamError(f"upstream request failed: {exc}", code="do_request_failed", status=502) from exc
