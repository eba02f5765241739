"""The SSCv1 client against the simulated EM 6000 over real loopback UDP sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from realtime.protocols.base import Reading
from realtime.protocols.sennheiser_ssc1 import SennheiserSsc1Client
from realtime.simulation.sennheiser_ssc1 import SennheiserSsc1Simulator
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
    def __init__(self, client: SennheiserSsc1Client) -> None:
        self.queue: asyncio.Queue[Reading] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump(client))

    async def _pump(self, client: SennheiserSsc1Client) -> None:
        async with contextlib.aclosing(client.readings()) as readings:
            async for reading in readings:
                self.queue.put_nowait(reading)

    async def until(self, predicate: Callable[[Reading], bool], what: str) -> Reading:
        async def next_match() -> Reading | None:
            reading = await self.queue.get()
            return reading if predicate(reading) else None

        return await wait_until_async(next_match, 3.0, what, interval=0)


@pytest.fixture
async def sim() -> AsyncIterator[SennheiserSsc1Simulator]:
    simulator = SennheiserSsc1Simulator(channel_names=("VOX", "GTR"), seed=4)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def client(sim: SennheiserSsc1Simulator) -> AsyncIterator[SennheiserSsc1Client]:
    ssc1 = SennheiserSsc1Client(sim.host, sim.port, **FAST)
    yield ssc1
    await ssc1.close()


@pytest.fixture
async def readings(client: SennheiserSsc1Client) -> AsyncIterator[Readings]:
    gathered = Readings(client)
    yield gathered
    gathered.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await gathered.task


async def test_discovery_finds_the_product_and_both_channels_on_a_free_port(sim, client):
    assert sim.port != 45
    info = await client.discover()
    assert info == sim.device_info()
    assert [c.name for c in info.channels] == ["VOX", "GTR"]


async def test_both_channels_show_rf_audio_battery_name_and_frequency(sim, readings):
    for channel, name in ((1, "VOX"), (2, "GTR")):
        reading = await readings.until(
            lambda r, c=channel: r.channel == c and r.rf_a_dbm is not None and r.battery_percent,
            f"channel {channel} live",
        )
        assert reading.channel_name == name
        assert reading.frequency_khz
        assert reading.battery_percent == 100
        assert reading.battery_minutes
        assert reading.rf_quality is not None
        assert reading.audio_rms_dbfs is not None


async def test_battery_and_power_changes_arrive_on_change(sim, readings):
    await readings.until(lambda r: r.channel == 2 and r.battery_bars == 5, "a full battery")
    sim.set_battery(2, percent=20)
    await readings.until(lambda r: r.channel == 2 and r.battery_bars == 2, "30 % on channel 2")
    sim.set_tx_power(2, on=False)
    off = await readings.until(lambda r: r.channel == 2 and r.tx_on is False, "channel 2 off")
    assert off.battery_percent is None
    # Meters of the empty frequency keep coming; they must not bring levels back.
    later = await readings.until(lambda r: r.channel == 2, "another channel 2 reading")
    assert later.rf_a_dbm is None
    assert later.audio_rms_dbfs is None
    sim.set_tx_power(2, on=True)
    await readings.until(lambda r: r.channel == 2 and r.tx_on is True, "channel 2 back")


async def test_a_rename_arrives_and_silence_means_unreachable(sim, readings):
    await readings.until(lambda r: r.channel == 1 and r.channel_name == "VOX", "the name")
    sim.set_name(1, "LEAD")
    await readings.until(lambda r: r.channel == 1 and r.channel_name == "LEAD", "the rename")
    sim.set_reachable(False)
    down = await readings.until(lambda r: not r.rx_reachable, "unreachable")
    assert down.rf_a_dbm is None
    sim.set_reachable(True)
    await readings.until(lambda r: r.rx_reachable and r.rf_a_dbm is not None, "it back")


async def test_close_cancels_the_subscription(sim, client, readings):
    await readings.until(lambda r: r.rf_a_dbm is not None, "live readings")
    assert sim.subscribers == 1
    await client.close()
    await wait_until_async(lambda: sim.subscribers == 0, 2.0, "no subscriber left")


@pytest.fixture
async def ewdx() -> AsyncIterator[SennheiserSsc1Simulator]:
    simulator = SennheiserSsc1Simulator("EWDX4CHDS", name="EWDX", seed=2)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_an_ewdx_in_legacy_mode_is_found_by_its_product_and_read_on_all_four(ewdx):
    client = SennheiserSsc1Client(ewdx.host, ewdx.port, **FAST)  # no model hint: discovery
    gathered = Readings(client)
    try:
        info = await client.discover()
        assert (info.model, len(info.channels)) == ("EWDX4CHDS", 4)
        fourth = await gathered.until(
            lambda r: r.channel == 4 and r.rf_a_dbm is not None and r.battery_percent == 100,
            "channel 4's meters and battery from /m/rx4 and /mates/tx4",
        )
        assert fourth.tx_on is True
        assert fourth.battery_minutes is not None
        assert fourth.rf_quality is not None
        assert fourth.antenna in ("A", "B")
        assert fourth.audio_rms_dbfs is not None

        ewdx.set_tx_power(2, on=False)  # the EM answers 424 for tx2's battery
        off = await gathered.until(lambda r: r.channel == 2 and r.tx_on is False, "tx2 off")
        assert off.battery_percent is None
    finally:
        gathered.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await gathered.task
        await client.close()
