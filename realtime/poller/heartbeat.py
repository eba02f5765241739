"""The poller's heartbeat: a hash with a TTL, plus a sorted set of live pollers.

`{p}:poller:{id}` carries the numbers `live_status` and `/healthz` show; `{p}:pollers`
scores each poller by its last beat (ms), which is how pollers count each other to
share the devices fairly. `{p}:published` is when a poller last got a frame tick through
(Unix ms): it outlives a stopped poller's heartbeat, so `/healthz` can say how long ago.
"""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from realtime import keys

ALIVE_WINDOW_MS = 3500  # a poller that has not beaten for this long is presumed dead
FORGET_AFTER_MS = 60_000


async def beat(
    redis: aioredis.Redis,
    poller_id: str,
    fields: dict[str, str],
    ttl_ms: int,
    *,
    published_at: float,
) -> int:
    """Publish one heartbeat; return how many pollers are alive (this one included)."""
    now_ms = int(time.time() * 1000)
    # Tasks still alive in this loop: a count that only grows is a leak (bench/soak.py).
    fields = {**fields, "tasks": str(len(asyncio.all_tasks()))}
    pipe = redis.pipeline(transaction=False)
    pipe.hset(keys.poller(poller_id), mapping=fields)  # type: ignore[arg-type]
    pipe.pexpire(keys.poller(poller_id), ttl_ms)
    pipe.zadd(keys.pollers(), {poller_id: now_ms})
    if published_at:
        pipe.set(keys.published(), int(published_at * 1000))
    pipe.zremrangebyscore(keys.pollers(), "-inf", now_ms - FORGET_AFTER_MS)
    pipe.zcount(keys.pollers(), now_ms - ALIVE_WINDOW_MS, "+inf")
    results = await pipe.execute()
    return int(results[-1])


async def retire(redis: aioredis.Redis, poller_id: str) -> None:
    """Remove this poller's heartbeat at a clean shutdown."""
    pipe = redis.pipeline(transaction=False)
    pipe.delete(keys.poller(poller_id))
    pipe.zrem(keys.pollers(), poller_id)
    await pipe.execute()
