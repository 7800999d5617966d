"""Redis cache backend (REDIS_CONN_STRING), shared by every worker and node."""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

# Subtract only when the stored value covers the amount; one round trip, atomic on the server.
_DECR_IF_ENOUGH = """
local v = redis.call('GET', KEYS[1])
if not v then return nil end
if tonumber(v) < tonumber(ARGV[1]) then return nil end
return redis.call('DECRBY', KEYS[1], ARGV[1])
"""

# INCRBY and set the expiry only when the key was created by this call (an existing key, even one holding 0
# without an expiry, keeps its own).
_INCR_WITH_TTL = """
local existed = redis.call('EXISTS', KEYS[1])
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return v
"""

# Sliding-window log (newest first): refuse when the limit-th newest time is still inside the window; otherwise
# log ``now`` when asked, keep the newest ``limit`` and expire the list a window after the last event.
_HIT_WINDOW = """
local limit = tonumber(ARGV[2])
if redis.call('LLEN', KEYS[1]) >= limit then
  local oldest = tonumber(redis.call('LINDEX', KEYS[1], limit - 1))
  if oldest and tonumber(ARGV[1]) - oldest < tonumber(ARGV[3]) then return 0 end
end
if ARGV[4] == '1' then
  redis.call('LPUSH', KEYS[1], ARGV[1])
  redis.call('LTRIM', KEYS[1], 0, limit - 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return 1
"""


# Seconds. Every command is O(1) (or a short Lua script), so an answer slower than this means Redis is in trouble.
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0


class RedisCache:
    name = "redis"

    def __init__(self, client: Redis, *, prefix: str = "") -> None:
        self._redis = client
        self._prefix = prefix
        self._decr_if_enough = client.register_script(_DECR_IF_ENOUGH)
        self._incr_with_ttl = client.register_script(_INCR_WITH_TTL)
        self._hit_window = client.register_script(_HIT_WINDOW)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        pool_size: int = 10,
        prefix: str = "",
        wait: float = 20,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> RedisCache:
        """A client whose pool makes callers wait (up to ``wait`` seconds) for a free connection when all
        ``pool_size`` are busy; the plain pool would fail the request with "Too many connections" instead.

        Connect and read timeouts are short so that a dead or unreachable Redis fails a call quickly (and the
        node falls back to its own memory, see ``resilient.py``) instead of stalling the relay's hot path."""
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max(pool_size, 10),
            timeout=wait,
            socket_connect_timeout=connect_timeout,
            socket_timeout=read_timeout,
        )
        return cls(Redis.from_pool(pool), prefix=prefix)

    @property
    def client(self) -> Redis:
        """The underlying client, shared with the change notifier and the leader lease of the same node."""
        return self._redis

    @property
    def prefix(self) -> str:
        return self._prefix

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> bytes | None:
        return cast("bytes | None", await self._redis.get(self._k(key)))

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        if ttl is None:
            await self._redis.set(self._k(key), value)
        else:
            await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._redis.delete(*(self._k(k) for k in keys)))

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        ttl_ms = 0 if ttl is None else max(1, int(ttl * 1000))
        result: Any = await self._incr_with_ttl(keys=[self._k(key)], args=[amount, ttl_ms])
        return int(result)

    async def decr_if_enough(self, key: str, amount: int) -> int | None:
        result: Any = await self._decr_if_enough(keys=[self._k(key)], args=[amount])
        return None if result is None else int(result)

    async def hit_window(self, key: str, now: float, limit: int, window: float, *, record: bool = True) -> bool:
        window_ms = max(1, int(window * 1000))
        args: list[str | int] = [repr(float(now)), limit, repr(float(window)), "1" if record else "0", window_ms]
        result: Any = await self._hit_window(keys=[self._k(key)], args=args)
        return int(result) == 1

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()
