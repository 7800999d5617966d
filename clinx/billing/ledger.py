"""The quota ledger: money checks at memory speed, with the database as the single source of truth.

Each process holds *leases*: quota taken out of a key's or wallet's balance with one atomic compare-and-set
(``clinx.store.repos.wallet.lease``). Reservations and settlements move quota inside the lease, in memory, with
no await between check and change — so within a process nothing can overspend, and across processes and nodes
nothing can either, because a lease is only ever taken from what the database still holds. A lease is sized to
cover several requests (``lease_factor`` × the request), so a busy key costs one database write per batch of
requests instead of two per request.

Every ``flush_interval`` seconds the spend counters (``used_quota``, ``request_count``, channel spend) are written
in one transaction, and leases idle for ``idle_return`` seconds go back to their balance; a graceful shutdown
returns every lease. A lease grows for a busy holder (doubling while refills come less than a quarter second apart,
up to ``MAX_LEASE_FACTOR`` requests' worth) and starts small again once it went back idle. The bound on a hard
crash: the unreturned leases (per active key and wallet, the larger of ``lease_factor`` requests' and about a
quarter second of its spending) and one interval of counters; the consume logs always equal what was charged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from clinx.store.engine import Engine
from clinx.store.repos import wallet
from clinx.store.repos.wallet import Account, Holder, Shortfall, SpendBatch

log = logging.getLogger(__name__)


MAX_LEASE_FACTOR = 512
HOT_REFILL_SECONDS = 0.25  # a holder that needs a refill sooner than this is hot: its next lease doubles


@dataclass
class Lease:
    balance: int = 0
    last_used: float = 0.0
    factor: int = 0  # requests' worth the next refill asks for (0 = the ledger's base factor)
    refilled_at: float = float("-inf")


class QuotaLedger:
    def __init__(
        self,
        engine: Engine,
        *,
        lease_factor: int = 16,
        idle_return: float = 2.0,
        flush_interval: float = 0.5,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._factor = lease_factor
        self._idle_return = idle_return
        self._interval = flush_interval
        self._now = now
        self._leases: dict[tuple[Holder, int], Lease] = {}
        self._locks: dict[tuple[Holder, int], asyncio.Lock] = {}
        self._pending = SpendBatch()
        self._flush_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    # leases

    def held(self, holder: Holder, holder_id: int) -> int:
        """Quota of this holder leased by this process (not visible in the database balance)."""
        lease = self._leases.get((holder, holder_id))
        return lease.balance if lease else 0

    @property
    def lease_count(self) -> int:
        """Leases held now (a metrics gauge: many means many active keys, or leases not going back)."""
        return len(self._leases)

    def _lease(self, key: tuple[Holder, int]) -> Lease:
        lease = self._leases.get(key)
        if lease is None:
            lease = self._leases[key] = Lease(last_used=self._now())
        return lease

    async def _refill(self, key: tuple[Holder, int], need: int, wanted: int) -> int:
        """Lease more from the database; the quota lands in whatever lease is current when the write returns
        (a flush may have replaced the lease object meanwhile), so none is ever stranded."""
        got = await wallet.lease(self._engine, key[0], key[1], wanted, need)
        lease = self._lease(key)
        lease.balance += got
        lease.refilled_at = self._now()
        return got

    def _factor_for(self, lease: Lease) -> int:
        """Requests' worth to lease: the base factor, doubled for each refill that came within
        ``HOT_REFILL_SECONDS`` of the one before (up to ``MAX_LEASE_FACTOR``). A busy key then costs a database
        write every quarter second or so instead of every ``lease_factor`` requests, while a quiet one keeps
        small leases (other nodes and the crash bound see little of its balance held)."""
        factor = lease.factor or self._factor
        if self._now() - lease.refilled_at < HOT_REFILL_SECONDS:
            factor = min(factor * 2, MAX_LEASE_FACTOR)
        lease.factor = factor
        return factor

    async def _hold(self, key: tuple[Holder, int], amount: int) -> None:
        while self._lease(key).balance < amount:
            async with self._locks.setdefault(key, asyncio.Lock()):
                lease = self._lease(key)
                need = amount - lease.balance
                if need > 0 and not await self._refill(key, need, max(need, amount * self._factor_for(lease))):
                    raise Shortfall(on_token=key[0] == "token")
        lease = self._lease(key)
        lease.balance -= amount
        lease.last_used = self._now()

    async def reserve(self, account: Account, amount: int) -> None:
        """Take ``amount`` from key and wallet together, or raise Shortfall and take nothing."""
        if amount <= 0:
            return
        token_key: tuple[Holder, int] = ("token", account.token_id)
        if account.charge_token:
            await self._hold(token_key, amount)
        try:
            await self._hold(("user", account.user_id), amount)
        except Shortfall:
            if account.charge_token:
                self._lease(token_key).balance += amount
            raise

    def refund(self, account: Account, amount: int) -> None:
        if amount <= 0:
            return
        if account.charge_token:
            self._lease(("token", account.token_id)).balance += amount
        self._lease(("user", account.user_id)).balance += amount

    async def _top_up(self, key: tuple[Holder, int], wanted: int) -> int:
        need = wanted - self._lease(key).balance
        if need > 0:
            async with self._locks.setdefault(key, asyncio.Lock()):
                await self._refill(key, 1, wanted - self._lease(key).balance)
        return self._lease(key).balance

    async def _take_up_to(self, account: Account, wanted: int) -> int:
        try:
            await self.reserve(account, wanted)
            return wanted
        except Shortfall:
            pass
        available = await self._top_up(("user", account.user_id), wanted)
        if account.charge_token:
            available = min(available, await self._top_up(("token", account.token_id), wanted))
        take = min(wanted, available)
        if take > 0:
            self._lease(("user", account.user_id)).balance -= take
            if account.charge_token:
                self._lease(("token", account.token_id)).balance -= take
        return take

    async def settle(self, account: Account, reserved: int, actual: int, channel_id: int) -> int:
        """Turn a reservation into the real charge; returns what was charged.

        A cheaper call returns the difference; a dearer one takes the extra only as far as key and wallet
        cover it (never below zero) — the charge is then capped, and the log records the capped amount.
        """
        extra = actual - reserved
        if extra > 0:
            charged = reserved + await self._take_up_to(account, extra)
        else:
            charged = actual
            self.refund(account, -extra)
        pending = self._pending
        if account.token_id:
            pending.token_used[account.token_id] += charged
        pending.user_used[account.user_id] += charged
        pending.user_requests[account.user_id] += 1
        if channel_id and charged:
            pending.channel_used[channel_id] += charged
        return charged

    # flushing

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="quota-ledger")

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)
            try:
                await self.flush()
            except Exception:  # the batch is kept and retried next round; the loop must survive a DB blip
                log.exception("quota ledger flush failed; will retry")

    async def flush(self, *, return_all: bool = False) -> None:
        """Write spend counters and give back idle leases (all leases with ``return_all``)."""
        async with self._flush_lock:
            batch, self._pending = self._pending, SpendBatch()
            now = self._now()
            for key, lease in list(self._leases.items()):
                lock = self._locks.get(key)
                if lock is not None and lock.locked():
                    continue  # a refill is in flight for this holder
                if return_all or now - lease.last_used >= self._idle_return:
                    if lease.balance:
                        returns = batch.token_return if key[0] == "token" else batch.user_return
                        returns[key[1]] += lease.balance
                    del self._leases[key]
                    self._locks.pop(key, None)
            if batch.empty():
                return
            try:
                await wallet.apply(self._engine, batch)
            except Exception:
                batch.merge(self._pending)
                self._pending = batch
                raise

    async def close(self) -> None:
        """Stop the loop (asked, never cancelled: a cancelled write would drop its batch of counters and returned
        leases) and give back every lease."""
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        await self.flush(return_all=True)
