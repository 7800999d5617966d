"""The typed state every route and background job shares; built once in ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field

from clinx import __version__
from clinx.auth.sessions import SessionSigner
from clinx.cache.base import Cache
from clinx.cluster.node import Cluster
from clinx.config.live import LiveOptions
from clinx.config.settings import Settings
from clinx.core.clock import Clock
from clinx.relay.pipeline import Relay
from clinx.routing.index import ChannelIndex
from clinx.store.engine import Databases


@dataclass
class AppState:
    settings: Settings
    dbs: Databases
    cache: Cache
    options: LiveOptions
    sessions: SessionSigner
    clock: Clock
    start_time: int
    index: ChannelIndex
    relay: Relay
    cluster: Cluster
    version: str = field(default=f"v{__version__}")
