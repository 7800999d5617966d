"""Frozen value types shared across layers: usage counts and the price of a model for one request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    """Token counts of one call. ``prompt_tokens`` includes cached and cache-write tokens (OpenAI's convention;
    Claude's usage is normalised to it by its adaptor)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Price:
    """Everything needed to turn a Usage into quota. ``model_price`` (USD per call) wins over the ratios."""

    model_ratio: float = 0.0
    completion_ratio: float = 1.0
    cache_ratio: float = 1.0
    create_cache_ratio: float = 1.25
    group_ratio: float = 1.0
    model_price: float | None = None

    @property
    def per_call(self) -> bool:
        return self.model_price is not None

    @property
    def free(self) -> bool:
        if self.group_ratio == 0:
            return True
        return self.model_price == 0 if self.per_call else self.model_ratio == 0
