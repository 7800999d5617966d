"""Pick a channel: highest priority tier first (tier = retry attempt), weighted random inside a tier.

Pure: the random source is injected. Each channel's share is ``weight + 10`` (New API's smoothing, so that a
weight of 0 still gets traffic and small weights are not all-or-nothing).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from typing import Protocol

from clinx.core.types import ChannelInfo

WEIGHT_SMOOTHING = 10


class Random(Protocol):
    def random(self) -> float: ...


def pick_weighted(channels: Sequence[ChannelInfo], rng: Random) -> ChannelInfo:
    total = sum(c.weight + WEIGHT_SMOOTHING for c in channels)
    point = rng.random() * total
    for channel in channels:
        point -= channel.weight + WEIGHT_SMOOTHING
        if point < 0:
            return channel
    return channels[-1]


def select(
    tiers: Sequence[Sequence[ChannelInfo]],
    attempt: int,
    rng: Random | None = None,
    exclude: Collection[int] = (),
) -> ChannelInfo | None:
    """The channel for retry ``attempt`` (0 = first try): tier ``attempt`` (the lowest tier once attempts
    outnumber tiers), skipping channels that already failed this request when the tier has others."""
    if not tiers:
        return None
    tier = tiers[min(attempt, len(tiers) - 1)]
    candidates = [c for c in tier if c.id not in exclude] or list(tier)
    if not candidates:
        return None
    return pick_weighted(candidates, rng or random)
