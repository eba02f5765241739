"""Health of the live path: the database, Redis and the pollers' heartbeats."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import redis
from django.db import connection

from realtime import keys
from realtime.poller.heartbeat import ALIVE_WINDOW_MS

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


def report(client: redis.Redis) -> dict[str, Any]:
    """Return the health report; `healthy` needs the database, Redis and a live poller."""
    database = database_ok()
    try:
        client.ping()
        pollers = live_pollers(client)
        redis_up = True
    except (redis.RedisError, OSError):
        pollers, redis_up = {}, False
    return {
        "healthy": database and redis_up and bool(pollers),
        "database": database,
        "redis": redis_up,
        "pollers": pollers,
    }


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
