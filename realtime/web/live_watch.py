"""Close a web process's live sockets when Redis stops answering.

While Redis is away the channel layer delivers nothing and says nothing, so an open wall
would keep showing its last values as if they were live until its own 10 s watchdog gave
up. Instead, while a web process has live sockets it pings Redis every second; once
Redis has not answered for DOWN_AFTER seconds it closes them all with 4503 (try again).
The walls then show "Reconnecting…" at once, retry with backoff (refused with 4503 while
Redis is still away) and come back with a fresh snapshot when it answers again.

A Redis restart that takes less than DOWN_AFTER goes unnoticed by the walls: the poller
sends every group a snapshot once Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Protocol

from redis.exceptions import RedisError

from realtime import codes
from realtime.redis_client import async_client

logger = logging.getLogger(__name__)

PING_INTERVAL = 1.0
DOWN_AFTER = 3.0


class LiveSocket(Protocol):
    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None: ...


class _Watch:
    """The sockets of one event loop, and the task that pings Redis while there are any."""

    def __init__(self) -> None:
        self.sockets: set[LiveSocket] = set()
        self.task: asyncio.Task[None] | None = None

    def add(self, socket: LiveSocket) -> None:
        self.sockets.add(socket)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name="live-store-watch")

    async def _run(self) -> None:
        answered = time.monotonic()
        while self.sockets:
            await asyncio.sleep(PING_INTERVAL)
            if await _redis_answers():
                answered = time.monotonic()
            elif time.monotonic() - answered >= DOWN_AFTER:
                await self._close_all()
                answered = time.monotonic()

    async def _close_all(self) -> None:
        sockets, self.sockets = list(self.sockets), set()
        logger.warning("live store unreachable; closing %d live sockets", len(sockets))
        for socket in sockets:
            try:
                await socket.close(code=codes.TRY_AGAIN)
            except Exception:
                logger.info("closing a live socket failed", exc_info=True)


async def _redis_answers() -> bool:
    try:
        async with asyncio.timeout(PING_INTERVAL):
            await async_client().ping()
    except (RedisError, OSError, TimeoutError):
        return False
    return True


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watch]
_watches = weakref.WeakKeyDictionary()


def watch(socket: LiveSocket) -> None:
    """Close `socket` with 4503 if Redis stops answering while it is open."""
    loop = asyncio.get_running_loop()
    current = _watches.get(loop)
    if current is None:
        current = _watches[loop] = _Watch()
    current.add(socket)


def forget(socket: LiveSocket) -> None:
    """Stop watching `socket` (it closed)."""
    current = _watches.get(asyncio.get_running_loop())
    if current is not None:
        current.sockets.discard(socket)
