"""Simulators on loopback, clients with short timeouts, and a reading stream to wait on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from realtime.protocols.base import Reading
from realtime.protocols.shure_tcp import ShureTcpClient
from realtime.simulation.shure_tcp import ShureTcpSimulator
from tests.waiting import wait_until_async

FAST: dict[str, Any] = {
    "silence_timeout": 0.5,
    "connect_timeout": 1.0,
    "discovery_timeout": 1.0,
    "reply_window": 0.1,
    "backoff_initial": 0.05,
    "backoff_max": 0.2,
    "unreachable_repeat": 0.5,
    "seed": 1,
}

StartSim = Callable[..., Awaitable[ShureTcpSimulator]]
OpenClient = Callable[..., ShureTcpClient]


class ReadingStream:
    """Run `client.readings()` in the background so a test can wait for what it expects."""

    def __init__(self, client: ShureTcpClient) -> None:
        self.queue: asyncio.Queue[Reading] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump(client))

    async def _pump(self, client: ShureTcpClient) -> None:
        async with contextlib.aclosing(client.readings()) as readings:
            async for reading in readings:
                self.queue.put_nowait(reading)

    async def until(
        self, predicate: Callable[[Reading], bool], what: str, *, within: float = 3.0
    ) -> Reading:
        """Return the first reading that satisfies `predicate` (described by `what`)."""

        async def next_match() -> Reading | None:
            reading = await self.queue.get()
            return reading if predicate(reading) else None

        return await wait_until_async(next_match, within, what, interval=0)

    async def all_channels(
        self,
        channels: int,
        predicate: Callable[[Reading], bool],
        what: str,
        *,
        within: float = 3.0,
    ) -> dict[int, Reading]:
        """Return, per channel, the first reading that satisfies `predicate`."""
        seen: dict[int, Reading] = {}

        async def every_channel() -> bool:
            reading = await self.queue.get()
            if predicate(reading):
                seen.setdefault(reading.channel, reading)
            return len(seen) == channels

        await wait_until_async(every_channel, within, f"{what} on {channels} channels", interval=0)
        return seen

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@pytest.fixture
async def start_sim() -> AsyncIterator[StartSim]:
    sims: list[ShureTcpSimulator] = []

    async def start(model: str = "ULXD4Q", **options: Any) -> ShureTcpSimulator:
        sim = ShureTcpSimulator(model, **options)
        await sim.start()
        sims.append(sim)
        return sim

    yield start
    for sim in sims:
        await sim.stop()


@pytest.fixture
async def open_client() -> AsyncIterator[OpenClient]:
    clients: list[ShureTcpClient] = []

    def make(sim: ShureTcpSimulator, **options: Any) -> ShureTcpClient:
        client = ShureTcpClient(sim.host, sim.port, **{**FAST, **options})
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def streams() -> AsyncIterator[Callable[[ShureTcpClient], ReadingStream]]:
    started: list[ReadingStream] = []

    def stream(client: ShureTcpClient) -> ReadingStream:
        started.append(ReadingStream(client))
        return started[-1]

    yield stream
    for reading_stream in started:
        await reading_stream.stop()
