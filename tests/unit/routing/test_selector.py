"""Channel selection: priority tiers by attempt, weighted random inside a tier (weight + 10)."""

from __future__ import annotations

import random
from collections import Counter

from clinx.core.types import ChannelInfo
from clinx.routing.index import build_snapshot
from clinx.routing.selector import select


def _channel(cid: int, weight: int = 0, priority: int = 0) -> ChannelInfo:
    return ChannelInfo(
        id=cid, type=1, name=f"c{cid}", key="k", base_url="", group="default", priority=priority, weight=weight
    )


def test_attempt_picks_tier_and_clamps_to_lowest() -> None:
    tiers = ((_channel(1),), (_channel(2),))
    assert select(tiers, 0, random.Random(1)) == tiers[0][0]
    assert select(tiers, 1, random.Random(1)) == tiers[1][0]
    assert select(tiers, 5, random.Random(1)) == tiers[1][0]
    assert select((), 0) is None


def test_weights_share_traffic_with_smoothing() -> None:
    heavy, light = _channel(1, weight=90), _channel(2, weight=0)
    rng = random.Random(42)
    picks = Counter(select(((heavy, light),), 0, rng).id for _ in range(20_000))  # type: ignore[union-attr]
    # shares 100 : 10
    assert 0.88 < picks[1] / 20_000 < 0.94
    assert picks[2] > 0


def test_failed_channel_is_skipped_when_tier_has_others() -> None:
    a, b = _channel(1), _channel(2)
    for seed in range(20):
        assert select(((a, b),), 0, random.Random(seed), exclude=[1]) == b
    assert select(((a,),), 0, random.Random(0), exclude=[1]) == a


def test_snapshot_orders_tiers_by_priority_and_drops_disabled() -> None:
    channels = [
        {"id": 1, "type": 1, "status": 1, "priority": 0, "models": "m", "group": "default"},
        {"id": 2, "type": 1, "status": 1, "priority": 5, "models": "m", "group": "default"},
        {"id": 3, "type": 1, "status": 2, "priority": 9, "models": "m", "group": "default"},
    ]
    abilities = [
        {"group": "default", "model": "m", "channel_id": c["id"], "enabled": True, "priority": c["priority"]}
        for c in channels
    ]
    snapshot = build_snapshot(abilities, channels)
    tiers = snapshot.tiers("default", "m")
    assert [[c.id for c in tier] for tier in tiers] == [[2], [1]]
    assert snapshot.models_for_group("default") == ["m"]
    assert snapshot.tiers("vip", "m") == ()
