"""Look up the Price of a model for a group from the options snapshot (ratios and per-call prices)."""

from __future__ import annotations

import re
from typing import Any

from clinx.billing.completion_ratio import completion_ratio
from clinx.config.default_prices import default_prices
from clinx.config.options import OptionsSnapshot
from clinx.core.types import Price

_THINKING_BUDGET = re.compile(r"^(gemini-2\.5-(?:flash-lite|flash|pro))-thinking-\d+$")
DEFAULT_CREATE_CACHE_RATIO = 1.25


def normalise_model(name: str) -> str:
    """The name prices and abilities are keyed by: gizmo families and Gemini thinking budgets collapse to a
    wildcard entry (``gpt-4-gizmo-abc`` → ``gpt-4-gizmo-*``, ``gemini-2.5-pro-thinking-128`` →
    ``gemini-2.5-pro-thinking-*``)."""
    if name.startswith("gpt-4o-gizmo"):
        return "gpt-4o-gizmo-*"
    if name.startswith("gpt-4-gizmo"):
        return "gpt-4-gizmo-*"
    match = _THINKING_BUDGET.match(name)
    if match:
        return f"{match.group(1)}-thinking-*"
    return name


def _table(options: OptionsSnapshot, key: str, fallback: Any) -> dict[str, float]:
    value = options.get_json(key)
    if isinstance(value, dict):
        return value
    return dict(fallback)


def group_ratio(options: OptionsSnapshot, group: str) -> float:
    ratios = options.get_json("GroupRatio")
    if isinstance(ratios, dict) and group in ratios:
        return float(ratios[group])
    return 1.0


def resolve_price(options: OptionsSnapshot, model: str, group: str) -> Price | None:
    """The Price of ``model`` for ``group``, or None when the model has neither a price nor a ratio (resolved once
    per options snapshot: the relay asks on every request)."""
    memo = options.derived
    key = ("price", model, group)
    if key in memo:
        price: Price | None = memo[key]
        return price
    if len(memo) > 10_000:  # a client spraying made-up model names must not grow it without bound
        memo.clear()
    price = memo[key] = _resolve_price(options, model, group)
    return price


def _resolve_price(options: OptionsSnapshot, model: str, group: str) -> Price | None:
    defaults = default_prices()
    name = normalise_model(model)
    g_ratio = group_ratio(options, group)
    prices = _table(options, "ModelPrice", defaults.model_price)
    if name in prices:
        return Price(model_price=float(prices[name]), group_ratio=g_ratio)
    ratios = _table(options, "ModelRatio", defaults.model_ratio)
    if name not in ratios:
        return None
    cache = _table(options, "CacheRatio", defaults.cache_ratio)
    create = _table(options, "CreateCacheRatio", defaults.create_cache_ratio)
    return Price(
        model_ratio=float(ratios[name]),
        completion_ratio=completion_ratio(name, _table(options, "CompletionRatio", defaults.completion_ratio)),
        cache_ratio=float(cache.get(name, 1.0)),
        create_cache_ratio=float(create.get(name, DEFAULT_CREATE_CACHE_RATIO)),
        group_ratio=g_ratio,
    )
