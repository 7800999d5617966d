"""Local token counting: exact counts from the packaged encodings, New API's chat-prompt rule with hand-computed
totals, the heuristic for other providers, and proof that loading touches no network."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinx.billing import tokens
from clinx.billing.tokens import (
    CL100K_BASE,
    O200K_BASE,
    count_chat_prompt,
    count_completion,
    count_text,
    encoding_for,
    encoding_name_for,
    estimate_tokens,
)


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    tokens.warm_up()


@pytest.mark.parametrize(
    ("model", "text", "expected"),
    [
        ("gpt-4", "hello world", 2),
        ("gpt-4o", "hello world", 2),
        ("gpt-3.5-turbo", "tiktoken is great!", 6),
        ("gpt-4o-mini", "tiktoken is great!", 6),
        ("gpt-4", "", 0),
        # The two vocabularies differ on CJK text: the same sentence is shorter in o200k_base.
        ("gpt-4", "我喜欢吃苹果", 10),
        ("gpt-4o", "我喜欢吃苹果", 4),
        # Special tokens count as the plain text they look like.
        ("gpt-4", "<|endoftext|>", 7),
    ],
)
def test_exact_counts_on_known_strings(model: str, text: str, expected: int) -> None:
    assert count_text(model, text) == expected


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", O200K_BASE),
        ("gpt-4o-2024-08-06", O200K_BASE),
        ("chatgpt-4o-latest", O200K_BASE),
        ("gpt-4.1-mini", O200K_BASE),
        ("gpt-5", O200K_BASE),
        ("o1-mini", O200K_BASE),
        ("o3", O200K_BASE),
        ("o4-mini", O200K_BASE),
        ("ft:gpt-4o-mini:acme::abc123", O200K_BASE),
        ("openai/gpt-4o", O200K_BASE),
        ("GPT-4O", O200K_BASE),
        ("gpt-4", CL100K_BASE),
        ("gpt-4-turbo", CL100K_BASE),
        ("gpt-3.5-turbo-0125", CL100K_BASE),
        ("gpt-35-turbo", CL100K_BASE),
        ("text-embedding-3-small", CL100K_BASE),
        ("text-davinci-003", CL100K_BASE),
        ("gpt-some-future-model", CL100K_BASE),
        ("claude-3-5-sonnet-20241022", None),
        ("gemini-2.0-flash", None),
        ("deepseek-chat", None),
        ("qwen-max", None),
    ],
)
def test_model_to_encoding(model: str, encoding: str | None) -> None:
    assert encoding_name_for(model) == encoding


def test_encoding_is_loaded_once_and_shared() -> None:
    first = encoding_for("gpt-4o")
    assert first is not None
    assert first is encoding_for("o3-mini")
    assert first.name == O200K_BASE
    assert encoding_for("claude-3-opus") is None


def test_non_openai_models_use_the_heuristic() -> None:
    text = "The quick brown fox jumps over the lazy dog. 敏捷的棕色狐狸 🙂"
    assert count_text("claude-3-5-sonnet", text) == estimate_tokens(text)
    assert count_text("claude-3-5-sonnet", text) != count_text("gpt-4", text)
    assert count_completion("gemini-1.5-pro", text) == estimate_tokens(text)


def test_heuristic_weights() -> None:
    # "hello" and "world" are one word each (1.3), the space 0.1: ceil(2.7) = 3.
    assert estimate_tokens("hello world") == 3
    # Han characters are a token each.
    assert estimate_tokens("我喜欢吃苹果") == 6
    # Seven digits are three groups of at most three.
    assert estimate_tokens("1234567") == 3
    # Two emoji at 2 each.
    assert estimate_tokens("🙂🎉") == 4
    assert estimate_tokens("") == 0
    assert estimate_tokens(" ") == 1


@given(st.text(), st.text())
def test_heuristic_never_drops_when_text_is_appended(prefix: str, suffix: str) -> None:
    assert estimate_tokens(prefix + suffix) >= estimate_tokens(prefix)


@given(st.text(min_size=1))
def test_heuristic_counts_any_non_empty_text(text: str) -> None:
    assert estimate_tokens(text) >= 1


def test_count_completion_is_exact_for_openai() -> None:
    assert count_completion("gpt-4o", "tiktoken is great!") == 6


def test_chat_prompt_single_message() -> None:
    messages = [{"role": "user", "content": "hello world"}]
    # 3 per message + "user" (1) + "hello world" (2) + 3 priming.
    assert count_chat_prompt("gpt-4o", messages) == 3 + 1 + 2 + 3


def test_chat_prompt_name_costs_three_plus_its_text() -> None:
    messages = [
        {"role": "system", "content": "tiktoken is great!"},
        {"role": "user", "name": "bob", "content": "hello world"},
    ]
    # system: 3 + "system" 1 + 6; user: 3 + "user" 1 + name (3 + "bob" 1) + 2; priming 3.
    assert count_chat_prompt("gpt-4", messages) == (3 + 1 + 6) + (3 + 1 + 3 + 1 + 2) + 3


def test_chat_prompt_content_parts() -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "hello world"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/b.png"}},
                {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
                "not a part",
                {"type": "text", "text": 5},
            ],
        }
    ]
    # 3 + "user" 1 + text 2 + low image 85 + high image 765 + audio 0 + junk 0; priming 3.
    assert count_chat_prompt("gpt-4o", messages) == 3 + 1 + 2 + 85 + 765 + 3


def test_chat_prompt_tools_cost_eight_plus_their_json() -> None:
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    messages = [{"role": "user", "content": "hello world"}]
    # Message 3 + 1 + 2, priming 3; each tool 8 + 19 for its compact JSON
    # '{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}' (counted by tiktoken).
    assert count_chat_prompt("gpt-4o", messages, tools=[tool, tool]) == (3 + 1 + 2 + 3) + 2 * (8 + 19)


def test_chat_prompt_tolerates_missing_and_odd_fields() -> None:
    messages: list[object] = [{"role": "assistant", "content": None}, {}, "hi", {"role": 7, "name": None}]
    # Four messages at 3 each + "assistant" (1) + priming 3.
    assert count_chat_prompt("gpt-4o", messages) == 4 * 3 + 1 + 3
    assert count_chat_prompt("gpt-4o", []) == 3


def test_chat_prompt_for_other_providers_uses_the_heuristic() -> None:
    messages = [{"role": "user", "content": "hello world"}]
    # 3 + "user" (one word: ceil(1.3) = 2) + "hello world" (3) + priming 3.
    assert count_chat_prompt("claude-3-haiku", messages) == 3 + 2 + 3 + 3


_OFFLINE_SCRIPT = textwrap.dedent(
    """
    import socket

    class NoNetwork(socket.socket):
        # A subclass rather than a function, so that modules subclassing socket (ssl) still import.
        def __init__(self, *args, **kwargs):
            raise OSError("network used")

    def refuse(*args, **kwargs):
        raise OSError("network used")

    socket.socket = NoNetwork
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    from clinx.billing import tokens

    tokens.warm_up()
    print(tokens.count_text("gpt-4", "tiktoken is great!"), tokens.count_text("gpt-4o", "hello world"))
    """
)


def test_encodings_load_without_network(tmp_path: Path) -> None:
    cache_dir = tmp_path / "tiktoken-cache"
    cache_dir.mkdir()
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache_dir), "DATA_GYM_CACHE_DIR": str(cache_dir)}
    result = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["6", "2"]
    assert list(cache_dir.iterdir()) == []


async def test_prepare_loads_only_the_encoding_a_model_needs() -> None:
    await tokens.prepare("claude-3-5-sonnet")  # another provider's model: no encoding to load
    await tokens.prepare("gpt-4o-mini")
    assert tokens.O200K_BASE in tokens._LOADED
    assert tokens.count_text("gpt-4o-mini", "hello world") == 2
