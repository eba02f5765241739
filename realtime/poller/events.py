"""Listening on `{p}:events` for committed domain changes (published by receivers)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from micboard.events import REACTIONS, EventKind
from realtime import keys

logger = logging.getLogger(__name__)

RETRY_DELAY = 1.0
POLL_TIMEOUT = 1.0  # below the client's socket timeout, so an idle channel is no error


async def listen(
    redis: aioredis.Redis,
    on_change: Callable[[dict[str, Any]], None],
    on_subscribed: Callable[[], None],
) -> None:
    """Call `on_change` per change, forever; `on_subscribed` after every (re)subscribe,
    since changes published while unsubscribed are lost."""
    while True:
        try:
            await _follow(redis, on_change, on_subscribed)
        except (RedisError, OSError):
            logger.info("events channel lost; resubscribing", exc_info=True)
        await asyncio.sleep(RETRY_DELAY)


async def _follow(
    redis: aioredis.Redis,
    on_change: Callable[[dict[str, Any]], None],
    on_subscribed: Callable[[], None],
) -> None:
    async with redis.pubsub() as pubsub:
        await pubsub.subscribe(keys.events())
        on_subscribed()
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_TIMEOUT)
            if message is not None:
                on_change(_decode(message["data"]))


def _decode(data: bytes) -> dict[str, Any]:
    try:
        change = orjson.loads(data)
    except orjson.JSONDecodeError:
        return {}
    return change if isinstance(change, dict) else {}


def refreshes_topology(kind: Any) -> bool:
    """Tell whether a change of this kind may move units between groups; a kind this
    poller does not know (a newer web process) is taken to, as reloading is always safe."""
    try:
        return REACTIONS[EventKind(kind)].refreshes_topology
    except ValueError:
        return True
