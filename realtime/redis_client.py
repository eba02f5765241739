"""Redis connections of the live path: one async client per event loop, one sync client.

An asyncio Redis client is bound to the loop that created it, and a web process (or a
test run) can have several loops over its life, so async clients are kept per loop.
"""

from __future__ import annotations

import asyncio
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError
from redis.retry import Retry

# Short timeouts: the live path would rather skip a beat than hang on a dead server.
SOCKET_TIMEOUT = 2.0
CONNECT_TIMEOUT = 2.0

# Connections in a pool die with a Redis restart; without retrying on connection errors
# the first command on each dead connection would fail instead of reconnecting.
RETRY_ON = [ConnectionError, TimeoutError]
RETRIES = 3


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=0.5, base=0.05)


_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, aioredis.Redis]]
_async_clients = weakref.WeakKeyDictionary()
_sync_clients: dict[str, redis.Redis] = {}


def redis_url() -> str:
    return str(settings.REDIS_URL)


def new_async_client(url: str | None = None) -> aioredis.Redis:
    """Return a new async client (the caller owns it and closes it)."""
    return aioredis.Redis.from_url(
        url or redis_url(),
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=CONNECT_TIMEOUT,
        health_check_interval=10,
        retry=AsyncRetry(_backoff(), RETRIES),
        retry_on_error=RETRY_ON,
    )


def async_client() -> aioredis.Redis:
    """Return the shared async client of the running loop (for the current REDIS_URL)."""
    loop = asyncio.get_running_loop()
    url = redis_url()
    cached = _async_clients.get(loop)
    if cached is None or cached[0] != url:
        cached = (url, new_async_client(url))
        _async_clients[loop] = cached
    return cached[1]


def sync_client() -> redis.Redis:
    """Return the process-wide sync client (thread-safe; used by receivers and views)."""
    url = redis_url()
    client = _sync_clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=CONNECT_TIMEOUT,
            retry=Retry(_backoff(), RETRIES),
            retry_on_error=RETRY_ON,
        )
        _sync_clients[url] = client
    return client
