"""Reasoning controls spelled in the model name, as New API's users write them (pure).

* OpenAI o-series and gpt-5: ``-high|-medium|-low|-minimal|-none|-xhigh`` → ``reasoning_effort`` (suffix removed).
* Claude: ``-thinking`` → extended thinking with ``budget_tokens = max_tokens × percentage`` (option
  ``claude.thinking_adapter_budget_tokens_percentage``, 0.8), ``max_tokens`` at least 1280, temperature 1.
* Gemini: ``-thinking`` (thoughts on, dynamic budget), ``-thinking-<budget>``, ``-nothinking`` (budget 0).
"""

from __future__ import annotations

import re

from clinx.relay.convert.base import Dialect, Json

_OPENAI_EFFORT = re.compile(r"^((?:o\d|gpt-5).*?)-(xhigh|high|medium|low|minimal|none)$")
_GEMINI_BUDGET = re.compile(r"^(.*)-thinking-(\d+)$")
CLAUDE_MIN_MAX_TOKENS = 1280


def apply_suffix(body: Json, model: str, dialect: Dialect, *, claude_budget_share: float = 0.8) -> str:
    """Adjust ``body`` (already in ``dialect``) for a reasoning suffix on ``model``; returns the model name to
    send upstream (the suffix removed) — or ``model`` unchanged when it carries none."""
    if dialect in (Dialect.OPENAI_CHAT, Dialect.OPENAI_RESPONSES):
        match = _OPENAI_EFFORT.match(model)
        if not match:
            return model
        if dialect == Dialect.OPENAI_RESPONSES:
            body["reasoning"] = {**(body.get("reasoning") or {}), "effort": match.group(2)}
        else:
            body["reasoning_effort"] = match.group(2)
        return match.group(1)
    if dialect == Dialect.CLAUDE and model.endswith("-thinking"):
        max_tokens = max(int(body.get("max_tokens") or 0), CLAUDE_MIN_MAX_TOKENS)
        body["max_tokens"] = max_tokens
        body["thinking"] = {"type": "enabled", "budget_tokens": max(1024, int(max_tokens * claude_budget_share))}
        body["temperature"] = 1
        body.pop("top_p", None)
        body.pop("top_k", None)
        return model.removesuffix("-thinking")
    if dialect == Dialect.GEMINI:
        return _gemini(body, model)
    return model


def _gemini(body: Json, model: str) -> str:
    config = dict(body.get("generationConfig") or {})
    thinking = dict(config.get("thinkingConfig") or {})
    budget = _GEMINI_BUDGET.match(model)
    if budget:
        thinking.update(thinkingBudget=int(budget.group(2)), includeThoughts=True)
        model = budget.group(1)
    elif model.endswith("-nothinking"):
        thinking["thinkingBudget"] = 0
        model = model.removesuffix("-nothinking")
    elif model.endswith("-thinking"):
        thinking.update(thinkingBudget=-1, includeThoughts=True)
        model = model.removesuffix("-thinking")
    else:
        return model
    config["thinkingConfig"] = thinking
    body["generationConfig"] = config
    return model
