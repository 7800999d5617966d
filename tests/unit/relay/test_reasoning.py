"""Reasoning suffixes in model names become each dialect's reasoning controls."""

from __future__ import annotations

from clinx.relay.convert.base import Dialect, Json
from clinx.relay.reasoning import apply_suffix


def test_openai_effort_suffix() -> None:
    body: Json = {}
    assert apply_suffix(body, "o3-mini-high", Dialect.OPENAI_CHAT) == "o3-mini"
    assert body == {"reasoning_effort": "high"}
    body = {}
    assert apply_suffix(body, "gpt-5-minimal", Dialect.OPENAI_RESPONSES) == "gpt-5"
    assert body == {"reasoning": {"effort": "minimal"}}
    untouched: Json = {}
    assert apply_suffix(untouched, "gpt-4o-high", Dialect.OPENAI_CHAT) == "gpt-4o-high"  # not a reasoning model
    assert untouched == {}


def test_claude_thinking_suffix() -> None:
    body: Json = {"max_tokens": 1000, "top_p": 0.5}
    assert apply_suffix(body, "claude-sonnet-4-thinking", Dialect.CLAUDE) == "claude-sonnet-4"
    assert body == {"max_tokens": 1280, "thinking": {"type": "enabled", "budget_tokens": 1024}, "temperature": 1}
    big: Json = {"max_tokens": 10000}
    apply_suffix(big, "claude-3-7-sonnet-thinking", Dialect.CLAUDE)
    assert big["thinking"]["budget_tokens"] == 8000


def test_gemini_thinking_suffixes() -> None:
    body: Json = {}
    assert apply_suffix(body, "gemini-2.5-pro-thinking-128", Dialect.GEMINI) == "gemini-2.5-pro"
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 128, "includeThoughts": True}
    body = {}
    assert apply_suffix(body, "gemini-2.5-flash-nothinking", Dialect.GEMINI) == "gemini-2.5-flash"
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0}
    body = {"generationConfig": {"temperature": 0.2}}
    assert apply_suffix(body, "gemini-2.5-flash-thinking", Dialect.GEMINI) == "gemini-2.5-flash"
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "thinkingConfig": {"thinkingBudget": -1, "includeThoughts": True},
    }
