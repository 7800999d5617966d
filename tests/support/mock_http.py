"""Request intake and response helpers for the mock provider: what a request looked like (`Received`),
multipart parsing, and OpenAI-shaped JSON answers."""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from tests.support import mock_openai_payloads as p


@dataclass(frozen=True)
class RecordedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Received:
    """One request as the mock provider saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    json: Any
    body: bytes
    form: dict[str, str] = field(default_factory=dict)  # multipart text fields
    files: dict[str, RecordedFile] = field(default_factory=dict)  # multipart file fields

    @property
    def model(self) -> str:
        value = self.json.get("model") if isinstance(self.json, dict) else self.form.get("model")
        return value if isinstance(value, str) else ""


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, RecordedFile]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    form: dict[str, str] = {}
    files: dict[str, RecordedFile] = {}
    if not message.is_multipart():
        return form, files
    for part in message.iter_parts():
        name = str(part.get_param("name", "", header="content-disposition"))
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            form[name] = data.decode("utf-8", "replace")
        else:
            files[name] = RecordedFile(filename, part.get_content_type(), data)
    return form, files


async def read_request(request: web.Request) -> Received:
    body = await request.read()
    data: Any = None
    form: dict[str, str] = {}
    files: dict[str, RecordedFile] = {}
    if body and request.content_type == "multipart/form-data":
        form, files = parse_multipart(request.headers["Content-Type"], body)
    elif body:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
    headers = {k.lower(): v for k, v in request.headers.items()}
    return Received(request.method, request.path, dict(request.query), headers, data, body, form, files)


def json_response(status: int, body: bytes | dict[str, Any]) -> web.Response:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return web.Response(status=status, body=raw, content_type="application/json")


def bad_request(message: str, param: str | None = None) -> web.Response:
    return json_response(400, p.error(message, "invalid_request_error", None, param))
