"""Read-only views of which models are served, for the pricing page and model lists (abilities and channels)."""

from __future__ import annotations

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncEngine

from clinx.store.tables import abilities, channels


async def enabled_model_groups(engine: AsyncEngine) -> dict[str, list[str]]:
    """Every model some enabled ability serves, with the sorted groups serving it."""
    query = select(abilities.c.model, abilities.c.group).where(abilities.c.enabled == true()).distinct()
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    out: dict[str, set[str]] = {}
    for model, group in rows:
        out.setdefault(str(model), set()).add(str(group))
    return {model: sorted(groups) for model, groups in sorted(out.items())}


async def enabled_models_in_group(engine: AsyncEngine, group: str) -> list[str]:
    query = (
        select(abilities.c.model)
        .where(abilities.c.group == group, abilities.c.enabled == true())
        .distinct()
        .order_by(abilities.c.model)
    )
    async with engine.connect() as conn:
        return [str(m) for m in (await conn.execute(query)).scalars().all()]


async def models_by_channel_type(engine: AsyncEngine) -> dict[int, list[str]]:
    """Channel type → sorted distinct models listed by the channels of that type."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(channels.c.type, channels.c.models))).all()
    out: dict[int, set[str]] = {}
    for channel_type, models in rows:
        names = {m.strip() for m in str(models or "").split(",") if m.strip()}
        out.setdefault(int(channel_type or 0), set()).update(names)
    return {t: sorted(names) for t, names in sorted(out.items())}
