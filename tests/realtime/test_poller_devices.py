"""Receivers change on the Devices page while the show runs: the poller starts, stops and
re-reads them within seconds, without a restart and without touching the others' streams,
and says how each one is (the health the page shows)."""

from __future__ import annotations

import asyncio
import contextlib

import orjson
import pytest
from channels.db import database_sync_to_async

from micboard.models import WirelessChassis
from micboard.services.inventory import InventoryService
from realtime import keys
from realtime.redis_client import async_client
from tests.conftest import free_port
from tests.realtime.conftest import build_live_stage, open_socket, unit_in
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)
CHANGE_WITHIN = 2.0  # the promise: a change on the page reaches the poller this fast


async def _health(chassis_id: int) -> dict | None:
    raw = await async_client().hget(keys.device_health(), str(chassis_id))
    return None if raw is None else orjson.loads(raw)


def _sessions(simulator) -> set[int]:
    """The connections a simulator has served (each command names its connection)."""
    return {connection for connection, _ in simulator.commands}


async def test_adding_and_removing_receivers_leaves_the_others_streaming(
    simulators, pollers, live_settings
):
    steady, leaving = await simulators("ULXD4Q"), await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([steady.port, leaving.port])
    pollers()
    socket, accepted, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    assert accepted
    steady_unit = stage.units[0].pk
    frames: list[dict] = []

    async def collect() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                frames.append(await socket.receive_json_from(timeout=30))

    collector = asyncio.create_task(collect())

    def steady_frames() -> int:
        return sum(1 for f in frames if f["type"] == "delta" and unit_in(f, steady_unit))

    await wait_until_async(steady_frames, 10, "the steady receiver's meters on the wall")
    await wait_until_async(lambda: leaving.connection_count, 10, "the poller reading the other")

    arriving = await simulators("ULXD4D", channels=2)
    added = await database_sync_to_async(InventoryService.upsert_device)(arriving.device_info())
    await wait_until_async(
        lambda: arriving.connection_count, CHANGE_WITHIN, "the added receiver being read"
    )
    before_removal = steady_frames()
    await database_sync_to_async(InventoryService.delete_row)(stage.chassis[1])
    await wait_until_async(
        lambda: leaving.connection_count == 0, CHANGE_WITHIN, "the removed receiver let go"
    )
    await wait_until_async(
        lambda: steady_frames() > before_removal, 5, "the steady receiver's meters after both"
    )
    collector.cancel()
    await socket.disconnect()

    assert len(_sessions(steady)) == 1, "the steady receiver was never reconnected"
    goodbye = [body for _, body in leaving.commands][-1]
    assert "METER_RATE 00000" in goodbye, "metering switched off before letting go"
    assert await _health(stage.chassis[1].pk) is None, "a removed receiver's health is gone"
    assert (await _health(added.pk))["online"] is True


async def test_a_new_meter_interval_reaches_the_receiver(simulators, pollers, live_settings):
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    pollers()
    await wait_until_async(lambda: simulator.connection_count, 10, "the receiver being read")
    chassis = stage.chassis[0]
    chassis.meter_interval_ms = 1000
    await database_sync_to_async(InventoryService.save_row)(chassis)

    def gentle() -> bool:
        return any("METER_RATE 01000" in body for _, body in simulator.commands)

    await wait_until_async(gentle, CHANGE_WITHIN + 1, "SET n METER_RATE 01000 on the receiver")


async def test_an_unreachable_receiver_says_why(pollers, live_settings):
    stage = await database_sync_to_async(build_live_stage)([free_port()])
    pollers()
    chassis_id = stage.chassis[0].pk

    async def refused() -> dict | None:
        health = await _health(chassis_id)
        return health if health and health["online"] is False else None

    health = await wait_until_async(refused, 10, "the receiver reported offline")
    assert health["reason"] == "connection refused"
    saved = await database_sync_to_async(WirelessChassis.objects.get)(pk=chassis_id)
    assert saved.is_online is False
