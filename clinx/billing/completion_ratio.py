"""New API's built-in completion ratios (output price / input price) by model family.

A *locked* built-in ratio wins over the ``CompletionRatio`` option (the provider's official price); an unlocked
one is only the fallback when the option has no entry. Rules are data, checked in order, first match wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Match = Literal["prefix", "suffix", "contains", "exact"]


@dataclass(frozen=True)
class Rule:
    match: Match
    pattern: str
    ratio: float
    locked: bool

    def matches(self, name: str) -> bool:
        if self.match == "prefix":
            return name.startswith(self.pattern)
        if self.match == "suffix":
            return name.endswith(self.pattern)
        if self.match == "contains":
            return self.pattern in name
        return name == self.pattern


def _r(match: Match, pattern: str, ratio: float, locked: bool = True) -> Rule:
    return Rule(match, pattern, ratio, locked)


RULES: tuple[Rule, ...] = (
    _r("suffix", "-all", 2, locked=False),
    _r("suffix", "-gizmo-*", 2, locked=False),
    _r("exact", "gpt-4o-2024-05-13", 3),
    _r("prefix", "gpt-4o-mini-tts", 20, locked=False),
    _r("prefix", "gpt-4o", 4, locked=False),
    _r("prefix", "gpt-5.4-nano", 6.25),
    _r("prefix", "gpt-5.4", 6),
    _r("prefix", "gpt-5.5", 6),
    _r("prefix", "gpt-5.6", 6),
    _r("prefix", "gpt-5", 8),
    _r("prefix", "gpt-4.5-preview", 2),
    _r("prefix", "gpt-4-turbo", 3),
    _r("suffix", "gpt-4-1106", 3),
    _r("suffix", "gpt-4-1105", 3),
    _r("exact", "gpt-3.5-turbo", 3),
    _r("prefix", "gpt-3.5-turbo-0125", 3),
    _r("prefix", "gpt-3.5", 4 / 3),  # refined by the suffix rules in _special
    _r("prefix", "gpt-", 2, locked=False),
    _r("prefix", "o1", 4),
    _r("prefix", "o3", 4),
    _r("prefix", "o4", 4),
    _r("exact", "chatgpt-4o-latest", 3),
    _r("contains", "claude-3", 5),
    _r("contains", "claude-sonnet-4", 5),
    _r("contains", "claude-opus-4", 5),
    _r("contains", "claude-haiku-4", 5),
    _r("contains", "claude-sonnet-5", 5),
    _r("contains", "claude-opus-5", 5),
    _r("prefix", "mistral-", 3),
    _r("prefix", "gemini-1.5", 4),
    _r("prefix", "gemini-2.0", 4),
    _r("prefix", "gemini-2.5-pro", 8, locked=False),
    _r("prefix", "gemini-2.5-flash-preview", 3.5 / 0.15, locked=False),
    _r("prefix", "gemini-2.5-flash-lite", 4, locked=False),
    _r("prefix", "gemini-2.5-flash", 2.5 / 0.3, locked=False),
    _r("prefix", "gemini-robotics-er-1.5", 2.5 / 0.3, locked=False),
    _r("prefix", "gemini-3-pro-image", 60, locked=False),
    _r("prefix", "gemini-3-pro", 6, locked=False),
    _r("prefix", "gemini-", 4, locked=False),
    _r("exact", "command-r", 3),
    _r("exact", "command-r-plus", 5),
    _r("exact", "command-r-08-2024", 4),
    _r("exact", "command-r-plus-08-2024", 4),
    _r("prefix", "command", 4, locked=False),
    _r("prefix", "ERNIE-Speed-", 2),
    _r("prefix", "ERNIE-Lite-", 2),
    _r("prefix", "ERNIE-Character", 2),
    _r("prefix", "ERNIE-Functions", 2),
    _r("exact", "llama2-70b-4096", 0.8 / 0.64),
    _r("exact", "llama3-8b-8192", 2),
    _r("exact", "llama3-70b-8192", 0.79 / 0.59),
)
_DEFAULT = Rule("exact", "", 1, False)


def _special(name: str) -> Rule | None:
    """Rules that need both a prefix and a suffix."""
    if name.startswith("gemini-2.5-flash-preview") and name.endswith("-nothinking"):
        return _r("prefix", "gemini-2.5-flash-preview", 4, locked=False)
    if name.startswith("gpt-3.5") and name.endswith("0125"):
        return _r("prefix", "gpt-3.5", 3)
    if name.startswith("gpt-3.5") and name.endswith("1106"):
        return _r("prefix", "gpt-3.5", 2)
    return None


def builtin(name: str) -> Rule:
    """The built-in rule for a (normalised) model name."""
    special = _special(name)
    if special is not None:
        return special
    for rule in RULES:
        if rule.matches(name):
            return rule
    return _DEFAULT


def completion_ratio(name: str, configured: dict[str, float] | None) -> float:
    """Locked built-in ratio, else the configured ``CompletionRatio`` entry, else the unlocked built-in one.
    Names with a ``/`` (OpenRouter-style) use their configured entry first."""
    table = configured or {}
    if "/" in name and name in table:
        return float(table[name])
    rule = builtin(name)
    if rule.locked:
        return rule.ratio
    if name in table:
        return float(table[name])
    return rule.ratio
