"""New API's billing formulas: worked examples as exact numbers, invariants as properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from clinx.billing.completion_ratio import completion_ratio
from clinx.billing.pricing import quota_for, reservation_for
from clinx.core.types import Price, Usage

GPT_4O = Price(model_ratio=1.25, completion_ratio=4, cache_ratio=0.5)


def test_worked_example_with_cache() -> None:
    # (200 + 800×0.5 + 500×4) × 1.25 = 3,250 quota = $0.0065
    assert quota_for(Usage(prompt_tokens=1000, completion_tokens=500, cached_tokens=800), GPT_4O) == 3250


def test_worked_example_without_cache() -> None:
    # 1000 × $2.5/M + 500 × $10/M = $0.0075 = 3,750 quota
    assert quota_for(Usage(prompt_tokens=1000, completion_tokens=500), GPT_4O) == 3750


def test_group_ratio_multiplies() -> None:
    price = Price(model_ratio=2, completion_ratio=3, group_ratio=1.5)
    assert quota_for(Usage(13, 7), price) == round((13 + 7 * 3) * 2 * 1.5)


def test_cache_write_uses_create_cache_ratio() -> None:
    claude = Price(model_ratio=1.5, completion_ratio=5, cache_ratio=0.1, create_cache_ratio=1.25)
    usage = Usage(prompt_tokens=3000, completion_tokens=100, cached_tokens=1000, cache_write_tokens=1000)
    assert quota_for(usage, claude) == round((1000 + 1000 * 0.1 + 1000 * 1.25 + 100 * 5) * 1.5)


def test_per_call_price() -> None:
    dalle = Price(model_price=0.04, group_ratio=1)
    assert quota_for(Usage(0, 0), dalle) == 20_000
    assert quota_for(Usage(0, 0), Price(model_price=0.04, group_ratio=0.5)) == 10_000


def test_non_zero_ratio_never_bills_zero() -> None:
    tiny = Price(model_ratio=0.0001)
    assert quota_for(Usage(1, 0), tiny) == 1


def test_free_model_and_free_group() -> None:
    assert quota_for(Usage(1000, 1000), Price(model_ratio=0)) == 0
    assert quota_for(Usage(1000, 1000), Price(model_ratio=1, group_ratio=0)) == 0
    assert reservation_for(1000, 100, Price(model_ratio=1, group_ratio=0)) == 0


def test_reservation_uses_preconsumed_floor_plus_max_tokens() -> None:
    price = Price(model_ratio=1)
    assert reservation_for(prompt_estimate=10, max_tokens=100, price=price) == 600
    assert reservation_for(prompt_estimate=2000, max_tokens=0, price=price) == 2000


def test_builtin_completion_ratios() -> None:
    assert completion_ratio("gpt-4o-mini", {}) == 4
    assert completion_ratio("gpt-4o-2024-05-13", {"gpt-4o-2024-05-13": 9}) == 3  # locked
    assert completion_ratio("gpt-4o", {"gpt-4o": 9}) == 9  # unlocked: the option wins
    assert completion_ratio("claude-3-5-sonnet-20241022", {}) == 5
    assert completion_ratio("o3-mini", {}) == 4
    assert completion_ratio("my-model", {"my-model": 3}) == 3
    assert completion_ratio("my-model", {}) == 1


usages = st.builds(
    Usage,
    prompt_tokens=st.integers(0, 2_000_000),
    completion_tokens=st.integers(0, 2_000_000),
    cached_tokens=st.integers(0, 2_000_000),
)
ratios = st.floats(0, 100, allow_nan=False, allow_infinity=False)
prices = st.builds(Price, model_ratio=ratios, completion_ratio=ratios, cache_ratio=ratios, group_ratio=ratios)


@given(usages, prices)
def test_never_negative(usage: Usage, price: Price) -> None:
    assert quota_for(usage, price) >= 0


@given(usages, prices, st.integers(0, 10_000))
def test_monotone_in_completion_tokens(usage: Usage, price: Price, extra: int) -> None:
    more = Usage(usage.prompt_tokens, usage.completion_tokens + extra, usage.cached_tokens)
    assert quota_for(more, price) >= quota_for(usage, price)
