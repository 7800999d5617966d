"""Relay errors and their rendering in the caller's dialect (OpenAI shape here; Claude and Gemini shapes
join with their inbound routes). Every message ends with the request id, as New API's do."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from clinx.core.errors import ClinxError, UpstreamError
from clinx.relay.convert.base import Dialect

NEW_API_ERROR = "new_api_error"


class RelayUpstreamError(UpstreamError):
    """The provider answered with an error status; its own type/code/message are kept for the caller."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "upstream_error",
        code: str = "bad_response_status_code",
        upstream_request_id: str = "",
        raw: bytes = b"",
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.error_type = error_type
        self.upstream_request_id = upstream_request_id
        self.raw = raw


def parse_upstream_error(status: int, body: bytes, upstream_request_id: str) -> RelayUpstreamError:
    """Read an OpenAI, Claude or Gemini error body when there is one; otherwise describe the status."""
    message, error_type, code = f"upstream answered HTTP {status}", "upstream_error", "bad_response_status_code"
    try:
        payload: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or message)
        # OpenAI and Claude say "type"; Gemini says "status" (and a numeric "code").
        error_type = str(error.get("type") or error.get("status") or error_type)
        raw_code = error.get("code")
        code = str(raw_code) if raw_code and not isinstance(raw_code, int) else code
    elif isinstance(error, str):
        message = error
    elif isinstance(payload, dict) and isinstance(payload.get("message"), str):
        # Dify (and others) answer errors at the top level: {"code", "message", "status"}.
        message = payload["message"]
        if isinstance(payload.get("code"), str):
            code = payload["code"]
    elif body and payload is None:
        message = f"{message}: {body[:200].decode('utf-8', 'replace')}"
    return RelayUpstreamError(
        status, message, error_type=error_type, code=code, upstream_request_id=upstream_request_id, raw=body
    )


def openai_error(error: ClinxError, request_id: str) -> Response:
    error_type = getattr(error, "error_type", NEW_API_ERROR)
    code = error.code if ":" not in error.code else ""
    body = {
        "error": {
            "message": f"{error.message} (request id: {request_id})",
            "type": error_type,
            "param": "",
            "code": code,
        }
    }
    return Response(orjson.dumps(body), status_code=error.status, media_type="application/json")


_CLAUDE_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def claude_error(error: ClinxError, request_id: str) -> Response:
    error_type = _CLAUDE_TYPES.get(error.status, "api_error")
    body = {"type": "error", "error": {"type": error_type, "message": f"{error.message} (request id: {request_id})"}}
    return Response(orjson.dumps(body), status_code=error.status, media_type="application/json")


def gemini_error(error: ClinxError, request_id: str) -> Response:
    status = _GEMINI_STATUS.get(error.status, "INTERNAL")
    body = {"error": {"code": error.status, "message": f"{error.message} (request id: {request_id})", "status": status}}
    return Response(orjson.dumps(body), status_code=error.status, media_type="application/json")


def render_error(error: ClinxError, request_id: str, dialect: Dialect) -> Response:
    """The error in the dialect of the caller, whatever the upstream's was."""
    if dialect == Dialect.CLAUDE:
        return claude_error(error, request_id)
    if dialect == Dialect.GEMINI:
        return gemini_error(error, request_id)
    return openai_error(error, request_id)
