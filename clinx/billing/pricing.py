"""New API's billing formulas as pure functions. 500,000 quota = US$1; a model ratio of 1 = US$2 per 1M
input tokens. Decimal arithmetic, integer results, never negative.

    base     = prompt − cached − cache_write                      (clamped ≥ 0)
    quota    = (base + cached×cache_ratio + cache_write×create_cache_ratio + completion×completion_ratio)
               × model_ratio × group_ratio                        (a non-zero ratio never bills 0)
    per call = model_price × 500,000 × group_ratio
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from clinx.core.types import Price, Usage

QUOTA_PER_UNIT = 500_000


@lru_cache(maxsize=4096)  # ratios repeat on every request; str() of a float is the costly part
def _d(value: float) -> Decimal:
    return Decimal(str(value))


_ONE = Decimal(1)


def _to_quota(value: Decimal) -> int:
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP))


def per_call_quota(price: Price, quota_per_unit: int = QUOTA_PER_UNIT) -> int:
    assert price.model_price is not None
    return max(0, _to_quota(_d(price.model_price) * quota_per_unit * _d(price.group_ratio)))


def quota_for(usage: Usage, price: Price, quota_per_unit: int = QUOTA_PER_UNIT) -> int:
    """The quota one call costs."""
    if price.per_call:
        return per_call_quota(price, quota_per_unit)
    base = max(0, usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens)
    prompt = (
        Decimal(base)
        + Decimal(max(0, usage.cached_tokens)) * _d(price.cache_ratio)
        + Decimal(max(0, usage.cache_write_tokens)) * _d(price.create_cache_ratio)
    )
    weighted = prompt + Decimal(max(0, usage.completion_tokens)) * _d(price.completion_ratio)
    quota = _to_quota(weighted * _d(price.model_ratio) * _d(price.group_ratio))
    ratio_nonzero = price.model_ratio != 0 and price.group_ratio != 0
    if ratio_nonzero and quota <= 0 and usage.total_tokens > 0:
        return 1
    return max(0, quota)


def reservation_for(
    prompt_estimate: int,
    max_tokens: int,
    price: Price,
    pre_consumed_quota: int = 500,
    quota_per_unit: int = QUOTA_PER_UNIT,
) -> int:
    """What to reserve before the call (New API's pre-consume): ``max(prompt, PreConsumedQuota) + max_tokens``
    tokens at the model and group ratios; the whole price for per-call models; nothing for free models."""
    if price.free:
        return 0
    if price.per_call:
        return per_call_quota(price, quota_per_unit)
    tokens = max(prompt_estimate, pre_consumed_quota) + max(0, max_tokens)
    return max(1, _to_quota(Decimal(tokens) * _d(price.model_ratio) * _d(price.group_ratio)))
