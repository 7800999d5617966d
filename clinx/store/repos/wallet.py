"""Atomic quota operations on keys and wallets, as used by the quota ledger.

Two kinds of write, both safe under any concurrency across processes and nodes:

* ``lease`` takes quota out of a balance with a compare-and-set (``… SET q = q - :n WHERE id = :id AND q >= :n``),
  never a read followed by a blind write, so balances never go below zero and nothing is taken twice;
* ``apply`` adds back unused leases and records spend counters in one short transaction, locking rows in one
  fixed order (keys, then wallets, then channels, each by id) so concurrent flushes cannot deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Column, Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from clinx.store.tables import channels, tokens, users

Holder = Literal["token", "user"]
CAS_RETRIES = 8


@dataclass(frozen=True)
class Account:
    """Who pays: the wallet always; the key's ``remain_quota`` too unless it is unlimited or skipped
    (playground calls bill the wallet only)."""

    user_id: int
    token_id: int
    charge_token: bool


class Shortfall(Exception):
    """The key (``on_token``) or the wallet cannot cover the amount."""

    def __init__(self, on_token: bool) -> None:
        super().__init__("token" if on_token else "wallet")
        self.on_token = on_token


def _column(holder: Holder) -> tuple[Table, Column[Any]]:
    return (tokens, tokens.c.remain_quota) if holder == "token" else (users, users.c.quota)


async def lease(engine: AsyncEngine, holder: Holder, holder_id: int, wanted: int, minimum: int) -> int:
    """Take up to ``wanted`` (at least ``minimum``) from a key's or wallet's balance; returns what was taken,
    0 when less than ``minimum`` is there (nothing changes then)."""
    table, column = _column(holder)
    for _ in range(CAS_RETRIES):
        async with engine.begin() as conn:
            balance = (await conn.execute(select(column).where(table.c.id == holder_id))).scalar_one_or_none()
            take = min(wanted, max(0, int(balance or 0)))
            if take < max(minimum, 1):
                return 0
            done = await conn.execute(
                update(table).where(table.c.id == holder_id, column >= take).values({column.name: column - take})
            )
            if done.rowcount:
                return take
        # a concurrent writer changed the balance between our read and write: read again
    return 0


@dataclass
class SpendBatch:
    """Accumulated effects of settled requests, written in one transaction."""

    token_used: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    token_return: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    user_used: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    user_requests: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    user_return: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    channel_used: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def empty(self) -> bool:
        return not any(
            (
                self.token_used,
                self.token_return,
                self.user_used,
                self.user_requests,
                self.user_return,
                self.channel_used,
            )
        )

    def merge(self, other: SpendBatch) -> None:
        for name in ("token_used", "token_return", "user_used", "user_requests", "user_return", "channel_used"):
            mine: dict[int, int] = getattr(self, name)
            for key, value in getattr(other, name).items():
                mine[key] += value


async def apply(engine: AsyncEngine, batch: SpendBatch) -> None:
    async with engine.begin() as conn:
        for token_id in sorted(set(batch.token_used) | set(batch.token_return)):
            used, back = batch.token_used.get(token_id, 0), batch.token_return.get(token_id, 0)
            await conn.execute(
                update(tokens)
                .where(tokens.c.id == token_id)
                .values(used_quota=tokens.c.used_quota + used, remain_quota=tokens.c.remain_quota + back)
            )
        for user_id in sorted(set(batch.user_used) | set(batch.user_return) | set(batch.user_requests)):
            await conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(
                    quota=users.c.quota + batch.user_return.get(user_id, 0),
                    used_quota=users.c.used_quota + batch.user_used.get(user_id, 0),
                    request_count=users.c.request_count + batch.user_requests.get(user_id, 0),
                )
            )
        for channel_id in sorted(batch.channel_used):
            await conn.execute(
                update(channels)
                .where(channels.c.id == channel_id)
                .values(used_quota=channels.c.used_quota + batch.channel_used[channel_id])
            )
