"""New API's response envelope and the rendering of errors into it."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from clinx.core.errors import AuthError, ClinxError, ForbiddenError, RateLimitError

MALFORMED = "request:malformed"  # an unparsable body: HTTP 400, as New API


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def ok(data: Any = None, message: str = "") -> JSONBody:
    body: dict[str, Any] = {"success": True, "message": message}
    if data is not None:
        body["data"] = data
    return JSONBody(body)


def fail(message: str, status: int = 200) -> JSONBody:
    return JSONBody({"success": False, "message": message}, status_code=status)


def status_for(error: ClinxError) -> int:
    """Management errors: 401 unauthenticated, 403 role too low, 429 limited, else 200 (clients read success)."""
    if isinstance(error, ForbiddenError):
        return 403
    if isinstance(error, AuthError):
        return 401
    if error.code == MALFORMED:
        return 400
    if isinstance(error, RateLimitError):
        return 429
    if error.status >= 500:
        return error.status
    return 200


async def clinx_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClinxError)
    return fail(exc.message, status_for(exc))


async def validation_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in {"body", "query", "path"})
        problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    return fail("无效的参数 (invalid request): " + "; ".join(problems) if problems else "无效的参数", 400)


async def http_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return fail(str(exc.detail), exc.status_code)
