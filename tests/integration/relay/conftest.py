"""Relay fixtures: a mock provider, the gateway on 127.0.0.1 with a channel to it, a funded user and key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.support.app import Session
from tests.support.gateway import Gateway, serving
from tests.support.mock_provider import MockProvider

MOCK_BEHAVIOURS = (
    "mock-cut",
    "mock-nousage",
    "mock-error-500",
    "mock-error-401",
    "mock-error-400",
    "mock-error-429",
    "mock-slow",
    "mock-tool",
    "mock-cached",
)
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
RATIOS: dict[str, float] = {
    "gpt-4o-mini": 0.075,
    "gpt-4o": 1.25,
    "text-embedding-3-small": 0.01,
    "tts-1": 7.5,
    "whisper-1": 15,
    "omni-moderation-latest": 0.1,
    "gpt-3.5-turbo-instruct": 0.75,
    **{name: 1.0 for name in MOCK_BEHAVIOURS},
}
MODELS = ",".join([*RATIOS, "dall-e-3"])


@dataclass
class RelayEnv:
    gateway: Gateway
    mock: MockProvider
    user: Session
    key: str
    channel_id: int

    def sdk(self, key: str | None = None, **kw: Any) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.gateway.base_url + "/v1", api_key=key or self.key, max_retries=0, **kw)

    async def user_quota(self) -> int:
        me = (await self.user.get("/api/user/self")).json()["data"]
        return int(me["quota"])


@pytest.fixture
async def mock() -> AsyncIterator[MockProvider]:
    async with MockProvider() as provider:
        yield provider


@pytest.fixture
async def relay_env(sqlite_db: str, mock: MockProvider) -> AsyncIterator[RelayEnv]:
    async with serving(sqlite_db) as gateway:
        await gateway.set_option("ModelRatio", orjson.dumps(RATIOS).decode())
        channel_id = await gateway.add_channel("mock-main", mock.base_url, MODELS)
        user = await gateway.add_user("alice", quota=1_000_000)
        key = await gateway.add_key(user)
        yield RelayEnv(gateway, mock, user, key, channel_id)
        await user.client.aclose()
