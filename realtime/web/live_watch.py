"""Close a web process's live sockets when Redis stops answering.

While Redis is away the channel layer delivers nothing and says nothing, so an open wall
would keep showing its last values as if they were live until its own 10 s watchdog gave
up. Instead, while a web process has live sockets it pings Redis every second; once
Redis has not answered for DOWN_AFTER seconds it closes them all with 4503 (try again).
The walls then show "Reconnecting…" at once, retry with backoff (refused with 4503 while
Redis is still away) and come back with a fresh snapshot when it answers again.

A shorter blip (a ping missed, or a Redis restart: its run id changed) leaves the walls
open, but whatever was announced meanwhile is lost: a service's receiver could not
publish its `structure` frame, and the layer had no subscription to deliver it on. So
when Redis answers again each open socket tells its wall to re-fetch its tiles (a
`structure` frame for the whole grid); the poller sends every group a snapshot.
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

    async def link_returned(self) -> None: ...


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
        run_id = await _redis_run_id()
        missed = run_id is None
        while self.sockets:
            await asyncio.sleep(PING_INTERVAL)
            current = await _redis_run_id()
            if current is None:
                missed = True
                if time.monotonic() - answered >= DOWN_AFTER:
                    await self._close_all()
                continue
            answered = time.monotonic()
            if missed or current != run_id:
                await self._tell_link_returned()
            missed, run_id = False, current

    async def _tell_link_returned(self) -> None:
        logger.warning("live store back after a blip; walls re-fetch their tiles")
        for socket in list(self.sockets):
            try:
                await socket.link_returned()
            except Exception:
                logger.info("telling a live socket failed", exc_info=True)

    async def _close_all(self) -> None:
        sockets, self.sockets = list(self.sockets), set()
        logger.warning("live store unreachable; closing %d live sockets", len(sockets))
        for socket in sockets:
            try:
                await socket.close(code=codes.TRY_AGAIN)
            except Exception:
                logger.info("closing a live socket failed", exc_info=True)


async def _redis_run_id() -> str | None:
    """Return the answering Redis server's run id (new after a restart), None if none."""
    try:
        async with asyncio.timeout(PING_INTERVAL):
            info = await async_client().info("server")
    except (RedisError, OSError, TimeoutError):
        return None
    return str(info["run_id"])


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
