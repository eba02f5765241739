"""Start real EW-DX simulators on loopback (TLS from a trustme CA) and clients against them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from realtime.protocols.base import Reading
from realtime.protocols.sennheiser_ssc.client import SennheiserSscClient
from realtime.simulation.sennheiser_ssc.simulator import SennheiserSscSimulator
from tests.waiting import wait_until_async

PASSWORD = "Stage-Left-42!"


class ReadingFeed:
    """Consume a client's readings() in the background and let a test wait on them."""

    def __init__(self, client: SennheiserSscClient) -> None:
        self.queue: asyncio.Queue[Reading | BaseException] = asyncio.Queue()
        self.task = asyncio.create_task(self._run(client))

    async def _run(self, client: SennheiserSscClient) -> None:
        try:
            async for reading in client.readings():
                self.queue.put_nowait(reading)
        except Exception as error:
            self.queue.put_nowait(error)

    async def next(self, within: float = 5.0) -> Reading:
        """Return the next reading, raising what readings() raised."""
        return await wait_until_async(self._take, within, "a reading", interval=0)

    async def until(
        self, predicate: Callable[[Reading], bool], what: str, *, within: float = 5.0
    ) -> Reading:
        """Return the first reading that satisfies `predicate` (described by `what`)."""

        async def next_match() -> Reading | None:
            reading = await self._take()
            return reading if predicate(reading) else None

        return await wait_until_async(next_match, within, what, interval=0)

    async def channels_until(
        self,
        predicate: Callable[[Reading], bool],
        channels: set[int],
        what: str,
        *,
        within: float = 5.0,
    ) -> None:
        """Wait until every listed channel has produced a reading that satisfies `predicate`."""
        seen: set[int] = set()

        async def every_channel() -> bool:
            reading = await self._take()
            if predicate(reading):
                seen.add(reading.channel)
            return seen == channels

        await wait_until_async(every_channel, within, f"{what} on channels {channels}", interval=0)

    async def _take(self) -> Reading:
        item = await self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    async def none_within(self, predicate: Callable[[Reading], bool], seconds: float) -> None:
        """Assert that no matching reading arrives for `seconds` (a silence check)."""
        try:
            async with asyncio.timeout(seconds):
                while True:
                    reading = await self._take()
                    assert not predicate(reading), f"unexpected reading {reading}"
        except TimeoutError:
            return

    async def stop(self) -> None:
        """Stop consuming."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def start_simulator():
    """Start simulators (fast pushes by default) and stop them after the test."""
    started: list[SennheiserSscSimulator] = []

    async def start(model: str = "EW-DX EM 4 DANTE", **options) -> SennheiserSscSimulator:
        options.setdefault("push_interval", 0.05)
        simulator = SennheiserSscSimulator(model, password=PASSWORD, **options)
        await simulator.start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        await simulator.stop()


@pytest.fixture
async def connect():
    """Build clients with short timeouts that trust a simulator's CA, and close them after."""
    clients: list[SennheiserSscClient] = []

    def make(simulator: SennheiserSscSimulator, **options) -> SennheiserSscClient:
        settings = {
            "password": PASSWORD,
            "verify": simulator.client_ssl_context(),
            "silence_timeout": 0.5,
            "request_timeout": 0.5,
            "backoff_initial": 0.05,
            "backoff_max": 0.3,
            **options,
        }
        client = SennheiserSscClient(simulator.host, simulator.port, **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def feed(connect):
    """Consume clients' readings in the background; stopped before the clients close."""
    feeds: list[ReadingFeed] = []

    def start(client: SennheiserSscClient) -> ReadingFeed:
        feeds.append(ReadingFeed(client))
        return feeds[-1]

    yield start
    for reading_feed in feeds:
        await reading_feed.stop()
