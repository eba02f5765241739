"""The charger client against the simulated SBC850 over real loopback TCP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from realtime.protocols.shure_charger import Bay, ShureChargerClient
from realtime.simulation.shure_charger import ShureChargerSimulator
from tests.waiting import wait_until_async

FAST = {
    "reply_window": 0.1,
    "idle_probe": 0.3,
    "answer_timeout": 0.3,
    "backoff_initial": 0.05,
    "backoff_max": 0.2,
    "seed": 1,
}


@pytest.fixture
async def charger() -> AsyncIterator[ShureChargerSimulator]:
    sim = ShureChargerSimulator(name="SL RACK", time_scale=600.0)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def client(charger: ShureChargerSimulator) -> AsyncIterator[ShureChargerClient]:
    shure = ShureChargerClient(charger.host, charger.port, **FAST)  # type: ignore[arg-type]
    yield shure
    await shure.close()


class Bays:
    def __init__(self, client: ShureChargerClient) -> None:
        self.queue: asyncio.Queue[Bay] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump(client))

    async def _pump(self, client: ShureChargerClient) -> None:
        async with contextlib.aclosing(client.bays()) as bays:
            async for bay in bays:
                self.queue.put_nowait(bay)

    async def until(self, predicate: Callable[[Bay], bool], what: str) -> Bay:
        async def next_match() -> Bay | None:
            bay = await self.queue.get()
            return bay if predicate(bay) else None

        return await wait_until_async(next_match, 3.0, what, interval=0)


@pytest.fixture
async def bays(client: ShureChargerClient) -> AsyncIterator[Bays]:
    gathered = Bays(client)
    yield gathered
    gathered.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await gathered.task


async def test_discovery_names_the_model_the_charger_and_eight_bays(charger, client):
    charger.insert(4, charge=100, health=96, cycles=210)
    info = await client.discover()
    assert (info.model, info.name, info.firmware) == ("SBC850", "SL RACK", "1.4.53.0")
    assert [b.bay for b in info.bays] == list(range(1, 9))
    assert info.bays[3] == Bay(4, True, 100, 96, 210, None, 28, "FULL", None)
    assert info.bays[0].present is False


async def test_a_pack_put_in_charges_and_reports_its_figures_unasked(charger, bays):
    await bays.until(lambda b: b.bay == 8 and b.present is False, "the empty dump")
    charger.insert(2, charge=97, health=91, cycles=40)
    seen = await bays.until(lambda b: b.bay == 2 and b.present is True, "the pack in bay 2")
    assert seen.health_percent == 91
    assert seen.minutes_to_full == 6
    full = await bays.until(lambda b: b.bay == 2 and b.state == "FULL", "bay 2 full")
    assert full.charge_percent == 100
    assert full.cycle_count == 41
    assert full.minutes_to_full is None


async def test_a_fault_and_a_removal_show_up(charger, bays):
    await bays.until(lambda b: b.bay == 8, "the dump")
    charger.insert(5, error=7)
    faulted = await bays.until(lambda b: b.bay == 5 and b.error == "007", "the fault")
    assert faulted.present is True
    assert faulted.charge_percent is None
    charger.remove(5)
    await bays.until(lambda b: b.bay == 5 and b.present is False and b.error is None, "bay 5 empty")


async def test_a_charger_that_goes_away_is_noticed_and_read_again(charger, client, bays):
    await bays.until(lambda b: b.bay == 8, "the dump")
    assert client.reachable
    charger.set_reachable(False)
    await wait_until_async(lambda: not client.reachable, 3.0, "the charger unreachable")
    assert client.failure is not None
    charger.set_reachable(True)
    charger.insert(1, charge=50)
    await bays.until(lambda b: b.bay == 1 and b.present is True, "bay 1 after the reconnect")


async def test_a_quiet_charger_is_asked_rather_than_dropped(charger, client, bays):
    await bays.until(lambda b: b.bay == 8, "the dump")
    # Nothing changes for several idle probes (0.3 s each): each is answered, none drops it.
    probes = [c for c in charger.commands_heard if c == "GET DEVICE_ID"]
    await wait_until_async(
        lambda: charger.commands_heard.count("GET DEVICE_ID") >= len(probes) + 3,
        3.0,
        "three idle probes",
    )
    assert client.reachable
    assert charger.connections == 1
