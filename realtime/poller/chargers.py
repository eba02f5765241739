"""Read every networked charger and keep its bays in Redis for the Chargers page.

Chargers are few and report only on change: one ShureChargerClient task per charger of
the poller's topology, which the poller re-reads on every inventory event, so a charger
added or removed in the admin is read or let go within a second. Every poller reads
every charger: there are no leases for chargers yet, so with several pollers a charger has several
readers (how many connections a charger takes is not in what we read; docs/devices.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from realtime import keys
from realtime.protocols.shure_charger import Bay, ShureChargerClient

logger = logging.getLogger(__name__)

Address = tuple[str, int]
REACHABILITY_CHECK = 1.0  # seconds


@dataclass
class ChargerState:
    """What the Chargers page shows of one charger."""

    online: bool = False
    failure: str | None = None
    bays: dict[int, Bay] = field(default_factory=dict)

    def to_json(self) -> bytes:
        bays = [dataclasses.asdict(self.bays[n]) for n in sorted(self.bays)]
        return orjson.dumps({"online": self.online, "failure": self.failure, "bays": bays})


def decode_state(raw: bytes | str) -> ChargerState:
    data = orjson.loads(raw)
    bays = {bay["bay"]: Bay(**bay) for bay in data.get("bays", [])}
    return ChargerState(bool(data.get("online")), data.get("failure"), bays)


class ChargerWatch:
    """One reader per charger of the topology; `follow` starts and stops them."""

    def __init__(self, redis: Redis, on_bay: Callable[[int, Bay], None]) -> None:
        self.redis = redis
        self._on_bay = on_bay  # every changed bay, for following its pack
        self._readers: dict[int, tuple[Address, asyncio.Task[None]]] = {}

    async def follow(self, wanted: dict[int, Address]) -> None:
        """Read exactly these chargers (a moved, removed or failed reader is restarted)."""
        for charger_id, (address, task) in list(self._readers.items()):
            if wanted.get(charger_id) != address or task.done():
                await self._stop(charger_id)
        for charger_id, address in wanted.items():
            if charger_id not in self._readers:
                task = asyncio.create_task(self._read(charger_id, *address))
                self._readers[charger_id] = (address, task)

    async def close(self) -> None:
        for charger_id in list(self._readers):
            await self._stop(charger_id)

    async def _stop(self, charger_id: int) -> None:
        _, task = self._readers.pop(charger_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(RedisError):  # Redis away: the bays expire with the poller
            await self.redis.hdel(keys.charger_bays(), str(charger_id))

    async def _read(self, charger_id: int, host: str, port: int) -> None:
        client = ShureChargerClient(host, port)
        state = ChargerState()
        watcher = asyncio.create_task(self._watch_reachability(client, charger_id, state))
        try:
            async with contextlib.aclosing(client.bays()) as bays:
                async for bay in bays:
                    state.bays[bay.bay] = bay
                    self._on_bay(charger_id, bay)
                    state.online, state.failure = True, None
                    await self._write(charger_id, state)
        finally:
            watcher.cancel()
            await client.close()

    async def _watch_reachability(
        self, client: ShureChargerClient, charger_id: int, state: ChargerState
    ) -> None:
        """The client yields nothing while it reconnects: note a loss (and why) each second."""
        while True:
            await asyncio.sleep(REACHABILITY_CHECK)
            if client.reachable != state.online:
                state.online, state.failure = client.reachable, client.failure
                await self._write(charger_id, state)

    async def _write(self, charger_id: int, state: ChargerState) -> None:
        """Write the bays; with Redis away, skip (the next change writes them whole)."""
        try:
            await self.redis.hset(keys.charger_bays(), str(charger_id), state.to_json())
        except RedisError as error:
            logger.debug("charger %s: bays not written: %r", charger_id, error)
