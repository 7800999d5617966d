"""Signed session cookies. The cookie holds only the user id and its auth version; role and status are
read fresh on every request, so a demotion or a ban takes effect at once.

CSRF: the cookie is SameSite=Strict and HttpOnly, and cookie-authenticated calls must also carry the
``New-Api-User`` header (New API's clients always send it); a cross-site form or image cannot set a custom
header, and a cross-site script needs a CORS preflight that this server never grants for /api.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "session"
MAX_AGE = 2_592_000  # 30 days, as New API


@dataclass(frozen=True)
class SessionData:
    user_id: int
    auth_version: int


class SessionSigner:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="clinx.session")

    def dumps(self, data: SessionData) -> str:
        return self._serializer.dumps({"id": data.user_id, "v": data.auth_version})

    def loads(self, cookie: str) -> SessionData | None:
        try:
            raw = self._serializer.loads(cookie, max_age=MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
            return None
        version = raw.get("v", 1)
        return SessionData(user_id=raw["id"], auth_version=version if isinstance(version, int) else 1)
