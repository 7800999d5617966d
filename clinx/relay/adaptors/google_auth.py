"""Google service-account credentials for Vertex AI: parse the key file New API stores as the channel key, sign
the RS256 JWT assertion (pure), and exchange it at the key's ``token_uri`` for an access token through a sender
passed in (the relay's upstream client); tokens are cached per key until shortly before they expire.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import orjson
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from clinx.core.errors import ChannelError, UpstreamError
from clinx.relay.adaptors.base import UpstreamCall
from clinx.relay.errors import RelayUpstreamError
from clinx.relay.http1 import TransportError

DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600
REFRESH_MARGIN = 300  # seconds before expiry a cached token is replaced
EXCHANGE_TIMEOUT = 30.0


class TokenResponse(Protocol):
    @property
    def status(self) -> int: ...

    async def read(self) -> bytes: ...

    def release(self) -> object: ...


class Sender(Protocol):
    """What the relay's upstream client offers (``clinx.relay.upstream.Upstream``)."""

    async def send(self, call: UpstreamCall, *, total: float | None, idle: float | None) -> Any: ...


@dataclass(frozen=True)
class ServiceAccount:
    project_id: str
    client_email: str
    private_key: str
    private_key_id: str = ""
    token_uri: str = DEFAULT_TOKEN_URI


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float


def _invalid(what: str) -> ChannelError:
    return ChannelError(
        f"Vertex AI 渠道密钥无效 (the Vertex AI channel key is not a usable service-account JSON: {what})",
        code="channel:invalid_key",
    )


def split_keys(raw: str) -> list[str]:
    """Channel keys as New API reads them: a JSON array holds one key per element (service-account objects stay
    whole), a single JSON object is one key, anything else is one key per line."""
    text = raw.strip()
    if text.startswith("["):
        try:
            items = orjson.loads(text)
        except orjson.JSONDecodeError:
            items = None
        if isinstance(items, list):
            return [item if isinstance(item, str) else orjson.dumps(item).decode() for item in items if item]
    if text.startswith("{"):
        return [text]
    return [line.strip() for line in text.splitlines() if line.strip()] or [raw]


def parse_service_account(key: str) -> ServiceAccount:
    try:
        data = orjson.loads(key)
    except orjson.JSONDecodeError as exc:
        raise _invalid("not JSON") from exc
    if not isinstance(data, dict):
        raise _invalid("not a JSON object")
    missing = [name for name in ("project_id", "client_email", "private_key") if not data.get(name)]
    if missing:
        raise _invalid("missing " + ", ".join(missing))
    return ServiceAccount(
        project_id=str(data["project_id"]),
        client_email=str(data["client_email"]),
        private_key=str(data["private_key"]),
        private_key_id=str(data.get("private_key_id") or ""),
        token_uri=str(data.get("token_uri") or DEFAULT_TOKEN_URI),
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _load_private_key(pem: str) -> rsa.RSAPrivateKey:
    # Keys pasted through forms often arrive with literal "\n" sequences instead of line breaks.
    text = pem.replace("\\n", "\n").strip()
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise _invalid("private_key is not a PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _invalid("private_key is not an RSA key")
    return key


def assertion(account: ServiceAccount, now: int, lifetime: int = ASSERTION_LIFETIME) -> str:
    """The signed JWT (RS256) a service account presents to the token endpoint."""
    header: dict[str, str] = {"alg": "RS256", "typ": "JWT"}
    if account.private_key_id:
        header["kid"] = account.private_key_id
    claims = {
        "iss": account.client_email,
        "scope": SCOPE,
        "aud": account.token_uri,
        "iat": now,
        "exp": now + lifetime,
    }
    signing_input = _b64url(orjson.dumps(header)) + "." + _b64url(orjson.dumps(claims))
    key = _load_private_key(account.private_key)
    signed = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64url(signed)


def token_request(account: ServiceAccount, now: int) -> UpstreamCall:
    form = urlencode({"grant_type": GRANT_TYPE, "assertion": assertion(account, now)})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return UpstreamCall("POST", account.token_uri, headers, body=form.encode())


def parse_token_response(status: int, body: bytes, now: float) -> AccessToken:
    try:
        payload: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        payload = None
    if status < 400 and isinstance(payload, dict) and isinstance(payload.get("access_token"), str):
        lifetime = int(payload.get("expires_in") or ASSERTION_LIFETIME)
        return AccessToken(payload["access_token"], now + max(lifetime - REFRESH_MARGIN, lifetime // 2))
    detail = ""
    if isinstance(payload, dict):
        detail = str(payload.get("error_description") or payload.get("error") or "")
    reason = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
    message = f"Google 令牌交换失败 (the Google token exchange failed, {reason})"
    # A refused grant is the channel's credentials at fault: report it like an upstream 401 so it can disable.
    return_status = 401 if status in (400, 401, 403) else (status if status >= 400 else 502)
    raise RelayUpstreamError(return_status, message, error_type="vertex_token_error", code="vertex_token_error")


async def exchange(account: ServiceAccount, send: Sender, now: float) -> AccessToken:
    call = token_request(account, int(now))
    response: TokenResponse = await send.send(call, total=EXCHANGE_TIMEOUT, idle=EXCHANGE_TIMEOUT)
    try:
        body = await response.read()
    except (TransportError, TimeoutError) as exc:
        raise UpstreamError(
            "Google 令牌交换中断 (the Google token exchange was cut)", code="do_request_failed"
        ) from exc
    finally:
        response.release()
    return parse_token_response(response.status, body, now)


class TokenCache:
    """Access tokens per service-account key; concurrent requests for one key share a single exchange."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._tokens: dict[str, AccessToken] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str, account: ServiceAccount, send: Sender) -> str:
        slot = hashlib.sha256(key.encode()).hexdigest()
        cached = self._tokens.get(slot)
        if cached is not None and cached.expires_at > self._clock():
            return cached.value
        lock = self._locks.setdefault(slot, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(slot)
            if cached is not None and cached.expires_at > self._clock():
                return cached.value
            token = await exchange(account, send, self._clock())
            self._tokens[slot] = token
            return token.value
