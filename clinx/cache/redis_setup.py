"""Everything a node shares through Redis, built from one URL: the cache (wrapped so a Redis outage falls back
to memory), the change notifier and the leases, all on one connection pool and under one key prefix."""

from __future__ import annotations

from dataclasses import dataclass

from redis.exceptions import RedisError

from clinx.cache.redis import RedisCache
from clinx.cache.redis_lease import RedisLeases
from clinx.cache.redis_notify import RedisNotifier
from clinx.cache.resilient import ResilientCache

# What a dead, unreachable or overloaded Redis raises through redis-py (timeouts and refused connections are
# RedisError subclasses; OSError and TimeoutError cover the socket layer underneath).
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True)
class RedisCoordination:
    cache: ResilientCache
    notifier: RedisNotifier
    leases: RedisLeases


def connect(url: str, *, node_id: str, pool_size: int = 10, prefix: str = "") -> RedisCoordination:
    redis_cache = RedisCache.from_url(url, pool_size=pool_size, prefix=prefix)
    return RedisCoordination(
        cache=ResilientCache(redis_cache, errors=REDIS_FAILURES),
        notifier=RedisNotifier(redis_cache.client, node_id, prefix=prefix),
        leases=RedisLeases(redis_cache.client, prefix=prefix),
    )
