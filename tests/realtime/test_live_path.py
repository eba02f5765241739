"""The live path end to end, in one event loop: Shure TCP simulators on loopback, the
poller, real Redis, and sockets on the real ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import copy

import pytest
from channels.db import database_sync_to_async
from django.core import mail

from micboard.models import Alert, WirelessChassis, WirelessUnit
from micboard.services import PerformerAssignmentService, PerformerService
from realtime import keys
from realtime.poller.sender import direct_publish_prefix
from realtime.redis_client import async_client
from realtime.units import state
from tests.realtime.conftest import build_live_stage, next_frame, open_socket, unit_in
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["pipelined", "group_send"])
async def live(request, simulators, pollers, live_settings):
    """One ULXD4Q simulator, the stage around it, and a running poller.

    Run twice: frames PUBLISHed by the poller in one pipeline (the layer on our Redis),
    and through plain `group_send` (a layer URL that is not REDIS_URL; pub/sub ignores
    the database number, so both sides still meet on one server).
    """
    if request.param == "group_send":
        layer = copy.deepcopy(live_settings.CHANNEL_LAYERS)
        layer["default"]["CONFIG"]["hosts"] = [live_settings.REDIS_URL.rsplit("/", 1)[0] + "/1"]
        live_settings.CHANNEL_LAYERS = layer
        assert direct_publish_prefix() is None
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    pollers()
    return simulator, stage


def delta_with(unit_id: int, **expected):
    def matches(frame) -> bool:
        state = unit_in(frame, unit_id) if frame["type"] == "delta" else None
        return state is not None and all(state[k] == v for k, v in expected.items())

    return matches


async def watch(socket, seen: list) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            seen.append(await socket.receive_json_from(timeout=60))


@pytest.mark.parametrize(("bars", "status"), [(3, "REPLACE"), (1, "CRITICAL")])
async def test_a_battery_drop_reaches_its_group_and_no_other(live, bars, status):
    simulator, stage = live
    unit = stage.units[0].pk
    wall_a, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    wall_b, _, _ = await open_socket(f"/ws/groups/{stage.group_b.pk}/", user=stage.tech_b)
    seen_by_b: list = []
    watcher = asyncio.create_task(watch(wall_b, seen_by_b))
    await next_frame(wall_a, delta_with(unit, status="GOOD"))  # the poller reads the device

    simulator.set_battery(1, bars=bars)
    frame = await next_frame(wall_a, delta_with(unit, status=status))

    assert unit_in(frame, unit)["bars"] == bars
    assert frame["group"] == stage.group_a.pk
    await next_frame(wall_a, lambda f: f["type"] == "delta")  # B had time to get it too
    watcher.cancel()
    await watcher
    assert any(unit_in(f, stage.units[2].pk) for f in seen_by_b), "B's own unit streams"
    assert not any(unit_in(f, unit) or f.get("alert", {}).get("unit") == unit for f in seen_by_b)
    await wall_a.disconnect()
    await wall_b.disconnect()


async def test_a_channel_renamed_on_the_receiver_reaches_the_wall_live(live):
    simulator, stage = live
    unit = stage.units[0].pk
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    first = await next_frame(wall, delta_with(unit, status="GOOD"))
    assert unit_in(first, unit)["name"] == simulator.device_info().channels[0].name

    simulator.set_channel_name(1, "Bishop")
    await next_frame(wall, delta_with(unit, name="Bishop"))
    await wall.disconnect()


async def test_a_battery_bar_reaches_the_wall_in_the_next_delta_and_the_alert_waits(
    live, monkeypatch
):
    """The tile shows the reported bar at once; only the alert waits for the hold time."""
    monkeypatch.setattr(state, "BATTERY_HOLD", 2.0)  # long, so waiting on it is unmistakable
    simulator, stage = live
    unit = stage.units[0].pk
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await next_frame(wall, delta_with(unit, status="GOOD"))

    simulator.set_battery(1, bars=1)
    frames = []
    while not frames or frames[-1]["type"] != "alert":
        frames.append(await next_frame(wall, lambda f: f["type"] in ("delta", "alert")))
    states = [unit_in(f, unit) for f in frames if f["type"] == "delta"]
    bars = [s["bars"] for s in states if s is not None]
    # At most the deltas already on their way when the battery changed show the old bar.
    assert 1 in bars[:3], bars
    assert set(bars[bars.index(1) :]) == {1}
    assert len(bars) > bars.index(1) + 3, "the alert came well after the tile showed it"
    assert frames[-1]["alert"]["kind"] == "battery_critical"
    await wall.disconnect()


async def test_deltas_carry_a_growing_seq_and_only_changed_units(live):
    _, stage = live
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await next_frame(wall, lambda f: f["type"] == "delta")
    deltas = [await next_frame(wall, lambda f: f["type"] == "delta") for _ in range(5)]
    seqs = [f["seq"] for f in deltas]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 5
    group_units = {str(stage.units[0].pk), str(stage.units[1].pk)}
    assert all(set(f["units"]) <= group_units for f in deltas)
    await wall.disconnect()


async def test_an_assignment_appears_on_the_wall_without_a_restart(live):
    _, stage = live
    newcomer = stage.units[3]
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await next_frame(wall, lambda f: f["type"] == "delta")

    def assign() -> None:
        performer = PerformerService.create_performer("Late Arrival")
        PerformerAssignmentService.create_assignment(performer, newcomer, stage.group_a)

    await database_sync_to_async(assign)()
    structure = await next_frame(wall, lambda f: f["type"] == "structure")
    assert structure == {"type": "structure", "group": stage.group_a.pk, "units": None}
    await next_frame(wall, lambda f: f["type"] in ("delta", "snapshot") and unit_in(f, newcomer.pk))
    members = await async_client().smembers(keys.group_units(stage.group_a.pk))
    assert int(newcomer.pk) in {int(m) for m in members}
    await wall.disconnect()


async def test_a_critical_battery_raises_one_alert_and_resolves_it(live):
    simulator, stage = live
    unit, assignment = stage.units[0].pk, stage.assignments[0]
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await next_frame(wall, delta_with(unit, status="GOOD"))

    simulator.set_battery(1, bars=1)
    raised = await next_frame(wall, lambda f: f["type"] == "alert")
    assert (raised["alert"]["unit"], raised["alert"]["kind"]) == (unit, "battery_critical")
    assert "Jane Smith" in raised["alert"]["message"]
    for _ in range(10):  # many more readings of the same low battery
        await next_frame(wall, lambda f: f["type"] == "delta")
    alerts = await database_sync_to_async(list)(Alert.objects.filter(assignment=assignment))
    assert [(a.pk, a.kind, a.resolved_at) for a in alerts] == [
        (raised["alert"]["id"], "battery_critical", None)
    ]
    assert [m.to for m in mail.outbox] == [[stage.tech_a.email]]

    simulator.set_battery(1, bars=5)
    resolved = await next_frame(wall, lambda f: f["type"] == "alert.resolved")
    assert resolved["alert"] == {"id": raised["alert"]["id"], "unit": unit}
    alert = await database_sync_to_async(Alert.objects.get)(pk=raised["alert"]["id"])
    assert alert.resolved_at is not None
    await wall.disconnect()


async def test_telemetry_and_history_are_kept(live):
    simulator, stage = live
    unit = stage.units[0]
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    simulator.set_battery(1, bars=3)
    await next_frame(wall, delta_with(unit.pk, status="REPLACE"))

    @database_sync_to_async
    def saved() -> bool:
        row = WirelessUnit.objects.get(pk=unit.pk)
        chassis = WirelessChassis.objects.get(pk=stage.chassis[0].pk)
        facts = (row.status, row.battery_bars, row.battery_low, chassis.is_online)
        return facts == ("REPLACE", 3, True, True)

    await wait_until_async(saved, 10, "REPLACE at 3 bars, battery low, in the database")
    await wait_until_async(lambda: history_length(unit.pk), 10, "a history entry")
    await wall.disconnect()


async def history_length(unit_id: int) -> int:
    return int(await async_client().xlen(keys.unit_history(unit_id)))


async def test_a_pollers_heartbeat_counts_its_frame_ticks_and_their_time(
    simulators, pollers, live_settings
):
    """/metrics reads the tick summary from here (tests/realtime/test_metrics.py)."""
    simulator = await simulators("ULXD4Q")
    await database_sync_to_async(build_live_stage)([simulator.port])
    poller = pollers()

    async def ticks_beaten() -> dict[bytes, bytes] | None:
        fields = await async_client().hgetall(keys.poller(poller.poller_id))
        return fields if int(fields.get(b"ticks", 0)) > 0 else None

    fields = await wait_until_async(ticks_beaten, 10, "a heartbeat with frame ticks")
    assert float(fields[b"tick_total_s"]) > 0
    assert float(fields[b"tick_max_ms"]) >= 0
