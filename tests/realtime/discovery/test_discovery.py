"""Discovery end to end with real packets on loopback: simulators announce over SLP and
mDNS as receivers do, the poller's discovery hears, probes and records them, and a
receiver heard at a new address is moved, not added twice. Nothing leaves loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
from channels.db import database_sync_to_async

from micboard.devices import Protocol
from micboard.models import WirelessChassis
from micboard.services.inventory import InventoryService
from realtime.discovery.found import FoundDevice, Sighting
from realtime.discovery.service import Discovery
from realtime.redis_client import async_client
from realtime.simulation.announce import StageAnnouncer
from realtime.simulation.sennheiser_ssc.simulator import SennheiserSscSimulator
from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator
from tests.conftest import free_port
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)
LOOPBACK = ("127.0.0.1",)
HEARD_WITHIN = 10.0


@pytest.fixture
def slp_port() -> int:
    return free_port()  # the tests' own SLP port: a demo running beside them is not heard


@pytest.fixture
async def stage(slp_port: int) -> AsyncIterator[Callable[..., object]]:
    """Start simulators and announce them; everything stops after the test."""
    running: list[tuple[object, StageAnnouncer]] = []

    async def start(simulator):  # type: ignore[no-untyped-def]
        await simulator.start()
        announcer = StageAnnouncer([simulator], slp_port=slp_port, every=0.5)
        await announcer.start()
        running.append((simulator, announcer))
        return simulator

    yield start
    for simulator, announcer in running:
        await announcer.stop()
        await simulator.stop()  # type: ignore[attr-defined]


@pytest.fixture
async def discovery(live_settings, slp_port: int) -> AsyncIterator[Callable[..., Discovery]]:
    tasks: list[asyncio.Task[None]] = []

    def start(known: Callable[[Sighting], bool] = lambda _: False) -> Discovery:
        found = Discovery(async_client(), known, slp_port=slp_port, interfaces=LOOPBACK)
        tasks.append(asyncio.create_task(found.run()))
        return found

    yield start
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _at(protocol: Protocol, port: int) -> Sighting:
    return Sighting(protocol, "127.0.0.1", port, "")


async def _probed(discovery: Discovery, protocol: Protocol, port: int) -> FoundDevice:
    async def identified() -> FoundDevice | None:
        found = await discovery.registry.get(_at(protocol, port))
        return found if found is not None and found.info is not None else None

    return await wait_until_async(identified, HEARD_WITHIN, f"{protocol.value} :{port} probed")


async def test_shure_over_slp_and_sennheiser_over_mdns_are_found_and_identified(stage, discovery):
    shure = await stage(ShureTcpSimulator("ULXD4D", seed=31))
    sennheiser = await stage(
        SennheiserSscSimulator("EW-DX EM 4 DANTE", seed=32, password="Micboard-Sim-1!")
    )
    found = discovery()
    heard_shure = await _probed(found, Protocol.SHURE_TCP, shure.port)
    heard_sennheiser = await _probed(found, Protocol.SENNHEISER_SSC, sennheiser.port)
    assert heard_shure.sighting.how == "SLP"
    assert (heard_shure.info.model, len(heard_shure.info.channels)) == ("ULXD4D", 2)
    assert heard_sennheiser.sighting.how == "mDNS"
    assert heard_sennheiser.info.serial == sennheiser.device_info().serial
    assert len(heard_sennheiser.info.channels) == 4


async def test_a_receiver_already_added_is_not_probed_again(stage, discovery):
    known = await stage(ShureTcpSimulator("ULXD4Q", seed=33))
    other = await stage(ShureTcpSimulator("ULXD4Q", seed=34))
    found = discovery(lambda seen: seen.port == known.port)
    await _probed(found, Protocol.SHURE_TCP, other.port)
    assert await found.registry.get(_at(Protocol.SHURE_TCP, known.port)) is None
    assert not any(known.commands), "discovery never opened the added receiver"


async def test_a_receiver_back_on_a_new_address_is_moved_not_added_twice(stage, discovery):
    before = ShureTcpSimulator("AD4D", seed=35, device_id="FOH-RACK-2")
    await before.start()
    chassis = await database_sync_to_async(InventoryService.upsert_device)(before.device_info())
    await before.stop()
    after = await stage(ShureTcpSimulator("AD4D", seed=35, device_id="FOH-RACK-2"))
    assert after.port != chassis.port
    discovery()

    async def moved() -> bool:
        refreshed = await database_sync_to_async(WirelessChassis.objects.get)(pk=chassis.pk)
        return refreshed.port == after.port

    await wait_until_async(moved, HEARD_WITHIN, "the chassis moved to the new port")
    assert await database_sync_to_async(WirelessChassis.objects.count)() == 1


async def test_a_receiver_that_does_not_answer_is_listed_with_the_reason(
    stage, discovery, slp_port
):
    silent = await stage(ShureTcpSimulator("ULXD4Q", seed=36))
    silent.set_reachable(False)
    found = discovery()

    async def failed() -> FoundDevice | None:
        heard = await found.registry.get(_at(Protocol.SHURE_TCP, silent.port))
        return heard if heard is not None and heard.problem else None

    heard = await wait_until_async(failed, HEARD_WITHIN, "a failed probe recorded")
    assert heard.info is None
    assert heard.problem == "the device closed the connection"  # a pulled cable, simulated
