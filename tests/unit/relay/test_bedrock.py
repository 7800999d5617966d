"""AWS Bedrock: SigV4 against AWS's published vectors, the channel key formats, model ids and URLs, the body
Bedrock accepts, request signing, and the event-stream decoder (split frames, checksums, exceptions)."""

from __future__ import annotations

import base64
import struct
import zlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import yarl

from clinx.core.enums import ChannelType
from clinx.core.errors import ChannelError, UpstreamError
from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors import sigv4
from clinx.relay.adaptors.base import UpstreamCall
from clinx.relay.adaptors.bedrock import Bedrock, model_id, parse_key, retarget
from clinx.relay.adaptors.bedrock_eventstream import EventStreamDecoder
from clinx.relay.adaptors.registry import AdaptorRegistry
from clinx.relay.convert.base import Event
from clinx.relay.endpoints import Endpoint
from tests.support.mock_cloud import chunk_frame, eventstream_message, exception_frame

EXAMPLE = sigv4.AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SUITE_TIME = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def _channel(key: str = "AKID|SECRET|us-east-1", base_url: str = "", other: str = "") -> ChannelInfo:
    return ChannelInfo(
        id=7, type=33, name="aws", key=key, base_url=base_url, group="default", priority=0, weight=0, other=other
    )


# SigV4: AWS's signature-v4 test suite and the IAM ListUsers example of its documentation


@pytest.mark.parametrize(
    ("method", "url", "headers", "body", "service", "expected"),
    [
        (
            "GET",
            "https://example.amazonaws.com/",
            {},
            b"",
            "service",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "GET",
            "https://example.amazonaws.com/?Param2=value2&Param1=value1",
            {},
            b"",
            "service",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
        (
            "POST",
            "https://example.amazonaws.com/",
            {},
            b"",
            "service",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        ),
        (
            "POST",
            "https://example.amazonaws.com/",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"Param1=value1",
            "service",
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        ),
        (
            "GET",
            "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            b"",
            "iam",
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        ),
    ],
    ids=["get-vanilla", "get-vanilla-query-order-key-case", "post-vanilla", "post-x-www-form-urlencoded", "iam"],
)
def test_sigv4_matches_aws_published_vectors(
    method: str, url: str, headers: dict[str, str], body: bytes, service: str, expected: str
) -> None:
    added = sigv4.sign(method, url, headers, body, EXAMPLE, region="us-east-1", service=service, now=SUITE_TIME)
    signed = "content-type;host;x-amz-date" if headers else "host;x-amz-date"
    assert added["X-Amz-Date"] == "20150830T123600Z"
    assert added["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/{service}/aws4_request, "
        f"SignedHeaders={signed}, Signature={expected}"
    )


def test_sigv4_signing_key_matches_the_documented_derivation() -> None:
    key = sigv4.signing_key(EXAMPLE.secret_key, "20150830", "us-east-1", "iam")
    assert key.hex() == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"


def test_sigv4_signs_session_token_and_non_default_port() -> None:
    temporary = sigv4.AwsCredentials("AKID", "SECRET", "session-token")
    added = sigv4.sign("POST", "http://127.0.0.1:8123/x", {}, b"{}", temporary, region="r", service="s", now=NOW)
    assert added["X-Amz-Security-Token"] == "session-token"
    parsed = sigv4.parse_authorization(added["Authorization"])
    assert parsed is not None
    assert parsed.signed_headers == ("host", "x-amz-date", "x-amz-security-token")
    assert sigv4.host_of("http://127.0.0.1:8123/x") == "127.0.0.1:8123"
    assert sigv4.host_of("https://bedrock-runtime.us-east-1.amazonaws.com:443/x") == (
        "bedrock-runtime.us-east-1.amazonaws.com"
    )


def test_sigv4_canonical_path_encodes_the_wire_path_once_more() -> None:
    assert sigv4.canonical_path("/model/anthropic.claude-v1:0/invoke") == "/model/anthropic.claude-v1%3A0/invoke"
    assert sigv4.canonical_path("/model/arn%2Fx/invoke") == "/model/arn%252Fx/invoke"


def test_parse_authorization_rejects_other_schemes() -> None:
    assert sigv4.parse_authorization("Bearer abc") is None
    assert sigv4.parse_authorization("AWS4-HMAC-SHA256 Credential=AK/20250102/us-east-1/bedrock, Signature=x") is None


# channel keys, model ids, URLs


def test_parse_key_formats() -> None:
    signed = parse_key("AKID|SECRET|eu-west-1")
    assert signed.region == "eu-west-1" and signed.credentials == sigv4.AwsCredentials("AKID", "SECRET")
    assert parse_key("AKID|SECRET|us-west-2|TOKEN").credentials == sigv4.AwsCredentials("AKID", "SECRET", "TOKEN")
    api_key = parse_key("ABSKkey|ap-northeast-1")
    assert (api_key.token, api_key.region, api_key.credentials) == ("ABSKkey", "ap-northeast-1", None)
    assert parse_key("ABSKkey", "us-west-2").region == "us-west-2"


@pytest.mark.parametrize("key", ["", "a||c", "a|b|c|d|e", "|us-east-1"])
def test_parse_key_refuses_malformed_keys(key: str) -> None:
    with pytest.raises(ChannelError) as caught:
        parse_key(key)
    assert caught.value.code == "channel:invalid_key"


def test_model_id_maps_friendly_names_and_adds_cross_region_profiles() -> None:
    assert model_id("claude-3-5-sonnet-20240620", "us-east-1") == "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
    assert model_id("claude-3-5-sonnet-20241022", "ap-northeast-1") == "apac.anthropic.claude-3-5-sonnet-20241022-v2:0"
    # Claude 3 Opus has a profile in the US only: in Europe it is invoked by its plain id.
    assert model_id("claude-3-opus-20240229", "eu-west-1") == "anthropic.claude-3-opus-20240229-v1:0"
    assert model_id("anthropic.claude-v2:1", "us-east-1") == "anthropic.claude-v2:1"
    assert model_id("claude-sonnet-4-20250514", "ca-central-1") == "anthropic.claude-sonnet-4-20250514-v1:0"


def test_url_targets_the_region_of_the_key_or_the_base_url() -> None:
    adaptor = Bedrock()
    url = adaptor.url(_channel("AK|SK|eu-central-1"), Endpoint.MESSAGES, "claude-3-haiku-20240307", False)
    assert (
        url
        == "https://bedrock-runtime.eu-central-1.amazonaws.com/model/eu.anthropic.claude-3-haiku-20240307-v1:0/invoke"
    )
    mock = adaptor.url(_channel(base_url="http://127.0.0.1:9"), Endpoint.MESSAGES, "mock-model", True)
    assert mock == "http://127.0.0.1:9/model/mock-model/invoke-with-response-stream"
    bare = adaptor.url(_channel("ABSKkey", other="us-west-2"), Endpoint.MESSAGES, "x", False)
    assert bare.startswith("https://bedrock-runtime.us-west-2.amazonaws.com/")


def test_url_survives_the_http_client_unchanged() -> None:
    # The signature covers the path as sent: aiohttp (yarl) must not re-encode what the adaptor built.
    url = Bedrock().url(_channel(), Endpoint.MESSAGES, "claude-3-5-sonnet-20240620", True)
    assert str(yarl.URL(url)) == url


def test_retarget_moves_host_and_inference_profile_to_the_keys_region() -> None:
    url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-3-haiku-20240307-v1:0/invoke"
    assert retarget(url, "eu-west-3") == (
        "https://bedrock-runtime.eu-west-3.amazonaws.com/model/eu.anthropic.claude-3-haiku-20240307-v1:0/invoke"
    )
    assert retarget("http://127.0.0.1:9/model/x/invoke", "eu-west-3") == "http://127.0.0.1:9/model/x/invoke"


# bodies and signing


def test_prepare_keeps_only_what_bedrock_accepts() -> None:
    body = {"model": "claude-x", "stream": True, "metadata": {"user_id": "u"}, "messages": [], "temperature": 0.2}
    out = Bedrock().prepare(body, "claude-x", stream=True, ask_usage=True)
    assert out == {"anthropic_version": "bedrock-2023-05-31", "messages": [], "max_tokens": 8192, "temperature": 0.2}


def test_sign_adds_a_verifiable_sigv4_authorization() -> None:
    url = "http://127.0.0.1:8080/model/us.anthropic.claude-3-5-sonnet-20240620-v1:0/invoke"
    call = UpstreamCall("POST", url, {"Content-Type": "application/json"}, body=b'{"messages":[]}')
    Bedrock().sign(call, "AKID|SECRET|us-west-2", NOW)
    assert call.headers["X-Amz-Date"] == "20250102T030405Z"
    parsed = sigv4.parse_authorization(call.headers["Authorization"])
    assert parsed is not None
    assert (parsed.access_key, parsed.region, parsed.service) == ("AKID", "us-west-2", "bedrock")
    assert parsed.signed_headers == ("content-type", "host", "x-amz-date")
    received = {"host": "127.0.0.1:8080", "content-type": "application/json", "x-amz-date": "20250102T030405Z"}
    path = yarl.URL(url).raw_path
    canonical = sigv4.canonical_request(
        "POST", path, "", received, parsed.signed_headers, sigv4.sha256_hex(call.body or b"")
    )
    assert sigv4.signature("SECRET", "20250102T030405Z", "us-west-2", "bedrock", canonical) == parsed.signature


def test_sign_is_deterministic_and_depends_on_the_body() -> None:
    def signature(body: bytes) -> str:
        call = UpstreamCall("POST", "http://h/model/m/invoke", {}, body=body)
        Bedrock().sign(call, "AKID|SECRET|us-east-1", NOW)
        return call.headers["Authorization"]

    assert signature(b"{}") == signature(b"{}")
    assert signature(b"{}") != signature(b'{"a":1}')


def test_sign_moves_anthropic_beta_into_the_body_before_signing() -> None:
    headers = {"Content-Type": "application/json", "anthropic-beta": "tools-2024-04-04, output-128k-2025-02-19"}
    call = UpstreamCall("POST", "http://h/model/m/invoke", headers, body=b'{"messages":[]}')
    Bedrock().sign(call, "AKID|SECRET|us-east-1", NOW)
    assert "anthropic-beta" not in call.headers
    assert orjson.loads(call.body or b"")["anthropic_beta"] == ["tools-2024-04-04", "output-128k-2025-02-19"]


def test_api_keys_are_bearer_tokens() -> None:
    adaptor = Bedrock()
    assert adaptor.headers(_channel("ABSKkey|us-east-1"), "ABSKkey|us-east-1") == {"Authorization": "Bearer ABSKkey"}
    assert adaptor.headers(_channel(), "AKID|SECRET|us-east-1") == {}
    call = UpstreamCall("POST", "http://h/model/m/invoke", {}, body=b"{}")
    adaptor.sign(call, "ABSKkey", NOW)
    assert call.headers == {"Authorization": "Bearer ABSKkey"}


async def test_authorize_signs_with_the_injected_clock() -> None:
    call = UpstreamCall("POST", "http://h/model/m/invoke", {}, body=b"{}")
    await Bedrock(now=lambda: NOW).authorize(call, "AKID|SECRET|us-east-1", object())
    assert call.headers["X-Amz-Date"] == "20250102T030405Z"


# event streams


STREAM: list[dict[str, Any]] = [
    {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 9, "output_tokens": 1}}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}},
    {"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 9, "outputTokenCount": 4}},
]


def _wire() -> bytes:
    return b"".join(chunk_frame(event) for event in STREAM)


def test_decoder_yields_claude_events_named_by_type() -> None:
    events = EventStreamDecoder().feed(_wire())
    assert [e.data for e in events] == STREAM
    assert [e.name for e in events] == ["message_start", "content_block_delta", "message_delta", "message_stop"]


def test_decoder_handles_frames_split_at_every_byte() -> None:
    decoder = EventStreamDecoder()
    events: list[Event] = []
    for i, byte in enumerate(_wire()):
        events += decoder.feed(bytes([byte]))
        if i < 10:
            assert events == []
    assert [e.data for e in events] == STREAM
    assert decoder.close() == []


def test_decoder_usage_and_end_through_the_adaptor() -> None:
    adaptor, usage, done = Bedrock(), None, False
    for event in EventStreamDecoder().feed(_wire()):
        usage = adaptor.stream_usage(event, usage)
        done = done or adaptor.stream_done(event)
    assert usage == Usage(prompt_tokens=9, completion_tokens=4)
    assert done


def test_decoder_refuses_a_bad_prelude_checksum() -> None:
    frame = bytearray(chunk_frame(STREAM[0]))
    frame[9] ^= 0xFF
    with pytest.raises(UpstreamError) as caught:
        EventStreamDecoder().feed(bytes(frame))
    assert caught.value.code == "bad_response_body"


def test_decoder_refuses_a_bad_message_checksum_once_the_frame_is_whole() -> None:
    frame = bytearray(chunk_frame(STREAM[1]))
    frame[20] ^= 0x01
    decoder = EventStreamDecoder()
    assert decoder.feed(bytes(frame[:-5])) == []
    with pytest.raises(UpstreamError, match="checksum"):
        decoder.feed(bytes(frame[-5:]))


def test_decoder_refuses_an_impossible_length() -> None:
    prelude = struct.pack(">II", 8, 0)
    with pytest.raises(UpstreamError, match="length"):
        EventStreamDecoder().feed(prelude + struct.pack(">I", zlib.crc32(prelude)))


def test_decoder_turns_exceptions_into_claude_error_events() -> None:
    events = EventStreamDecoder().feed(chunk_frame(STREAM[0]) + exception_frame("throttlingException", "Slow down"))
    assert events[1] == Event({"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}, "error")


def test_decoder_skips_other_event_types_and_refuses_chunks_without_bytes() -> None:
    other = eventstream_message({":event-type": "metadata", ":message-type": "event"}, b"{}")
    assert EventStreamDecoder().feed(other) == []
    broken = eventstream_message({":event-type": "chunk", ":message-type": "event"}, b'{"bytes": "!!"}')
    with pytest.raises(UpstreamError):
        EventStreamDecoder().feed(broken)
    not_json = base64.b64encode(b"[1]").decode()
    listed = eventstream_message({":event-type": "chunk", ":message-type": "event"}, orjson.dumps({"bytes": not_json}))
    assert EventStreamDecoder().feed(listed) == []


def test_registry_serves_aws_channels_with_bedrock() -> None:
    assert isinstance(AdaptorRegistry("2024-10-21").for_type(ChannelType.AWS), Bedrock)
