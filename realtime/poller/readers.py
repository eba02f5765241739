"""One task per owned device: read it through its protocol client, forever.

A device that misbehaves (garbage, a crashing client, a refused connection) only ever
restarts its own task, with backoff; the poller and the other devices carry on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from realtime.poller.clients import ClientFactory
from realtime.poller.device_health import DeviceHealth
from realtime.poller.topology import ChassisInfo
from realtime.protocols.base import DeviceClient, Reading
from realtime.protocols.failures import describe_failure

logger = logging.getLogger(__name__)

RESTART_INITIAL = 1.0
RESTART_MAX = 30.0
UNANSWERED = "not answering"  # offline, and the client could not say why

ReadingSink = Callable[[int, Reading], None]


class DeviceReader:
    """Feeds one device's readings to the poller until stopped."""

    def __init__(
        self, chassis: ChassisInfo, factory: ClientFactory, sink: ReadingSink, poller_id: str = ""
    ) -> None:
        self.chassis = chassis
        self._factory = factory
        self._sink = sink
        self._task: asyncio.Task[None] | None = None
        self.restarts = 0
        self.health = DeviceHealth(poller=poller_id)

    def start(self) -> None:
        name = f"device-{self.chassis.id}"
        self._task = asyncio.create_task(self._run(), name=name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # Wait for the reader to finish without swallowing a cancellation of our own
            # caller, as suppress(CancelledError) around `await task` would.
            await asyncio.wait([task])
            if not task.cancelled():
                task.result()  # a reader that failed on its own still says why

    async def _run(self) -> None:
        delay = RESTART_INITIAL
        while True:
            if await self._read_until_failure():
                delay = RESTART_INITIAL  # it worked for a while: restart promptly
            self.restarts += 1
            await asyncio.sleep(delay)
            delay = min(RESTART_MAX, delay * 2)

    async def _read_until_failure(self) -> bool:
        """Read until the client fails or ends; return True if any reading arrived."""
        client: DeviceClient | None = None
        got_any = False
        try:
            client = self._factory(self.chassis)
            async for reading in client.readings():
                got_any = True
                self._note_health(client, reading)
                self._deliver(reading)
        except Exception as error:
            logger.exception("device %s (%s) failed", self.chassis.id, self.chassis.name)
            self.health.failed(describe_failure(error), time.time())
        finally:
            if client is not None:
                await _close_quietly(client)
        return got_any

    def _note_health(self, client: DeviceClient, reading: Reading) -> None:
        if reading.rx_reachable:
            self.health.answered(reading.timestamp)
        else:
            self.health.failed(client.failure or UNANSWERED, time.time())

    def _deliver(self, reading: Reading) -> None:
        try:
            self._sink(self.chassis.id, reading)
        except Exception:
            # A reading the poller cannot handle is dropped, not the device's stream.
            logger.exception("reading from device %s dropped", self.chassis.id)


async def _close_quietly(client: DeviceClient) -> None:
    try:
        await client.close()
    except Exception:
        logger.info("closing a device client failed", exc_info=True)
