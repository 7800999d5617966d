"""The one error tree of Clinx. Each error carries an HTTP status and a stable namespaced code.

    ClinxError (500, internal)
    ├── ConfigError (500, config:invalid)            refused settings at start
    ├── ValidationError (400, request:invalid)       a client mistake in the request
    ├── AuthError (401, auth:unauthenticated)        no or bad credentials
    │   └── ForbiddenError (403, auth:forbidden)     credentials fine, role or scope too low
    ├── NotFoundError (404, resource:not_found)
    ├── ConflictError (409, resource:conflict)        unique key taken, state changed under us
    ├── QuotaError (403, quota:insufficient)
    ├── RateLimitError (429, rate:limited)
    ├── ChannelError (503, channel:unavailable)      no channel, channel misconfigured
    └── UpstreamError (502, upstream:error)           provider answered badly or not at all

Management routes render any of them as ``{"success": false, "message": ...}``; relay routes render them in
the caller's dialect. Messages are written for the person reading them: what went wrong, what to do.
"""

from __future__ import annotations


class ClinxError(Exception):
    status: int = 500
    code: str = "internal"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ConfigError(ClinxError):
    status = 500
    code = "config:invalid"


class ValidationError(ClinxError):
    status = 400
    code = "request:invalid"


class AuthError(ClinxError):
    status = 401
    code = "auth:unauthenticated"


class ForbiddenError(AuthError):
    status = 403
    code = "auth:forbidden"


class NotFoundError(ClinxError):
    status = 404
    code = "resource:not_found"


class ConflictError(ClinxError):
    status = 409
    code = "resource:conflict"


class QuotaError(ClinxError):
    status = 403
    code = "quota:insufficient"


class RateLimitError(ClinxError):
    status = 429
    code = "rate:limited"


class ChannelError(ClinxError):
    status = 503
    code = "channel:unavailable"


class UpstreamError(ClinxError):
    status = 502
    code = "upstream:error"
