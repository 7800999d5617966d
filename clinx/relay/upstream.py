"""The one upstream sender: a pooled aiohttp session, opened in the app lifespan. Third-party errors are
translated here, once, into UpstreamError."""

from __future__ import annotations

import aiohttp

from clinx.core.errors import UpstreamError
from clinx.relay.adaptors.base import UpstreamCall


class Upstream:
    def __init__(self, *, max_connections: int = 500, per_host: int = 100, idle_timeout: float = 90.0) -> None:
        self._limits = (max_connections, per_host, idle_timeout)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        total, per_host, idle = self._limits
        connector = aiohttp.TCPConnector(
            limit=total, limit_per_host=per_host, keepalive_timeout=idle, ttl_dns_cache=300
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=True,
            read_bufsize=1 << 20,
            skip_auto_headers=("User-Agent",),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, call: UpstreamCall, *, total: float | None, idle: float | None) -> aiohttp.ClientResponse:
        """Send and return the response with its body unread (the caller reads or streams it, then releases)."""
        if self._session is None:
            raise UpstreamError("the upstream client is not open", code="do_request_failed")
        data: bytes | aiohttp.FormData | None = call.body
        if call.form is not None:
            data = _form(call.form)
        timeout = aiohttp.ClientTimeout(total=total, sock_read=idle)
        try:
            return await self._session.request(call.method, call.url, headers=call.headers, data=data, timeout=timeout)
        except TimeoutError as exc:
            raise UpstreamError("upstream did not answer in time", code="do_request_failed", status=504) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"upstream request failed: {exc}", code="do_request_failed", status=502) from exc


def _form(fields: list[tuple[str, object]]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields:
        if isinstance(value, tuple):
            filename, content, content_type = value
            form.add_field(name, content, filename=str(filename), content_type=str(content_type))
        else:
            form.add_field(name, str(value))
    return form
