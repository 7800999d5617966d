"""AWS Signature Version 4 for request headers: pure functions from (method, URL, headers, body, credentials,
time) to the headers that authorize the request. No I/O; deterministic given the timestamp.

The canonical path is the URL's path URI-encoded once more (every AWS service but S3 signs it that way), so
the signature covers exactly the bytes the client puts on the wire.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class AwsCredentials:
    access_key: str
    secret_key: str
    session_token: str = ""


@dataclass(frozen=True)
class Authorization:
    """A parsed ``Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`` header."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret_key).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def canonical_path(raw_path: str) -> str:
    return quote(raw_path or "/", safe="/~")


def canonical_query(raw_query: str) -> str:
    pairs: list[tuple[str, str]] = []
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_request(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """``headers`` keyed by lower-case name; ``signed_headers`` lower-case and sorted."""
    lines = [f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed_headers]
    return "\n".join(
        [
            method.upper(),
            canonical_path(raw_path),
            canonical_query(raw_query),
            "".join(lines),
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def signature(secret_key: str, amz_date: str, region: str, service: str, canonical: str) -> str:
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, sha256_hex(canonical.encode())])
    return hmac.new(signing_key(secret_key, date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()


def host_of(url: str) -> str:
    """The Host header an HTTP client sends for ``url``: the port only when it is not the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        return f"{host}:{parts.port}"
    return host


def amz_date(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: AwsCredentials,
    *,
    region: str,
    service: str,
    now: datetime,
) -> dict[str, str]:
    """The headers to add to the request: ``X-Amz-Date``, ``Authorization`` (and ``X-Amz-Security-Token`` for
    temporary credentials). Signs ``host``, ``content-type`` and every ``x-amz-*`` header; others a client or
    proxy may rewrite stay unsigned."""
    stamp = amz_date(now)
    added = {"X-Amz-Date": stamp}
    if credentials.session_token:
        added["X-Amz-Security-Token"] = credentials.session_token
    lowered = {name.lower(): value for name, value in {**headers, **added}.items()}
    lowered["host"] = host_of(url)
    names = sorted(n for n in lowered if n in ("host", "content-type") or n.startswith("x-amz-"))
    parts = urlsplit(url)
    canonical = canonical_request(method, parts.path, parts.query, lowered, names, sha256_hex(body))
    sig = signature(credentials.secret_key, stamp, region, service, canonical)
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={sig}"
    )
    return added


def parse_authorization(value: str) -> Authorization | None:
    """Read a SigV4 ``Authorization`` header (for verifiers); None when it is not one."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        return None
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, _, field_value = item.strip().partition("=")
        fields[name] = field_value
    credential = fields.get("Credential", "").split("/")
    if len(credential) != 5 or credential[4] != "aws4_request" or not fields.get("Signature"):
        return None
    access_key, date, region, service, _ = credential
    signed = tuple(fields.get("SignedHeaders", "").split(";"))
    return Authorization(access_key, date, region, service, signed, fields["Signature"])
