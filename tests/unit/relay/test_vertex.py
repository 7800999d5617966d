"""Vertex AI: channel keys, regions and URLs, the bodies for Gemini and Claude models, the service-account JWT
assertion, and the token exchange with its cache (through a fake sender)."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from clinx.core.enums import ChannelType
from clinx.core.errors import ChannelError
from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors.base import UpstreamCall
from clinx.relay.adaptors.google_auth import (
    GRANT_TYPE,
    TokenCache,
    assertion,
    parse_service_account,
    split_keys,
)
from clinx.relay.adaptors.registry import AdaptorRegistry
from clinx.relay.adaptors.vertex import Vertex, region_for
from clinx.relay.convert.base import Dialect, Event
from clinx.relay.endpoints import Endpoint
from clinx.relay.errors import RelayUpstreamError
from tests.support.mock_cloud import SERVICE_ACCOUNT_EMAIL, private_key, service_account

TOKEN_URI = "https://oauth2.example.test/token"
ACCOUNT = service_account(TOKEN_URI)


def _channel(key: str = ACCOUNT, other: str = "", base_url: str = "") -> ChannelInfo:
    return ChannelInfo(
        id=3, type=41, name="vertex", key=key, base_url=base_url, group="default", priority=0, weight=0, other=other
    )


def _decode(part: str) -> Any:
    return orjson.loads(base64.urlsafe_b64decode(part + "=="))


@dataclass
class FakeResponse:
    status: int
    body: bytes
    released: bool = False

    async def read(self) -> bytes:
        return self.body

    def release(self) -> None:
        self.released = True


@dataclass
class FakeSender:
    answers: list[tuple[int, dict[str, Any]]]
    calls: list[UpstreamCall] = field(default_factory=list)

    async def send(self, call: UpstreamCall, *, total: float | None, idle: float | None) -> FakeResponse:
        self.calls.append(call)
        await asyncio.sleep(0)  # let concurrent waiters pile up on the cache's lock
        status, body = self.answers.pop(0)
        return FakeResponse(status, orjson.dumps(body))


def _token(value: str, expires_in: int = 3600) -> tuple[int, dict[str, Any]]:
    return 200, {"access_token": value, "expires_in": expires_in, "token_type": "Bearer"}


# keys and URLs


def test_split_keys_keeps_service_accounts_whole() -> None:
    pretty = service_account(TOKEN_URI, pretty=True)
    assert "\n" in pretty and split_keys(pretty) == [pretty.strip()]
    second = service_account(TOKEN_URI, project="other")
    listed = split_keys("[" + ACCOUNT + "," + second + "]")
    assert [parse_service_account(k).project_id for k in listed] == ["mock-project", "other"]
    assert split_keys("key-a\n\nkey-b\n") == ["key-a", "key-b"]
    assert split_keys('["k1", "k2"]') == ["k1", "k2"]


@pytest.mark.parametrize(
    ("key", "problem"),
    [("{not json", "not JSON"), ("[1]", "not a JSON object"), ('{"project_id": "p"}', "client_email, private_key")],
)
def test_parse_service_account_names_the_problem(key: str, problem: str) -> None:
    with pytest.raises(ChannelError, match=problem) as caught:
        parse_service_account(key)
    assert caught.value.code == "channel:invalid_key"


def test_region_from_the_other_field() -> None:
    assert region_for("", "gemini-2.0-flash") == "global"
    assert region_for("us-central1", "gemini-2.0-flash") == "us-central1"
    mapping = '{"claude-sonnet-4-20250514": "us-east5", "default": "europe-west4"}'
    assert region_for(mapping, "claude-sonnet-4-20250514") == "us-east5"
    assert region_for(mapping, "gemini-2.0-flash") == "europe-west4"
    assert region_for('{"x": "y"}', "gemini-2.0-flash") == "global"


def test_gemini_urls_by_region() -> None:
    adaptor = Vertex()
    assert adaptor.url(_channel(), Endpoint.GEMINI, "gemini-2.0-flash", False) == (
        "https://aiplatform.googleapis.com/v1/projects/mock-project/locations/global/publishers/google/models/"
        "gemini-2.0-flash:generateContent"
    )
    assert adaptor.url(_channel(other="us-central1"), Endpoint.GEMINI, "gemini-2.0-flash", True) == (
        "https://us-central1-aiplatform.googleapis.com/v1/projects/mock-project/locations/us-central1/publishers/"
        "google/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    )


def test_claude_urls_map_model_names() -> None:
    url = Vertex().url(_channel(other="us-east5"), Endpoint.MESSAGES, "claude-3-5-sonnet-20241022", True)
    assert url == (
        "https://us-east5-aiplatform.googleapis.com/v1/projects/mock-project/locations/us-east5/publishers/anthropic/"
        "models/claude-3-5-sonnet-v2@20241022:streamRawPredict?alt=sse"
    )
    assert (
        Vertex()
        .url(_channel(), Endpoint.MESSAGES, "claude-future-9", False)
        .endswith("/publishers/anthropic/models/claude-future-9:rawPredict")
    )


def test_base_url_replaces_the_host() -> None:
    url = Vertex().url(_channel(base_url="http://127.0.0.1:9/"), Endpoint.GEMINI, "gemini-2.0-flash", False)
    assert url == (
        "http://127.0.0.1:9/v1/projects/mock-project/locations/global/publishers/google/models/"
        "gemini-2.0-flash:generateContent"
    )
    assert (
        Vertex().url(_channel(base_url="http://h/v1"), Endpoint.GEMINI, "g", False).startswith("http://h/v1/projects")
    )


def test_api_keys_use_express_mode_for_gemini_only() -> None:
    adaptor = Vertex()
    channel = _channel("AQ.express-key")
    assert adaptor.url(channel, Endpoint.GEMINI, "gemini-2.0-flash", False) == (
        "https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.0-flash:generateContent"
    )
    assert adaptor.headers(channel, "AQ.express-key") == {"x-goog-api-key": "AQ.express-key"}
    with pytest.raises(ChannelError, match="Gemini models only"):
        adaptor.url(channel, Endpoint.MESSAGES, "claude-sonnet-4-20250514", False)


def test_dialect_follows_the_model() -> None:
    adaptor = Vertex()
    assert adaptor.dialect_for_model("claude-sonnet-4-20250514") == Dialect.CLAUDE
    assert adaptor.dialect_for_model("gemini-2.5-pro") == Dialect.GEMINI
    assert set(adaptor.dialects(_channel())) == {Dialect.GEMINI, Dialect.CLAUDE}


# bodies and usage


def test_prepare_claude_body_for_raw_predict() -> None:
    body = {"model": "claude-x", "messages": [], "metadata": {"user_id": "u"}, "stream": True}
    streamed = Vertex().prepare(dict(body), "claude-x", stream=True, ask_usage=True)
    assert streamed == {"anthropic_version": "vertex-2023-10-16", "messages": [], "max_tokens": 8192, "stream": True}
    whole = Vertex().prepare(dict(body), "claude-x", stream=False, ask_usage=True)
    assert "stream" not in whole and "model" not in whole


def test_prepare_gemini_body_drops_function_response_ids() -> None:
    body = {
        "model": "gemini-2.0-flash",
        "contents": [{"role": "user", "parts": [{"functionResponse": {"id": "c1", "name": "f", "response": {}}}]}],
    }
    out = Vertex().prepare(body, "gemini-2.0-flash", stream=False, ask_usage=False)
    assert "model" not in out and "safetySettings" in out
    assert out["contents"][0]["parts"][0]["functionResponse"] == {"name": "f", "response": {}}


def test_usage_is_read_in_the_dialect_of_the_answer() -> None:
    adaptor = Vertex()
    gemini = {"usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3}}
    claude = {"usage": {"input_tokens": 4, "output_tokens": 2, "cache_read_input_tokens": 1}}
    assert adaptor.usage(gemini) == Usage(prompt_tokens=5, completion_tokens=3)
    assert adaptor.usage(claude) == Usage(prompt_tokens=5, completion_tokens=2, cached_tokens=1)
    start = Event({"type": "message_start", "message": {"usage": {"input_tokens": 4, "output_tokens": 1}}})
    assert adaptor.stream_usage(start, None) == Usage(prompt_tokens=4, completion_tokens=1)
    assert adaptor.stream_done(Event({"type": "message_stop"}))
    assert adaptor.stream_done(Event({"candidates": [{"finishReason": "STOP"}]}))


# the JWT assertion and the token exchange


def test_assertion_is_an_rs256_jwt_for_the_token_endpoint() -> None:
    jwt = assertion(parse_service_account(ACCOUNT), now=1_700_000_000)
    head, claims, signature = jwt.split(".")
    assert _decode(head) == {"alg": "RS256", "typ": "JWT", "kid": "mock-key-id-0001"}
    assert _decode(claims) == {
        "iss": SERVICE_ACCOUNT_EMAIL,
        "scope": "https://www.googleapis.com/auth/cloud-platform",
        "aud": TOKEN_URI,
        "iat": 1_700_000_000,
        "exp": 1_700_003_600,
    }
    raw = base64.urlsafe_b64decode(signature + "==")
    private_key().public_key().verify(raw, f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())


def test_assertion_accepts_keys_with_escaped_line_breaks() -> None:
    data = orjson.loads(ACCOUNT)
    data["private_key"] = data["private_key"].replace("\n", "\\n")
    assert assertion(parse_service_account(orjson.dumps(data).decode()), now=1).count(".") == 2


def test_assertion_refuses_a_bad_private_key() -> None:
    data = {**orjson.loads(ACCOUNT), "private_key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"}
    with pytest.raises(ChannelError, match="PEM"):
        assertion(parse_service_account(orjson.dumps(data).decode()), now=1)


async def test_token_is_exchanged_once_and_cached_until_near_expiry() -> None:
    now = [1000.0]
    cache = TokenCache(lambda: now[0])
    sender = FakeSender([_token("tok-1"), _token("tok-2")])
    account = parse_service_account(ACCOUNT)
    assert await cache.get(ACCOUNT, account, sender) == "tok-1"
    assert await cache.get(ACCOUNT, account, sender) == "tok-1"
    call = sender.calls[0]
    assert call.url == TOKEN_URI and call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs((call.body or b"").decode())
    assert form["grant_type"] == [GRANT_TYPE] and form["assertion"][0].count(".") == 2
    now[0] += 3600 - 300 + 1  # past the refresh margin
    assert await cache.get(ACCOUNT, account, sender) == "tok-2"
    assert len(sender.calls) == 2


async def test_concurrent_requests_share_one_exchange() -> None:
    cache = TokenCache(lambda: 0.0)
    sender = FakeSender([_token("shared")])
    account = parse_service_account(ACCOUNT)
    tokens = await asyncio.gather(*(cache.get(ACCOUNT, account, sender) for _ in range(5)))
    assert tokens == ["shared"] * 5 and len(sender.calls) == 1


async def test_refused_grant_is_an_upstream_401() -> None:
    sender = FakeSender([(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})])
    with pytest.raises(RelayUpstreamError, match="Invalid JWT Signature") as caught:
        await TokenCache(lambda: 0.0).get(ACCOUNT, parse_service_account(ACCOUNT), sender)
    assert caught.value.status == 401


async def test_authorize_sets_bearer_token_and_the_keys_project() -> None:
    adaptor = Vertex(clock=lambda: 0.0)
    other = service_account(TOKEN_URI, project="second-project")
    url = adaptor.url(_channel("[" + ACCOUNT + "," + other + "]"), Endpoint.GEMINI, "gemini-2.0-flash", False)
    call = UpstreamCall("POST", url, {}, body=b"{}")
    await adaptor.authorize(call, other, FakeSender([_token("tok-second")]))
    assert call.headers["Authorization"] == "Bearer tok-second"
    assert call.headers["x-goog-user-project"] == "second-project"
    assert "/projects/second-project/locations/global/" in call.url


async def test_authorize_leaves_api_key_calls_alone() -> None:
    sender = FakeSender([])
    call = UpstreamCall("POST", "https://aiplatform.googleapis.com/v1/publishers/google/models/g:x", {"k": "v"})
    await Vertex().authorize(call, "AQ.express-key", sender)
    assert call.headers == {"k": "v"} and sender.calls == []


def test_registry_serves_vertex_channels() -> None:
    assert isinstance(AdaptorRegistry("2024-10-21").for_type(ChannelType.VERTEX_AI), Vertex)
