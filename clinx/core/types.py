"""Frozen value types shared across layers: usage counts and the price of a model for one request."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    """Token counts of one call. ``prompt_tokens`` includes cached and cache-write tokens (OpenAI's convention;
    Claude's usage is normalised to it by its adaptor)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Price:
    """Everything needed to turn a Usage into quota. ``model_price`` (USD per call) wins over the ratios."""

    model_ratio: float = 0.0
    completion_ratio: float = 1.0
    cache_ratio: float = 1.0
    create_cache_ratio: float = 1.25
    group_ratio: float = 1.0
    model_price: float | None = None

    @property
    def per_call(self) -> bool:
        return self.model_price is not None

    @property
    def free(self) -> bool:
        if self.group_ratio == 0:
            return True
        return self.model_price == 0 if self.per_call else self.model_ratio == 0


@dataclass(frozen=True)
class ChannelInfo:
    """What the relay needs of a channel, parsed once when the channel index is built."""

    id: int
    type: int
    name: str
    key: str
    base_url: str
    group: str
    priority: int
    weight: int
    status: int = 1
    auto_ban: bool = True
    other: str = ""
    organization: str = ""
    test_model: str = ""
    model_mapping: tuple[tuple[str, str], ...] = ()
    status_code_mapping: tuple[tuple[int, int], ...] = ()
    param_override: str = ""
    header_override: tuple[tuple[str, str], ...] = ()
    system_prompt: str = ""
    system_prompt_override: bool = False
    thinking_to_content: bool = False
    pass_through_body: bool = False
    models: tuple[str, ...] = ()

    def keys(self) -> list[str]:
        """The channel's keys: one per line (multi-key channels), except a JSON object (a cloud credential such
        as a service-account file, one key however it is laid out) or a JSON array of such keys."""
        text = self.key.strip()
        if text.startswith(("{", "[")):
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if isinstance(value, dict):
                return [text]
            if isinstance(value, list) and value:
                return [item if isinstance(item, str) else json.dumps(item) for item in value]
        return [k.strip() for k in self.key.splitlines() if k.strip()] or [self.key]


@dataclass(frozen=True)
class TokenInfo:
    """An API key as the relay sees it (cached; quota is authoritative only in the store)."""

    id: int
    user_id: int
    key: str
    name: str
    status: int
    expired_time: int
    remain_quota: int
    unlimited_quota: bool
    model_limits: frozenset[str] | None
    allow_ips: tuple[str, ...]
    group: str


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    group: str
    status: int
    role: int
    quota: int
    setting: str = ""
