"""Everything a node shares through Redis, built from one URL: the cache (wrapped so a Redis outage falls back
to memory), the change notifier and the leases, all on one connection pool and under one key prefix."""

from __future__ import annotations

from dataclasses import dataclass

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from clinx.cache.redis import RedisCache
from clinx.cache.redis_lease import RedisLeases
from clinx.cache.redis_notify import RedisNotifier
from clinx.cache.resilient import ResilientCache

# What a dead, unreachable or overloaded Redis raises through redis-py (refused or dropped connections, no
# answer in time; OSError and TimeoutError cover the socket layer underneath). An error *answer* (a script bug,
# a wrong type) is not an outage and is not hidden behind the fallback.
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)


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
