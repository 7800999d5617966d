"""Which bridges exist, looked up by (client dialect, upstream dialect). Each bridge module exports
``BRIDGES``; adding a bridge is one module and one name in ``MODULES``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module

from clinx.relay.convert.base import Bridge, Dialect, Event, StreamBridge

MODULES = ("claude_openai", "gemini_openai", "responses_openai", "dify_openai")


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


HUB = Dialect.OPENAI_CHAT
_RANK = {"full": 0, "high": 1, "partial": 2}


@dataclass
class _Chain:
    """Two stream state machines in series: upstream → hub → client."""

    first: StreamBridge
    second: StreamBridge

    def feed(self, event: Event) -> list[Event]:
        return [out for middle in self.first.feed(event) for out in self.second.feed(middle)]

    def finish(self) -> list[Event]:
        tail = [out for middle in self.first.finish() for out in self.second.feed(middle)]
        return tail + self.second.finish()


def compose(to_hub: Bridge, from_hub: Bridge) -> Bridge:
    """client → hub (``to_hub``: client=C, upstream=hub) then hub → upstream (``from_hub``: client=hub, upstream=U)."""
    return Bridge(
        client=to_hub.client,
        upstream=from_hub.upstream,
        request=lambda body: from_hub.request(to_hub.request(body)),
        response=lambda answer: to_hub.response(from_hub.response(answer)),
        stream=lambda: _Chain(from_hub.stream(), to_hub.stream()),
        fidelity=max(to_hub.fidelity, from_hub.fidelity, key=lambda f: _RANK.get(f, 2)),
        lossy=(*to_hub.lossy, *(item for item in from_hub.lossy if item not in to_hub.lossy)),
    )


@cache
def bridge(client: Dialect, upstream: Dialect) -> Bridge | None:
    """The bridge for a client dialect over an upstream dialect: a direct one, else two chained through OpenAI
    Chat; None when the dialects are the same (pass-through) or no path exists."""
    if client == upstream:
        return None
    direct = all_bridges().get((client, upstream))
    if direct is not None:
        return direct
    to_hub, from_hub = all_bridges().get((client, HUB)), all_bridges().get((HUB, upstream))
    if to_hub is None or from_hub is None:
        return None
    return compose(to_hub, from_hub)
