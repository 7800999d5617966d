"""Pure relay pieces: model mapping, body shaping, retry/disable classification, SSE watching."""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest

from clinx.core.errors import ChannelError, UpstreamError, ValidationError
from clinx.core.types import ChannelInfo, Usage
from clinx.relay.adaptors.anthropic import Anthropic
from clinx.relay.adaptors.openai_compat import OpenAICompatible, prepare_openai
from clinx.relay.convert.base import Dialect, Event
from clinx.relay.errors import RelayUpstreamError, parse_upstream_error
from clinx.relay.health import in_ranges, should_disable, should_retry
from clinx.relay.shaping import apply_channel, map_model
from clinx.relay.stream import StreamRelay

CHANNEL = ChannelInfo(id=1, type=1, name="c", key="k", base_url="", group="default", priority=0, weight=0)


def test_model_mapping_follows_chains_and_refuses_cycles() -> None:
    assert map_model("a", (("a", "b"), ("b", "c"))) == "c"
    assert map_model("x", (("a", "b"),)) == "x"
    with pytest.raises(ChannelError) as err:
        map_model("a", (("a", "b"), ("b", "a")))
    assert err.value.code == "model_mapping_contains_cycle"


def test_channel_system_prompt_and_overrides_leave_the_original_untouched() -> None:
    messages = [{"role": "user", "content": "hi"}]
    body = {"model": "m", "messages": messages}
    channel = replace(CHANNEL, system_prompt="Be brief.", param_override='{"temperature": 0}')
    shaped = apply_channel(dict(body), channel, Dialect.OPENAI_CHAT)
    assert shaped["messages"][0] == {"role": "system", "content": "Be brief."} and shaped["temperature"] == 0
    assert messages == [{"role": "user", "content": "hi"}]
    claude = apply_channel({"messages": []}, channel, Dialect.CLAUDE)
    assert claude["system"] == "Be brief."


def test_openai_prepare_asks_for_stream_usage() -> None:
    body = prepare_openai({"messages": []}, "upstream-m", stream=True, ask_usage=True)
    assert body["model"] == "upstream-m" and body["stream_options"] == {"include_usage": True}


def test_retry_rules() -> None:
    codes = "100-199,300-399,401-407,409-499,500-503,505-523,525-599"
    assert should_retry(RelayUpstreamError(500, "x"), codes)
    assert should_retry(RelayUpstreamError(429, "x"), codes)
    for status in (400, 408, 504, 524):
        assert not should_retry(RelayUpstreamError(status, "x"), codes)
    assert should_retry(UpstreamError("connection refused", status=502), codes)
    assert not should_retry(ValidationError("bad"), codes)
    assert in_ranges(401, "401") and not in_ranges(402, "401")


def test_disable_rules() -> None:
    assert should_disable(RelayUpstreamError(401, "bad key"), "401", "")
    assert should_disable(RelayUpstreamError(429, "You exceeded your current quota, please"), "401", "")
    assert not should_disable(RelayUpstreamError(500, "oops"), "401", "")
    assert should_disable(RelayUpstreamError(403, "Custom Ban"), "401", "custom ban\nother")


def test_upstream_error_body_is_read() -> None:
    body = orjson.dumps({"error": {"message": "nope", "type": "invalid_request_error", "code": "bad"}})
    error = parse_upstream_error(400, body, "req-1")
    assert (error.message, error.error_type, error.code, error.upstream_request_id) == (
        "nope",
        "invalid_request_error",
        "bad",
        "req-1",
    )
    plain = parse_upstream_error(502, b"<html>bad gateway</html>", "")
    assert "502" in plain.message and "bad gateway" in plain.message


def _frame(obj: object) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _relay(forward_usage: bool) -> StreamRelay:
    return StreamRelay(OpenAICompatible(), Dialect.OPENAI_CHAT, Dialect.OPENAI_CHAT, None, forward_usage)


def test_stream_relay_hides_usage_chunk_unless_asked_and_handles_split_lines() -> None:
    content = _frame({"choices": [{"delta": {"content": "Hel"}}], "usage": None})
    usage = _frame({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
    raw = content + usage + b"data: [DONE]\n\n"
    relay = _relay(forward_usage=False)
    out = relay.feed(raw[:10]) + relay.feed(raw[10:]) + relay.finish()
    assert b"Hel" in out and b'"prompt_tokens"' not in out and out.endswith(b"data: [DONE]\n\n")
    assert relay.done and relay.usage is not None and relay.usage.completion_tokens == 2
    assert relay.delivered_text() == "Hel"
    assert b'"prompt_tokens"' in _relay(forward_usage=True).feed(raw)


def test_claude_stream_usage_is_assembled_from_start_and_delta() -> None:
    adaptor = Anthropic()
    start = Event(
        {
            "type": "message_start",
            "message": {"usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 2}},
        }
    )
    delta = Event({"type": "message_delta", "usage": {"output_tokens": 7}})
    usage = adaptor.stream_usage(delta, adaptor.stream_usage(start, None))
    assert usage == Usage(prompt_tokens=17, completion_tokens=7, cached_tokens=5, cache_write_tokens=2)
    assert adaptor.stream_done(Event({"type": "message_stop"}))
