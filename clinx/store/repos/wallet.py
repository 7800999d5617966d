"""Atomic quota operations on keys and wallets: reserve before a call, settle or refund after it.

Every change is a conditional UPDATE inside one transaction (``… WHERE quota >= :n``), never a read followed
by a write, so concurrent requests cannot overspend and no balance goes below zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clinx.store.tables import channels, tokens, users

SETTLE_RETRIES = 5


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


async def _take(conn: AsyncConnection, account: Account, amount: int) -> None:
    """Take from key then wallet; if the wallet falls short, put the key's part back before raising, so the
    transaction is unchanged either way (no savepoint needed)."""
    if account.charge_token:
        done = await conn.execute(
            update(tokens)
            .where(tokens.c.id == account.token_id, tokens.c.remain_quota >= amount)
            .values(remain_quota=tokens.c.remain_quota - amount)
        )
        if not done.rowcount:
            raise Shortfall(on_token=True)
    done = await conn.execute(
        update(users).where(users.c.id == account.user_id, users.c.quota >= amount).values(quota=users.c.quota - amount)
    )
    if not done.rowcount:
        if account.charge_token:
            await conn.execute(
                update(tokens)
                .where(tokens.c.id == account.token_id)
                .values(remain_quota=tokens.c.remain_quota + amount)
            )
        raise Shortfall(on_token=False)


async def _give(conn: AsyncConnection, account: Account, amount: int) -> None:
    if account.charge_token:
        await conn.execute(
            update(tokens).where(tokens.c.id == account.token_id).values(remain_quota=tokens.c.remain_quota + amount)
        )
    await conn.execute(update(users).where(users.c.id == account.user_id).values(quota=users.c.quota + amount))


async def reserve(engine: AsyncEngine, account: Account, amount: int) -> None:
    """Take ``amount`` from key and wallet together, or raise Shortfall and take nothing."""
    if amount <= 0:
        return
    async with engine.begin() as conn:
        await _take(conn, account, amount)


async def refund(engine: AsyncEngine, account: Account, amount: int) -> None:
    if amount <= 0:
        return
    async with engine.begin() as conn:
        await _give(conn, account, amount)


async def _available(conn: AsyncConnection, account: Account) -> int:
    wallet = (await conn.execute(select(users.c.quota).where(users.c.id == account.user_id))).scalar_one_or_none()
    available = max(0, int(wallet or 0))
    if account.charge_token:
        key = (await conn.execute(select(tokens.c.remain_quota).where(tokens.c.id == account.token_id))).scalar()
        available = min(available, max(0, int(key or 0)))
    return available


async def settle(engine: AsyncEngine, account: Account, reserved: int, actual: int, channel_id: int) -> int:
    """Turn a reservation into the real charge and record the spend; returns what was charged.

    A cheaper call returns the difference. A dearer one takes the extra only as far as key and wallet cover
    it (never below zero): the charge is then capped, and the caller logs the amount returned here, so the
    logs always sum to what was taken. Rows are always locked in the same order — key, wallet, channel — so
    concurrent reservations and settlements cannot deadlock.
    """
    async with engine.begin() as conn:
        extra = actual - reserved
        charged = reserved + await _take_up_to(conn, account, extra) if extra > 0 else actual
        give_back = max(0, reserved - actual)
        if account.token_id:
            values = {"used_quota": tokens.c.used_quota + charged}
            if account.charge_token and give_back:
                values["remain_quota"] = tokens.c.remain_quota + give_back
            await conn.execute(update(tokens).where(tokens.c.id == account.token_id).values(**values))
        await conn.execute(
            update(users)
            .where(users.c.id == account.user_id)
            .values(
                quota=users.c.quota + give_back,
                used_quota=users.c.used_quota + charged,
                request_count=users.c.request_count + 1,
            )
        )
        if channel_id and charged:
            await conn.execute(
                update(channels).where(channels.c.id == channel_id).values(used_quota=channels.c.used_quota + charged)
            )
    return charged


async def _take_up_to(conn: AsyncConnection, account: Account, wanted: int) -> int:
    for _ in range(SETTLE_RETRIES):
        take = min(wanted, await _available(conn, account))
        if take <= 0:
            return 0
        try:
            await _take(conn, account, take)
            return take
        except Shortfall:
            continue  # a concurrent charge got there first: look again
    return 0
