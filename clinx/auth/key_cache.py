"""Cache keys of the relay's cached API keys and their owners, and their invalidation: any change to a token
(or to a key owner) must drop its cache entry."""

from __future__ import annotations

import hashlib

from clinx.cache.base import Cache


def cache_key(key: str) -> str:
    """The key is stored hashed: whoever can read the cache (Redis) still cannot recover API keys."""
    return "token:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def user_cache_key(user_id: int) -> str:
    return f"user:{user_id}"


async def forget_key(cache: Cache, key: str) -> None:
    await cache.delete(cache_key(key))


async def forget_user(cache: Cache, user_id: int) -> None:
    await cache.delete(user_cache_key(user_id))
