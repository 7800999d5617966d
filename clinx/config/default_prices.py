"""New API's default price tables (model, completion, cache, create-cache, audio, image ratios; per-call
prices), shipped as data in ``data/newapi-default-prices.json`` and loaded once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class DefaultPrices:
    model_ratio: MappingProxyType[str, float]
    model_price: MappingProxyType[str, float]
    completion_ratio: MappingProxyType[str, float]
    cache_ratio: MappingProxyType[str, float]
    create_cache_ratio: MappingProxyType[str, float]
    audio_ratio: MappingProxyType[str, float]
    audio_completion_ratio: MappingProxyType[str, float]
    image_ratio: MappingProxyType[str, float]

    def known_models(self) -> list[str]:
        """Every model name with a default ratio or price, sorted."""
        return sorted(set(self.model_ratio) | set(self.model_price))


def _table(raw: dict[str, Any], key: str) -> MappingProxyType[str, float]:
    return MappingProxyType({k: float(v) for k, v in raw.get(key, {}).items()})


@cache
def default_prices() -> DefaultPrices:
    text = resources.files("clinx.config").joinpath("data/newapi-default-prices.json").read_text("utf-8")
    raw = json.loads(text)
    return DefaultPrices(
        model_ratio=_table(raw, "defaultModelRatio"),
        model_price=_table(raw, "defaultModelPrice"),
        completion_ratio=_table(raw, "defaultCompletionRatio"),
        cache_ratio=_table(raw, "defaultCacheRatio"),
        create_cache_ratio=_table(raw, "defaultCreateCacheRatio"),
        audio_ratio=_table(raw, "defaultAudioRatio"),
        audio_completion_ratio=_table(raw, "defaultAudioCompletionRatio"),
        image_ratio=_table(raw, "defaultImageRatio"),
    )


def as_json(table: MappingProxyType[str, float]) -> str:
    """A table as the JSON text New API stores in its options (e.g. the ModelRatio default)."""
    return json.dumps(dict(table), ensure_ascii=False)
