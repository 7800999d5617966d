"""The per-IP limits in front of every route (New API's GlobalAPIRateLimit, GlobalWebRateLimit, CriticalRateLimit):
which limits a request falls under, and the 429 answer in the dialect of the path it was refused on."""

from __future__ import annotations

import orjson
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from clinx.auth.rate_limit import CRITICAL, GLOBAL_API, GLOBAL_WEB, RATE_LIMIT_EXCEEDED, hit_ip_limit
from clinx.cache.base import Cache
from clinx.config.settings import RateLimit, Settings

API_PREFIXES = ("/api", "/dashboard/billing", "/v1/dashboard")
CRITICAL_PATHS = frozenset(
    {"/api/user/login", "/api/user/register", "/api/user/reset", "/api/verification", "/api/reset_password"}
)
CRITICAL_PREFIXES = ("/api/oauth",)
NOT_WEB_PREFIXES = ("/api", "/v1", "/v1beta", "/pg", "/mj", "/suno", "/dashboard", "/swagger-assets")
MESSAGE = "请求过于频繁，请稍后再试 (too many requests from your address; wait a few minutes and try again)"


def under(path: str, prefixes: tuple[str, ...]) -> bool:
    """``path`` is one of ``prefixes`` or inside one (``/api`` covers ``/api/x``, not ``/apix``)."""
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def marks_for(method: str, path: str) -> tuple[str, ...]:
    """The limiters that apply to a request, in the order New API runs them (global API before critical).

    Critical routes are matched on the path alone: New API guards login, register and reset on POST but the email
    verification, password-reset mail and OAuth callbacks on GET. CORS preflights are never counted.
    """
    if method == "OPTIONS":
        return ()
    if under(path, API_PREFIXES):
        critical = path in CRITICAL_PATHS or under(path, CRITICAL_PREFIXES)
        return (GLOBAL_API, CRITICAL) if critical else (GLOBAL_API,)
    if method in ("GET", "HEAD") and not under(path, NOT_WEB_PREFIXES):
        return (GLOBAL_WEB,)
    return ()


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def too_many_requests(path: str) -> Response:
    """429 in the path's dialect: the management envelope, OpenAI's error object, or text for web pages."""
    if under(path, ("/api",)):
        body = orjson.dumps({"success": False, "message": MESSAGE})
        return Response(body, status_code=429, media_type="application/json")
    if under(path, ("/v1", "/dashboard")):
        error = {"message": MESSAGE, "type": "new_api_error", "param": "", "code": RATE_LIMIT_EXCEEDED}
        return Response(orjson.dumps({"error": error}), status_code=429, media_type="application/json")
    return PlainTextResponse(MESSAGE, status_code=429)


class RateLimitMiddleware:
    """Pure ASGI, so a streamed answer passes through untouched; only the decision awaits the cache."""

    def __init__(self, app: ASGIApp, *, settings: Settings, cache: Cache) -> None:
        self.app = app
        self.cache = cache
        self.limits: dict[str, RateLimit] = {
            GLOBAL_API: settings.global_api_rate_limit,
            GLOBAL_WEB: settings.global_web_rate_limit,
            CRITICAL: settings.critical_rate_limit,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = str(scope["path"])
            ip = client_ip(scope)
            for mark in marks_for(str(scope["method"]), path):
                if not await hit_ip_limit(self.cache, mark, ip, self.limits[mark]):
                    await too_many_requests(path)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
