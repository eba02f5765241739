"""Discovery as the poller runs it: hear, probe what is new, remember, re-match moves.

Every announcement updates its receiver's last-seen time; an address not probed in the
last `reprobe_after` seconds is probed (a few at a time, never on the poller's hot path),
and a probed receiver whose serial is already added somewhere else is moved to where it
was heard (`InventoryService.readdress_device`), so a receiver that changed address keeps
its units and assignments. Addresses the poller already reads are not probed again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from micboard.services.inventory import InventoryService
from realtime.discovery import listen, slp
from realtime.discovery.found import FoundDevice, FoundRegistry, Sighting
from realtime.discovery.probe import ProbeFailed, probe_device
from realtime.poller.database import run_db

logger = logging.getLogger(__name__)

KnownAddress = Callable[[Sighting], bool]
PROBES_AT_ONCE = 4
REPROBE_AFTER = 300.0
REPROBE_FAILED_AFTER = 30.0  # a receiver still booting answers a little later
TOUCH_EVERY = 10.0  # how often a receiver that keeps announcing refreshes its last-seen
FORGET_EVERY = 60.0


class Discovery:
    """Runs the listeners and the probes; see the module docstring."""

    def __init__(
        self,
        redis_client: aioredis.Redis,
        is_known: KnownAddress,
        *,
        slp_port: int = slp.SLP_PORT,
        interfaces: Sequence[str] = (),
        reprobe_after: float = REPROBE_AFTER,
    ) -> None:
        self.registry = FoundRegistry(redis_client)
        self._is_known = is_known
        self._slp_port = slp_port
        self._interfaces = interfaces
        self._reprobe_after = reprobe_after
        self._queue: asyncio.Queue[Sighting] = asyncio.Queue(maxsize=1000)
        self._handled_at: dict[str, float] = {}

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(
                listen.listen_slp(self.sighted, port=self._slp_port, interfaces=self._interfaces)
            )
            tasks.create_task(listen.browse_mdns(self.sighted, interfaces=self._interfaces))
            tasks.create_task(self._forget_loop())
            for _ in range(PROBES_AT_ONCE):
                tasks.create_task(self._work())

    def sighted(self, sighting: Sighting) -> None:
        """Take one announcement (from a listener's callback, on the event loop)."""
        now = time.monotonic()
        if now - self._handled_at.get(sighting.address_key, -TOUCH_EVERY) < TOUCH_EVERY:
            return  # announcements come in bursts (one per interface, one per ask)
        if self._is_known(sighting):
            return
        self._handled_at[sighting.address_key] = now
        if self._queue.full():
            logger.warning("discovery: too many announcements at once; %s dropped", sighting)
            return
        self._queue.put_nowait(sighting)

    async def _work(self) -> None:
        while True:
            sighting = await self._queue.get()
            try:
                await self._handle(sighting)
            except (RedisError, OSError):
                logger.warning("discovery: could not record %s", sighting, exc_info=True)
            except Exception:
                logger.exception("discovery: %s failed", sighting)

    async def _handle(self, sighting: Sighting) -> None:
        now = time.time()
        known = await self.registry.get(sighting)
        if known is not None and now - known.probed_at < self._reprobe_wait(known):
            await self.registry.put(replace(known, sighting=sighting, last_seen=now))
            return
        found = await self._probe(sighting, now, known)
        await self.registry.put(found)
        if found.info is not None:
            moved = await run_db(InventoryService.readdress_device, found.info)
            if moved is not None:
                logger.warning("discovery: %s moved to %s:%s", moved, moved.host, moved.port)

    def _reprobe_wait(self, known: FoundDevice) -> float:
        return self._reprobe_after if known.info is not None else REPROBE_FAILED_AFTER

    async def _probe(
        self, sighting: Sighting, now: float, known: FoundDevice | None
    ) -> FoundDevice:
        first_seen = known.first_seen if known is not None else now
        try:
            info = await probe_device(sighting.protocol, sighting.host, sighting.port)
        except ProbeFailed as failure:
            return FoundDevice(sighting, first_seen, now, time.time(), problem=str(failure))
        return FoundDevice(sighting, first_seen, now, time.time(), info=info)

    async def _forget_loop(self) -> None:
        while True:
            await asyncio.sleep(FORGET_EVERY)
            try:
                await self.registry.forget_silent()
            except (RedisError, OSError):
                logger.info("discovery: could not prune the found list", exc_info=True)
