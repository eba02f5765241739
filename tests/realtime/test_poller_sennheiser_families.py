"""The demo stage's ew G4 and Digital 6000 receivers, read by a real poller over UDP: their
units' live states (what the tiles draw) fill with RF, battery and names."""

from __future__ import annotations

import dataclasses

import orjson
import pytest
from channels.db import database_sync_to_async

from micboard.devices import Protocol
from micboard.models import WirelessUnit
from micboard.services.inventory import InventoryService
from realtime import keys
from realtime.discovery.probe import probe_device
from realtime.redis_client import async_client
from realtime.simulation.stage import DEMO_STAGE, build_simulators
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)
NEW_FAMILIES = (Protocol.SENNHEISER_EW, Protocol.SENNHEISER_SSC1)


@pytest.fixture
async def demo_sennheisers():
    stage = dataclasses.replace(DEMO_STAGE, base_port=0)
    chosen = [s for s in build_simulators(stage) if s.device_info().protocol in NEW_FAMILIES]
    for simulator in chosen:
        await simulator.start()
    yield chosen
    for simulator in chosen:
        await simulator.stop()


def _units_of(chassis_ids: list[int]) -> list[int]:
    return list(
        WirelessUnit.objects.filter(base_chassis_id__in=chassis_ids).values_list("pk", flat=True)
    )


async def _states(unit_ids: list[int]) -> list[dict]:
    values = await async_client().mget([keys.unit_state(unit) for unit in unit_ids])
    return [orjson.loads(value) if value else {} for value in values]


async def test_the_demo_g4_and_digital_6000_are_probed_as_they_describe_themselves(
    demo_sennheisers,
):
    assert {s.device_info().protocol for s in demo_sennheisers} == set(NEW_FAMILIES)
    for simulator in demo_sennheisers:
        info = simulator.device_info()
        assert await probe_device(info.protocol, info.host, info.port) == info


async def test_their_tiles_go_live_through_the_poller(demo_sennheisers, pollers, live_settings):
    chassis = [
        await database_sync_to_async(InventoryService.upsert_device)(s.device_info())
        for s in demo_sennheisers
    ]
    units = await database_sync_to_async(_units_of)([c.pk for c in chassis])
    assert len(units) == 3  # one G4 channel, two EM 6000 channels
    pollers()

    async def all_live() -> list[dict] | None:
        states = await _states(units)
        live = all(
            s.get("online") and s.get("percent") is not None and s.get("rf_a") is not None
            for s in states
        )
        return states if live else None

    states = await wait_until_async(all_live, 15, "every G4 and EM 6000 tile with RF and battery")
    names = {s["name"] for s in states}
    assert names == {info.name for s in demo_sennheisers for info in _channel_infos(s)}
    assert all(s["freq"] for s in states)


def _channel_infos(simulator):
    return simulator.device_info().channels
