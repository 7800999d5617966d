"""What one relay request carries through the pipeline."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clinx.core.types import ChannelInfo, Price, TokenInfo, UserInfo
from clinx.relay.convert.base import Bridge, Dialect
from clinx.relay.endpoints import CLIENT_DIALECT, Endpoint
from clinx.store.repos.wallet import Account


@dataclass
class RelayRequest:
    """The inbound call, parsed only as far as routing and billing need."""

    endpoint: Endpoint
    model: str
    body: dict[str, Any] | None
    form: list[tuple[str, Any]] | None
    stream: bool
    client_ip: str
    request_id: str
    raw_key: str = ""
    playground_user_id: int = 0
    playground_group: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    received: float = field(default_factory=time.monotonic)

    @property
    def dialect(self) -> Dialect:
        """The dialect the caller speaks (and is answered in, errors included)."""
        return CLIENT_DIALECT.get(self.endpoint, Dialect.OPENAI_CHAT)


@dataclass
class RelayContext:
    request: RelayRequest
    token: TokenInfo | None
    user: UserInfo
    group: str
    price: Price
    account: Account
    reserved: int = 0
    pinned: bool = False
    started: float = field(default_factory=time.monotonic)
    upstream_started: float = 0.0
    first_byte: float = 0.0
    channel: ChannelInfo | None = None
    upstream_model: str = ""
    prompt_estimate: int = 0
    tried: list[int] = field(default_factory=list)
    upstream_dialect: Dialect | None = None
    bridge: Bridge | None = None
    upstream_stream: bool = False

    @property
    def model(self) -> str:
        return self.request.model
