"""Health of the live path: the database, Redis and the pollers' heartbeats."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import redis
from django.db import connection

from realtime import keys
from realtime.poller.heartbeat import ALIVE_WINDOW_MS

# No poller got a frame tick through for this long (s): walls are not live, whatever the
# heartbeats say (a stopped poller's last heartbeat lingers for a few seconds).
PUBLISH_STALE_AFTER = 5.0

if TYPE_CHECKING:
    pass


def live_pollers(client: redis.Redis) -> dict[str, dict[str, str]]:
    """Return the heartbeat fields of every poller that beat recently, by poller id."""
    since = int(time.time() * 1000) - ALIVE_WINDOW_MS
    ids = [_text(i) for i in client.zrangebyscore(keys.pollers(), since, "+inf")]
    pipe = client.pipeline(transaction=False)
    for poller_id in ids:
        pipe.hgetall(keys.poller(poller_id))
    beats = pipe.execute() if ids else []
    return {
        poller_id: {_text(k): _text(v) for k, v in fields.items()}
        for poller_id, fields in zip(ids, beats, strict=True)
        if fields
    }


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return False
    return True


def published_seconds_ago(client: redis.Redis) -> float | None:
    """Return how long ago a poller last published (its frame tick went through), or
    None when none ever has on this Redis."""
    raw = client.get(keys.published())
    return None if raw is None else max(0.0, time.time() - int(raw) / 1000)


def report(client: redis.Redis) -> dict[str, Any]:
    """Return the health report; `healthy` needs the database, Redis and a live poller
    that has published within PUBLISH_STALE_AFTER."""
    database = database_ok()
    try:
        client.ping()
        pollers = live_pollers(client)
        published = published_seconds_ago(client)
        redis_up = True
    except (redis.RedisError, OSError):
        pollers, published, redis_up = {}, None, False
    publishing = published is not None and published < PUBLISH_STALE_AFTER
    return {
        "healthy": database and redis_up and bool(pollers) and publishing,
        "database": database,
        "redis": redis_up,
        "pollers": pollers,
        "published_s_ago": None if published is None else round(published, 1),
    }


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
