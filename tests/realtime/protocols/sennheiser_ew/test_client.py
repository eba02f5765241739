"""The ew client against the simulated G4 receiver over real loopback UDP sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from realtime.protocols.base import Reading
from realtime.protocols.sennheiser_ew import SennheiserEwClient
from realtime.simulation.sennheiser_ew import SennheiserEwSimulator
from tests.waiting import wait_until_async

FAST: dict[str, Any] = {
    "silence_timeout": 0.5,
    "discovery_timeout": 1.0,
    "reply_window": 0.1,
    "backoff_initial": 0.05,
    "backoff_max": 0.2,
    "unreachable_repeat": 0.3,
    "seed": 1,
}


class Readings:
    """The client's readings, gathered in the background for a test to wait on."""

    def __init__(self, client: SennheiserEwClient) -> None:
        self.queue: asyncio.Queue[Reading] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump(client))

    async def _pump(self, client: SennheiserEwClient) -> None:
        async with contextlib.aclosing(client.readings()) as readings:
            async for reading in readings:
                self.queue.put_nowait(reading)

    async def until(self, predicate: Callable[[Reading], bool], what: str) -> Reading:
        async def next_match() -> Reading | None:
            reading = await self.queue.get()
            return reading if predicate(reading) else None

        return await wait_until_async(next_match, 3.0, what, interval=0)


@pytest.fixture
async def sim() -> AsyncIterator[SennheiserEwSimulator]:
    simulator = SennheiserEwSimulator(name="VOX 1", frequency_khz=606_200, seed=3)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def client(sim: SennheiserEwSimulator) -> AsyncIterator[SennheiserEwClient]:
    ew = SennheiserEwClient(sim.host, sim.port, **FAST)
    yield ew
    await ew.close()


@pytest.fixture
async def readings(client: SennheiserEwClient) -> AsyncIterator[Readings]:
    gathered = Readings(client)
    yield gathered
    gathered.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await gathered.task


async def test_discovery_learns_the_name_and_frequency(sim, client):
    info = await client.discover()
    assert info == sim.device_info()
    assert info.channels[0].name == "VOX 1"
    assert info.channels[0].frequency_khz == 606_200


async def test_it_subscribes_and_shows_rf_audio_battery_name_and_frequency(sim, readings):
    reading = await readings.until(
        lambda r: r.rf_a_dbm is not None and r.channel_name is not None, "a full live reading"
    )
    assert reading.rx_reachable
    assert reading.tx_on is True
    assert reading.channel_name == "VOX 1"
    assert reading.frequency_khz == 606_200
    assert reading.battery_percent == 100
    assert reading.battery_bars == 5
    assert reading.antenna in ("A", "B")
    assert any(c.startswith("Push 60 100 7") for c in sim.commands_heard)
    assert sim.subscribers == 1


async def test_battery_mute_and_power_changes_show_up(sim, readings):
    await readings.until(lambda r: r.battery_bars == 5, "a full battery")
    sim.set_battery(1, percent=5)
    await readings.until(lambda r: r.battery_percent == 0 and r.battery_bars == 1, "a low battery")
    sim.set_tx_muted(True)
    await readings.until(lambda r: r.tx_muted is True, "the transmitter muted")
    sim.set_tx_power(1, on=False)
    off = await readings.until(lambda r: r.tx_on is False, "the transmitter off")
    assert off.battery_percent is None
    assert off.rf_a_dbm is None
    sim.set_tx_power(1, on=True)
    await readings.until(lambda r: r.tx_on is True and r.rf_a_dbm is not None, "it back on")


async def test_a_rename_whose_push_was_lost_is_fetched_by_its_config_index(sim, readings):
    await readings.until(lambda r: r.channel_name == "VOX 1", "the first name")
    sim.set_name("GTR 2", announce=False)  # the receiver's own push never arrives
    await readings.until(lambda r: r.channel_name == "GTR 2", "the new name")


async def test_silence_means_unreachable_and_it_recovers(sim, readings):
    await readings.until(lambda r: r.rf_a_dbm is not None, "live readings")
    sim.set_reachable(False)
    down = await readings.until(lambda r: not r.rx_reachable, "the receiver unreachable")
    assert down.channel_name == "VOX 1"
    assert down.rf_a_dbm is None
    sim.set_reachable(True)
    await readings.until(lambda r: r.rx_reachable and r.rf_a_dbm is not None, "it back")


async def test_close_tells_the_receiver_to_stop_pushing(sim, client, readings):
    await readings.until(lambda r: r.rf_a_dbm is not None, "live readings")
    await client.close()
    await wait_until_async(lambda: sim.subscribers == 0, 2.0, "no subscriber left")
    assert "Push 0 0 0" in sim.commands_heard
