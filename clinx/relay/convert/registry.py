"""Which bridges exist, looked up by (client dialect, upstream dialect). Each bridge module exports
``BRIDGES``; adding a bridge is one module and one name in ``MODULES``."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from clinx.relay.convert.base import Bridge, Dialect

MODULES = ("claude_openai", "gemini_openai", "responses_openai")


@cache
def all_bridges() -> dict[tuple[Dialect, Dialect], Bridge]:
    found: dict[tuple[Dialect, Dialect], Bridge] = {}
    for name in MODULES:
        module = import_module(f"clinx.relay.convert.{name}")
        for bridge in module.BRIDGES:
            key = (bridge.client, bridge.upstream)
            if key in found:
                raise ValueError(f"two bridges for {key}")
            found[key] = bridge
    return found


def bridge(client: Dialect, upstream: Dialect) -> Bridge | None:
    """The bridge for a client dialect over an upstream dialect; None when they are the same (pass-through)
    or no bridge exists."""
    if client == upstream:
        return None
    return all_bridges().get((client, upstream))
