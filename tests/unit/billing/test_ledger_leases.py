"""The ledger's lease sizing: a hot holder's leases grow (fewer database writes), a quiet one's stay small."""

from __future__ import annotations

from typing import Any

import pytest

from clinx.billing.ledger import MAX_LEASE_FACTOR, QuotaLedger
from clinx.store.repos import wallet
from clinx.store.repos.wallet import Account


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """What each refill asked the database for (the database always has plenty here)."""
    wanted: list[int] = []

    async def lease(_engine: Any, _holder: str, _holder_id: int, want: int, need: int) -> int:
        assert want >= need
        wanted.append(want)
        return want

    monkeypatch.setattr(wallet, "lease", lease)
    return wanted


async def test_a_hot_holder_gets_doubling_leases_up_to_the_cap(asked: list[int]) -> None:
    clock = Clock()
    ledger = QuotaLedger(engine=None, lease_factor=16, now=clock)  # type: ignore[arg-type]
    account = Account(user_id=1, token_id=0, charge_token=False)
    for _ in range(20_000):
        await ledger.reserve(account, 10)
        clock.t += 0.0001  # 10,000 requests per second
    assert asked[0] == 160  # the first lease: 16 requests' worth
    assert asked[1] == 320 and asked[2] == 640  # each quick refill doubles
    assert max(asked) == 10 * MAX_LEASE_FACTOR
    assert len(asked) < 60  # instead of 20,000 / 16 = 1,250 refills


async def test_a_quiet_holder_keeps_small_leases(asked: list[int]) -> None:
    clock = Clock()
    ledger = QuotaLedger(engine=None, lease_factor=16, now=clock)  # type: ignore[arg-type]
    account = Account(user_id=1, token_id=0, charge_token=False)
    for _ in range(100):
        await ledger.reserve(account, 10)
        clock.t += 0.1  # 10 requests per second: refills are seconds apart
    assert set(asked) == {160}
