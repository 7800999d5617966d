"""Local token counting for billing when an upstream reports no usage: exact cl100k_base / o200k_base counts for
OpenAI models, a documented heuristic for the rest, and New API's chat-prompt overhead rule.

The encodings come compiled into the ``toktok-rs`` wheel (ids identical to tiktoken's); nothing is downloaded.
Loading one takes about a second and 40–80 MB, so encodings load on first use only, through ``await prepare(model)``
(in a thread): afterwards every function here is pure CPU work that is safe to call on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import toktok  # type: ignore[import-untyped]

# New API's OpenAI-format prompt rule (it adds 3 per name too, unlike OpenAI's cookbook).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 3
TOKENS_PER_TOOL = 8
REPLY_PRIMING = 3
# OpenAI's price of one image tile set; an estimate, since the image's size is not fetched here.
IMAGE_LOW_DETAIL = 85
IMAGE_HIGH_DETAIL = 765

CL100K_BASE = "cl100k_base"
O200K_BASE = "o200k_base"

# Checked in order: the o200k families first, as "gpt-4o" also starts with "gpt-4".
_O200K_PREFIXES = (
    "gpt-4o",
    "chatgpt-4o",
    "gpt-4.1",
    "gpt-4.5",
    "gpt-5",
    "gpt-oss",
    "gpt-realtime",
    "gpt-audio",
    "codex-",
    "o1",
    "o3",
    "o4",
)
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-", "davinci-002", "babbage-002")
# Older or unlisted OpenAI text models: cl100k_base is New API's fallback codec.
_OPENAI_FALLBACK_PREFIXES = (
    "gpt-",
    "chatgpt-",
    "text-davinci",
    "text-curie",
    "text-babbage",
    "text-ada",
    "text-moderation",
    "omni-moderation",
    "davinci",
    "babbage",
)


@dataclass(frozen=True, slots=True)
class Encoding:
    """A tiktoken-compatible BPE encoding. Special-token strings such as ``<|endoftext|>`` count as ordinary text,
    so a client cannot make its prompt look shorter (or make counting fail) by embedding them."""

    name: str

    def count(self, text: str) -> int:
        if not text:
            return 0
        return int(toktok.batch_count([text], self.name, threads=1)[0])


# One load per process, shared by the warm-up thread and the event loop: the lock makes a caller that races the
# warm-up wait for its load instead of building a second copy of the rank table.
_LOAD_LOCK = threading.Lock()
_LOADED: set[str] = set()


@cache
def _load(name: str) -> Encoding:
    with _LOAD_LOCK:
        toktok.batch_count([""], name, threads=1)  # builds and caches the tokenizer inside toktok
    _LOADED.add(name)
    return Encoding(name)


def warm_up() -> None:
    """Load both encodings (about a second each, 40 and 80 MB). Blocking: call it in a thread."""
    _load(CL100K_BASE)
    _load(O200K_BASE)


async def prepare(model: str) -> None:
    """Load the encoding ``model`` counts with, if any, in a thread: afterwards counting is pure CPU work that
    may run on the event loop. Encodings load on first use only, so a node whose providers report usage never
    holds their rank tables in memory."""
    name = encoding_name_for(model)
    if name is not None and name not in _LOADED:
        await asyncio.to_thread(_load, name)


def encoding_name_for(model: str) -> str | None:
    """The encoding an OpenAI model uses, or None for a model of another provider."""
    name = model.strip().lower().rsplit("/", 1)[-1].removeprefix("ft:")
    if name.startswith(_O200K_PREFIXES):
        return O200K_BASE
    if name.startswith(_CL100K_PREFIXES + _OPENAI_FALLBACK_PREFIXES):
        return CL100K_BASE
    return None


def encoding_for(model: str) -> Encoding | None:
    """The loaded encoding for an OpenAI model (loading it on first use), or None for other providers."""
    name = encoding_name_for(model)
    return None if name is None else _load(name)


@dataclass(frozen=True, slots=True)
class Weights:
    """Heuristic token weights for text whose tokenizer we do not have. Every run's cost grows with its length and
    no cost is negative, so appending text never lowers an estimate."""

    per_word: float = 1.3  # a run of Latin letters, per started ``word_chars`` letters
    word_chars: int = 6
    per_digit_group: float = 1.0  # per started group of 3 digits, as cl100k and o200k split numbers
    per_cjk: float = 1.0  # Han, kana, Hangul, CJK and full-width punctuation
    per_emoji: float = 2.0
    per_newline: float = 0.5
    per_space: float = 0.1
    per_other: float = 0.5  # punctuation, symbols, letters of other scripts


DEFAULT_WEIGHTS = Weights()

# Every character falls in exactly one class, and each class matches a maximal run, so the runs of a prefix are
# the runs of the whole text except that the last one may grow.
_RUNS = re.compile(
    r"(?P<word>[A-Za-z\u00c0-\u024f]+)"
    r"|(?P<digits>[0-9]+)"
    r"|(?P<cjk>[\u1100-\u11ff\u3000-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    r"\uff00-\uffef\U00020000-\U0003134f]+)"
    r"|(?P<emoji>[\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]+)"
    r"|(?P<newline>\n+)"
    r"|(?P<space>[^\S\n]+)"
    r"|(?P<other>.)",
    re.DOTALL,
)


def _run_cost(kind: str, length: int, weights: Weights) -> float:
    if kind == "word":
        return weights.per_word * math.ceil(length / weights.word_chars)
    if kind == "digits":
        return weights.per_digit_group * math.ceil(length / 3)
    per_char = {
        "cjk": weights.per_cjk,
        "emoji": weights.per_emoji,
        "newline": weights.per_newline,
        "space": weights.per_space,
    }.get(kind, weights.per_other)
    return per_char * length


def estimate_tokens(text: str, weights: Weights = DEFAULT_WEIGHTS) -> int:
    """A heuristic count: about 1.3 tokens per English word, 1 per CJK character, 2 per emoji; 0 only for ''."""
    total = 0.0
    for match in _RUNS.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        total += _run_cost(kind, match.end() - match.start(), weights)
    return max(1, math.ceil(total)) if text else 0


def count_text(model: str, text: str) -> int:
    """Tokens of ``text`` for ``model``: exact for OpenAI models, the heuristic estimate for others."""
    encoding = encoding_for(model)
    return encoding.count(text) if encoding is not None else estimate_tokens(text)


def count_completion(model: str, text: str) -> int:
    """Tokens of a completion accumulated from an upstream that reported no usage."""
    return count_text(model, text)


def _count_part(model: str, part: Any) -> int:
    if not isinstance(part, Mapping):
        return 0
    kind = part.get("type")
    if kind == "text":
        text = part.get("text")
        return count_text(model, text) if isinstance(text, str) else 0
    if kind == "image_url":
        image = part.get("image_url")
        detail = image.get("detail") if isinstance(image, Mapping) else None
        return IMAGE_LOW_DETAIL if detail == "low" else IMAGE_HIGH_DETAIL
    # input_audio is billed from the audio's duration elsewhere; unknown parts carry no countable text.
    return 0


def _count_message(model: str, message: Any) -> int:
    tokens = TOKENS_PER_MESSAGE
    if not isinstance(message, Mapping):
        return tokens
    role = message.get("role")
    if isinstance(role, str):
        tokens += count_text(model, role)
    name = message.get("name")
    if isinstance(name, str):
        tokens += TOKENS_PER_NAME + count_text(model, name)
    content = message.get("content")
    if isinstance(content, str):
        tokens += count_text(model, content)
    elif isinstance(content, list):
        tokens += sum(_count_part(model, part) for part in content)
    return tokens


def count_chat_prompt(model: str, messages: Sequence[Any], tools: Sequence[Any] | None = None) -> int:
    """New API's estimate of an OpenAI-format chat prompt: per message 3 + role + content (+ 3 + name), per tool
    8 + its compact JSON, and 3 for the primed assistant reply. ``messages`` may come straight from a request body:
    fields of the wrong type count nothing rather than raise."""
    tokens = REPLY_PRIMING + sum(_count_message(model, message) for message in messages)
    for tool in tools or ():
        text = json.dumps(tool, ensure_ascii=False, separators=(",", ":"), default=str)
        tokens += TOKENS_PER_TOOL + count_text(model, text)
    return tokens
