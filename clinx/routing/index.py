"""The channel index: (group, model) → priority tiers of enabled channels, held in memory and swapped whole
when rebuilt (at start, after any channel change on this node, and every SYNC_FREQUENCY seconds)."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clinx.core.types import ChannelInfo
from clinx.store.engine import Engine
from clinx.store.repos import abilities as abilities_repo
from clinx.store.repos import channels as channels_repo

log = logging.getLogger(__name__)
Tiers = tuple[tuple[ChannelInfo, ...], ...]


def _json_object(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def channel_info(row: Mapping[str, Any]) -> ChannelInfo:
    setting = _json_object(row.get("setting"))
    status_map: list[tuple[int, int]] = []
    for src, dst in _json_object(row.get("status_code_mapping")).items():
        try:
            status_map.append((int(src), int(dst)))
        except (TypeError, ValueError):
            continue
    return ChannelInfo(
        id=int(row["id"]),
        type=int(row.get("type") or 0),
        name=str(row.get("name") or ""),
        key=str(row.get("key") or ""),
        base_url=str(row.get("base_url") or "").rstrip("/"),
        group=str(row.get("group") or "default"),
        priority=int(row.get("priority") or 0),
        weight=int(row.get("weight") or 0),
        status=int(row.get("status") or 0),
        auto_ban=row.get("auto_ban") is None or int(row["auto_ban"]) == 1,
        other=str(row.get("other") or ""),
        organization=str(row.get("openai_organization") or ""),
        test_model=str(row.get("test_model") or ""),
        model_mapping=tuple((str(k), str(v)) for k, v in _json_object(row.get("model_mapping")).items()),
        status_code_mapping=tuple(status_map),
        param_override=str(row.get("param_override") or ""),
        header_override=tuple((str(k), str(v)) for k, v in _json_object(row.get("header_override")).items()),
        system_prompt=str(setting.get("system_prompt") or ""),
        system_prompt_override=bool(setting.get("system_prompt_override")),
        thinking_to_content=bool(setting.get("thinking_to_content")),
        pass_through_body=bool(setting.get("pass_through_body_enabled")),
        models=tuple(m.strip() for m in str(row.get("models") or "").split(",") if m.strip()),
    )


@dataclass(frozen=True)
class IndexSnapshot:
    routes: Mapping[tuple[str, str], Tiers] = field(default_factory=dict)
    channels: Mapping[int, ChannelInfo] = field(default_factory=dict)

    def tiers(self, group: str, model: str) -> Tiers:
        return self.routes.get((group, model), ())

    def models_for_group(self, group: str) -> list[str]:
        return sorted({model for (g, model) in self.routes if g == group})


def build_snapshot(
    ability_rows: Sequence[Mapping[str, Any]], channel_rows: Sequence[Mapping[str, Any]]
) -> IndexSnapshot:
    channels = {int(r["id"]): channel_info(r) for r in channel_rows}
    grouped: dict[tuple[str, str], dict[int, list[ChannelInfo]]] = defaultdict(lambda: defaultdict(list))
    for ability in ability_rows:
        channel = channels.get(int(ability["channel_id"]))
        if channel is None or channel.status != 1:
            continue
        priority = int(ability.get("priority") or 0)
        grouped[(str(ability["group"]), str(ability["model"]))][priority].append(channel)
    routes: dict[tuple[str, str], Tiers] = {}
    for route, by_priority in grouped.items():
        routes[route] = tuple(
            tuple(sorted(by_priority[p], key=lambda c: c.id)) for p in sorted(by_priority, reverse=True)
        )
    return IndexSnapshot(routes=routes, channels=channels)


class ChannelIndex:
    """Holds the current snapshot; readers never lock, a rebuild replaces it in one assignment."""

    def __init__(self) -> None:
        self.current = IndexSnapshot()

    async def reload(self, engine: Engine) -> IndexSnapshot:
        ability_rows = await abilities_repo.list_enabled(engine)
        channel_rows = await channels_repo.all_enabled(engine)
        self.current = build_snapshot(ability_rows, channel_rows)
        return self.current
