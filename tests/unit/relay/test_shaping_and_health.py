"""Pure relay pieces: model mapping, body shaping, retry/disable classification, SSE watching."""

from __future__ import annotations

import orjson
import pytest

from clinx.core.errors import ChannelError, UpstreamError, ValidationError
from clinx.core.types import ChannelInfo
from clinx.relay.adaptors.openai_compat import usage_from_openai
from clinx.relay.errors import RelayUpstreamError, parse_upstream_error
from clinx.relay.health import in_ranges, should_disable, should_retry
from clinx.relay.shaping import map_model, shape_body
from clinx.relay.stream import StreamWatcher

CHANNEL = ChannelInfo(id=1, type=1, name="c", key="k", base_url="", group="default", priority=0, weight=0)


def test_model_mapping_follows_chains_and_refuses_cycles() -> None:
    assert map_model("a", (("a", "b"), ("b", "c"))) == "c"
    assert map_model("x", (("a", "b"),)) == "x"
    with pytest.raises(ChannelError) as err:
        map_model("a", (("a", "b"), ("b", "a")))
    assert err.value.code == "model_mapping_contains_cycle"


def test_shape_body_leaves_the_original_untouched() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    shaped = shape_body(body, CHANNEL, "upstream-m", stream=True, ask_stream_usage=True)
    assert shaped["model"] == "upstream-m" and shaped["stream_options"] == {"include_usage": True}
    assert body["model"] == "m" and "stream_options" not in body


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


def test_stream_watcher_hides_usage_chunk_unless_asked_and_handles_split_lines() -> None:
    content = _frame({"choices": [{"delta": {"content": "Hel"}}], "usage": None})
    usage = _frame({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
    raw = content + usage + b"data: [DONE]\n\n"
    watcher = StreamWatcher(usage_from_openai, forward_usage=False)
    out = watcher.feed(raw[:10]) + watcher.feed(raw[10:])
    assert b"Hel" in out and b'"prompt_tokens"' not in out and out.endswith(b"data: [DONE]\n\n")
    assert watcher.done and watcher.usage is not None and watcher.usage.completion_tokens == 2
    assert watcher.delivered_text() == "Hel"
    asked = StreamWatcher(usage_from_openai, forward_usage=True)
    assert b'"prompt_tokens"' in asked.feed(raw)
