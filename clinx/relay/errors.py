"""Relay errors and their rendering in the caller's dialect (OpenAI shape here; Claude and Gemini shapes
join with their inbound routes). Every message ends with the request id, as New API's do."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from clinx.core.errors import ClinxError, UpstreamError

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
    """Read an OpenAI-shaped error body when there is one; otherwise describe the status."""
    message, error_type, code = f"upstream answered HTTP {status}", "upstream_error", "bad_response_status_code"
    try:
        payload: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or message)
        error_type = str(error.get("type") or error_type)
        code = str(error.get("code") or code)
    elif isinstance(error, str):
        message = error
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
