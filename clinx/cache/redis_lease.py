"""Leases in Redis (the contract is in ``lease.py``): the key ``<prefix>clinx:lease:<name>`` holds the holder's
id and expires with the lease, on the Redis server's clock, so node clocks need not agree."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

# Take the lease when free (SET NX PX) or extend it when ours (compare-and-renew), atomically; answer the holder.
_ACQUIRE = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return ARGV[1]
end
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
  return ARGV[1]
end
return current
"""

# Compare-and-delete: never remove a lease another node took after ours expired.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisLeases:
    def __init__(self, client: Redis, *, prefix: str = "") -> None:
        self._redis = client
        self._prefix = prefix + "clinx:lease:"
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)

    async def acquire(self, name: str, holder: str, ttl: float) -> str | None:
        ttl_ms = max(1, int(ttl * 1000))
        result: Any = await self._acquire(keys=[self._prefix + name], args=[holder, ttl_ms])
        return _text(result)

    async def release(self, name: str, holder: str) -> None:
        await self._release(keys=[self._prefix + name], args=[holder])

    async def holder(self, name: str) -> str | None:
        return _text(await self._redis.get(self._prefix + name))
