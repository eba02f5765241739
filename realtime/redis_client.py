"""Redis connections of the live path: one async client per event loop, one sync client.

An asyncio Redis client is bound to the loop that created it, and a web process (or a
test run) can have several loops over its life, so async clients are kept per loop.

With REDIS_SENTINELS set, every client asks the Sentinels for the master of
REDIS_SENTINEL_MASTER before each new connection, so after a failover the first command
that fails on the old master reconnects to the new one. REDIS_URL then gives only the
database number, the credentials and TLS (rediss://); its host and port are not used.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel
import redis.sentinel
from django.conf import settings
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.connection import SSLConnection, parse_url
from redis.exceptions import ConnectionError, TimeoutError
from redis.retry import Retry

# Short timeouts: the live path would rather skip a beat than hang on a dead server.
SOCKET_TIMEOUT = 2.0
CONNECT_TIMEOUT = 2.0

# Connections in a pool die with a Redis restart; without retrying on connection errors
# the first command on each dead connection would fail instead of reconnecting.
RETRY_ON = [ConnectionError, TimeoutError]
RETRIES = 3
# The sync client serves request paths (a committed edit's announcement, the unit page's
# history, /healthz): a frozen Redis must cost a request well under a second, not the
# 2 s x 3 tries of the live path's clients. One retry still rides over a dead pooled
# connection after a Redis restart.
REQUEST_TIMEOUT = 0.5
REQUEST_RETRIES = 1

Address = tuple[str, int]


@dataclass(frozen=True)
class Target:
    """Where the live path's Redis is: REDIS_URL, or the master the Sentinels name."""

    url: str
    sentinels: tuple[Address, ...]  # empty: connect to REDIS_URL itself
    master: str
    sentinel_password: str


def redis_target() -> Target:
    return Target(
        str(settings.REDIS_URL),
        tuple(settings.REDIS_SENTINELS),
        str(settings.REDIS_SENTINEL_MASTER),
        str(settings.REDIS_SENTINEL_PASSWORD),
    )


def master_options(url: str) -> dict[str, Any]:
    """Return what `url` says of a Sentinel-managed master besides its address."""
    parsed = parse_url(url)
    options = {name: parsed[name] for name in ("db", "username", "password") if name in parsed}
    if parsed.get("connection_class") is SSLConnection:
        options["ssl"] = True
    return options


def sentinel_options(password: str) -> dict[str, Any]:
    """Options of the connections to the Sentinels themselves (not to the master)."""
    options: dict[str, Any] = {
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": CONNECT_TIMEOUT,
    }
    if password:
        options["password"] = password
    return options


def layer_host(target: Target) -> str | dict[str, Any]:
    """Return the channel layer's `hosts` entry for `target`, in channels_redis' terms."""
    if not target.sentinels:
        return target.url
    return {
        "sentinels": list(target.sentinels),
        "master_name": target.master,
        "sentinel_kwargs": sentinel_options(target.sentinel_password),
        **master_options(target.url),
    }


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=0.5, base=0.05)


_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Target, aioredis.Redis]]
_async_clients = weakref.WeakKeyDictionary()
_sync_clients: dict[Target, redis.Redis] = {}


def new_async_client() -> aioredis.Redis:
    """Return a new async client (the caller owns it and closes it)."""
    return _new_async_client(redis_target())


def _new_async_client(target: Target) -> aioredis.Redis:
    options: dict[str, Any] = {
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "health_check_interval": 10,
        "retry": AsyncRetry(_backoff(), RETRIES),
        "retry_on_error": RETRY_ON,
    }
    if not target.sentinels:
        return aioredis.Redis.from_url(target.url, **options)
    client: aioredis.Redis = _master_for(redis.asyncio.sentinel.Sentinel, target, options)
    return client


def async_client() -> aioredis.Redis:
    """Return the shared async client of the running loop (for the current settings)."""
    loop = asyncio.get_running_loop()
    target = redis_target()
    cached = _async_clients.get(loop)
    if cached is None or cached[0] != target:
        cached = (target, _new_async_client(target))
        _async_clients[loop] = cached
    return cached[1]


def sync_client() -> redis.Redis:
    """Return the process-wide sync client (thread-safe; used by receivers and views)."""
    target = redis_target()
    client = _sync_clients.get(target)
    if client is None:
        client = _sync_clients[target] = _new_sync_client(target)
    return client


def _new_sync_client(target: Target) -> redis.Redis:
    options: dict[str, Any] = {
        "socket_timeout": REQUEST_TIMEOUT,
        "socket_connect_timeout": REQUEST_TIMEOUT,
        "retry": Retry(_backoff(), REQUEST_RETRIES),
        "retry_on_error": RETRY_ON,
    }
    if not target.sentinels:
        return redis.Redis.from_url(target.url, **options)
    client: redis.Redis = _master_for(redis.sentinel.Sentinel, target, options)
    return client


def _master_for(sentinel_class: Any, target: Target, options: dict[str, Any]) -> Any:
    """Return a client of the master the Sentinels name (sync or async by the class)."""
    sentinel = sentinel_class(
        target.sentinels, sentinel_kwargs=sentinel_options(target.sentinel_password)
    )
    return sentinel.master_for(target.master, **master_options(target.url), **options)
