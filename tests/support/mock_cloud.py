"""The mock provider's cloud routes: AWS Bedrock invoke / invoke-with-response-stream (SigV4 recomputed with the
known test credentials, binary event-stream answers), Google's OAuth token endpoint (JWT assertions verified
against the test service account's public key) and Vertex AI's Gemini and Claude routes (bearer token or, in
express mode, an API key). Answers reuse the Claude and Gemini mock payloads."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import struct
import zlib
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from clinx.relay.adaptors import sigv4
from tests.support import mock_claude_payloads as c
from tests.support import mock_gemini_payloads as g
from tests.support.mock_http import Received, json_response
from tests.support.mock_wire import send_json, send_stream

if TYPE_CHECKING:
    from tests.support.mock_provider import MockProvider

AWS_ACCESS_KEY = "AKIDMOCKEXAMPLE"
AWS_SECRET_KEY = "mock/Secret+Key/EXAMPLEKEY"
AWS_REGION = "us-east-1"
BEDROCK_API_KEY = "ABSKmockBedrockApiKey0001"
VERTEX_PROJECT = "mock-project"
VERTEX_API_KEY = "AQ.mock-vertex-express-key"
SERVICE_ACCOUNT_EMAIL = "relay@mock-project.iam.gserviceaccount.com"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_SECRET = b"mock-google-token-secret"
EVENTSTREAM_HEADERS = {"Content-Type": "application/vnd.amazon.eventstream", "x-amzn-RequestId": "mock-aws-req"}
SSE_HEADERS = {"Content-Type": "text/event-stream"}
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details."
)


@functools.lru_cache(maxsize=1)
def private_key() -> rsa.RSAPrivateKey:
    """The test service account's key, made once per test process."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_account(token_uri: str, *, project: str = VERTEX_PROJECT, pretty: bool = False) -> str:
    """A service-account key file as Google issues it (and New API stores it), pointing at ``token_uri``."""
    pem = private_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    data = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "mock-key-id-0001",
        "private_key": pem.decode(),
        "client_email": SERVICE_ACCOUNT_EMAIL,
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 if pretty else 0).decode()


def access_token(email: str) -> str:
    return "ya29.mock-" + hmac.new(TOKEN_SECRET, email.encode(), hashlib.sha256).hexdigest()[:32]


# AWS event-stream framing


def _string_header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return bytes([len(raw_name)]) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value


def eventstream_message(headers: dict[str, str], payload: bytes) -> bytes:
    head = b"".join(_string_header(name, value) for name, value in headers.items())
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + head + payload
    return body + struct.pack(">I", zlib.crc32(body))


def chunk_frame(event: dict[str, Any]) -> bytes:
    payload = orjson.dumps({"bytes": base64.b64encode(orjson.dumps(event)).decode(), "p": "abcdefgh"})
    headers = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    return eventstream_message(headers, payload)


def exception_frame(exception_type: str, message: str) -> bytes:
    headers = {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"}
    return eventstream_message(headers, orjson.dumps({"message": message}))


def _aws_error(status: int, error_type: str, message: str) -> web.Response:
    response = json_response(status, {"message": message})
    response.headers["x-amzn-ErrorType"] = error_type
    return response


def _verify_jwt(assertion: str, audience: str) -> str | None:
    """The service-account email of a valid assertion, else None."""
    try:
        head, claims_part, sig = assertion.split(".")
        header = orjson.loads(base64.urlsafe_b64decode(head + "=="))
        claims = orjson.loads(base64.urlsafe_b64decode(claims_part + "=="))
        signature = base64.urlsafe_b64decode(sig + "==")
    except (ValueError, orjson.JSONDecodeError):
        return None
    if header.get("alg") != "RS256" or claims.get("iss") != SERVICE_ACCOUNT_EMAIL or claims.get("aud") != audience:
        return None
    if "cloud-platform" not in str(claims.get("scope")) or not claims.get("exp", 0) > claims.get("iat", 0):
        return None
    try:
        signed = (head + "." + claims_part).encode()
        private_key().public_key().verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return None
    return SERVICE_ACCOUNT_EMAIL


class CloudRoutes:
    def __init__(self, provider: MockProvider) -> None:
        self._mock = provider

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/model/{model_id}/{action}", self._bedrock)
        app.router.add_post("/token", self._token)
        base = "/v1/projects/{project}/locations/{region}/publishers/{publisher:google|anthropic}/models/{target}"
        app.router.add_post(base, self._vertex)
        app.router.add_post("/v1/publishers/google/models/{target}", self._vertex)

    # AWS Bedrock

    async def _bedrock(self, request: web.Request) -> web.StreamResponse:
        rec = await self._mock.intake(request)
        action = request.match_info["action"]
        if action not in ("invoke", "invoke-with-response-stream"):
            return _aws_error(404, "UnknownOperationException", f"Unknown operation {action}")
        refusal = self._aws_refusal(request, rec) or self._bedrock_body_refusal(rec.json)
        if refusal is not None:
            return refusal
        model = request.match_info["model_id"]
        body: dict[str, Any] = {**rec.json, "model": model}
        tool_id = self._mock.new_id("toolu_bdrk_") if model == "mock-tool" else None
        plan = c.plan(body, self._mock.chunks, tool_id)
        mid, cut = self._mock.new_id("msg_bdrk_"), model == "mock-cut"
        if action == "invoke":
            return await send_json(request, orjson.dumps(c.response(mid, plan)), cut)
        frames = [chunk_frame(_with_metrics(data, plan)) for _, data in c.stream_events(mid, plan)]
        cut_at = len(frames) // 2 if cut else None
        return await send_stream(request, frames, cut_at, self._mock.delay, False, EVENTSTREAM_HEADERS)

    def _aws_refusal(self, request: web.Request, rec: Received) -> web.Response | None:
        if self._mock.fail_next:
            status = self._mock.fail_next.pop(0)
            return _aws_error(status, "InternalServerException", f"Mock upstream error {status}.")
        auth = rec.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            valid = hmac.compare_digest(auth[7:], BEDROCK_API_KEY)
            return None if valid else _aws_error(403, "AccessDeniedException", "Invalid API Key format")
        parsed = sigv4.parse_authorization(auth)
        if parsed is None:
            return _aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        if parsed.access_key != AWS_ACCESS_KEY:
            message = "The security token included in the request is invalid."
            return _aws_error(403, "UnrecognizedClientException", message)
        stamp = rec.headers.get("x-amz-date", "")
        if parsed.service != "bedrock" or stamp[:8] != parsed.date or "host" not in parsed.signed_headers:
            return _aws_error(403, "InvalidSignatureException", BAD_SIGNATURE)
        canonical = sigv4.canonical_request(
            request.method,
            request.rel_url.raw_path,
            request.rel_url.raw_query_string,
            rec.headers,
            parsed.signed_headers,
            sigv4.sha256_hex(rec.body),
        )
        expected = sigv4.signature(AWS_SECRET_KEY, stamp, parsed.region, parsed.service, canonical)
        if not hmac.compare_digest(expected, parsed.signature):
            return _aws_error(403, "InvalidSignatureException", BAD_SIGNATURE)
        return None

    @staticmethod
    def _bedrock_body_refusal(body: Any) -> web.Response | None:
        if not isinstance(body, dict):
            return _aws_error(400, "ValidationException", "Malformed input request, please reformat your input")
        for key in ("model", "stream"):
            if key in body:
                message = f"Malformed input request: #: extraneous key [{key}] is not permitted"
                return _aws_error(400, "ValidationException", message)
        if body.get("anthropic_version") != "bedrock-2023-05-31":
            message = "Malformed input request: #: required key [anthropic_version] not found"
            return _aws_error(400, "ValidationException", message)
        problem = c.validation_error({**body, "model": "bedrock"})
        return None if problem is None else _aws_error(400, "ValidationException", problem)

    # Google OAuth

    async def _token(self, request: web.Request) -> web.StreamResponse:
        rec = await self._mock.intake(request)
        form = parse_qs(rec.body.decode("utf-8", "replace"))
        if form.get("grant_type") != [GRANT_TYPE]:
            return json_response(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})
        email = _verify_jwt(form.get("assertion", [""])[0], f"{self._mock.base_url}/token")
        if email is None:
            return json_response(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        return json_response(200, {"access_token": access_token(email), "expires_in": 3599, "token_type": "Bearer"})

    # Vertex AI

    async def _vertex(self, request: web.Request) -> web.StreamResponse:
        rec = await self._mock.intake(request)
        model, _, method = request.match_info["target"].rpartition(":")
        refusal = self._vertex_refusal(request, rec)
        if refusal is not None:
            return refusal
        if request.match_info.get("publisher") == "anthropic":
            return await self._vertex_claude(request, rec, model, method)
        if method not in ("generateContent", "streamGenerateContent") or not isinstance(rec.json, dict):
            return json_response(400, g.error(400, f"Method not found or bad body: {method}"))
        problem = g.validation_error(rec.json)
        if problem is not None:
            return json_response(400, g.error(400, problem))
        plan = g.plan(rec.json, model, self._mock.chunks, self._mock.new_id("vtx"))
        if method == "generateContent":
            return await send_json(request, orjson.dumps(g.response(plan)), False)
        if request.query.get("alt") != "sse":
            return json_response(400, g.error(400, "the mock streams Vertex answers only with alt=sse"))
        frames = [g.sse_frame(chunk) for chunk in g.stream_chunks(plan)]
        return await send_stream(request, frames, None, self._mock.delay, False, SSE_HEADERS)

    def _vertex_refusal(self, request: web.Request, rec: Received) -> web.Response | None:
        if "project" not in request.match_info:  # express mode: API keys only
            key = rec.headers.get("x-goog-api-key") or rec.query.get("key", "")
            return None if key == VERTEX_API_KEY else json_response(401, g.error(401))
        bearer = rec.headers.get("authorization", "")
        if bearer != "Bearer " + access_token(SERVICE_ACCOUNT_EMAIL):
            return json_response(401, g.error(401))
        if request.match_info["project"] != VERTEX_PROJECT:
            message = f"Permission denied on resource project {request.match_info['project']}."
            return json_response(403, g.error(403, message))
        return None

    async def _vertex_claude(self, request: web.Request, rec: Received, model: str, method: str) -> web.StreamResponse:
        rid = self._mock.new_id("req_vrtx_")
        if method not in ("rawPredict", "streamRawPredict") or not isinstance(rec.json, dict):
            return json_response(404, g.error(404, f"Method not found: {method}"))
        body: dict[str, Any] = rec.json
        if body.get("anthropic_version") != "vertex-2023-10-16":
            return json_response(400, c.error("invalid_request_error", "anthropic_version: Field required", rid))
        if "model" in body:
            return json_response(400, c.error("invalid_request_error", "model: Extra inputs are not permitted", rid))
        problem = c.validation_error({**body, "model": model})
        if problem is not None:
            return json_response(400, c.error("invalid_request_error", problem, rid))
        plan = c.plan({**body, "model": model}, self._mock.chunks, None)
        mid = self._mock.new_id("msg_vrtx_")
        if method == "rawPredict":
            return await send_json(request, orjson.dumps(c.response(mid, plan)), False)
        frames = [c.frame(name, data) for name, data in c.stream_events(mid, plan)]
        return await send_stream(request, frames, None, self._mock.delay, False, SSE_HEADERS)


def _with_metrics(event: dict[str, Any], plan: c.Plan) -> dict[str, Any]:
    """Bedrock adds its own invocation metrics to the final event."""
    if event.get("type") != "message_stop":
        return event
    metrics = {
        "inputTokenCount": plan.usage["input_tokens"],
        "outputTokenCount": plan.usage["output_tokens"],
        "invocationLatency": 120,
        "firstByteLatency": 40,
    }
    return {**event, "amazon-bedrock-invocationMetrics": metrics}
