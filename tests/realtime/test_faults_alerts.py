"""False alert storms: a poller starting before its devices listen, a poller whose event
loop stalled, and alerts of a unit that left its group. Shure TCP simulators on loopback,
an in-process poller, real Redis and sockets on the real ASGI app."""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async

from micboard.models import Alert
from micboard.services import PerformerAssignmentService
from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator
from tests.conftest import free_port
from tests.realtime.conftest import build_live_stage, next_frame, open_socket, unit_in

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 2  # seconds: short, so the tests are quick
# A reader reports a device that refuses connections as offline after about 3 s (its
# connect and discovery attempts), so this grace must be longer.
START_GRACE = 6


def delta_with(unit_id: int, **expected):
    def matches(frame) -> bool:
        state = unit_in(frame, unit_id) if frame["type"] == "delta" else None
        return state is not None and all(state[k] == v for k, v in expected.items())

    return matches


def is_alert(frame) -> bool:
    return frame["type"] == "alert"


@database_sync_to_async
def alert_kinds() -> list[str]:
    return sorted(Alert.objects.values_list("kind", flat=True))


async def test_a_poller_started_before_its_devices_listen_raises_no_offline_alerts(
    pollers, live_settings
):
    port = free_port()  # nothing listens here yet
    stage = await database_sync_to_async(build_live_stage)([port])
    unit = stage.units[0].pk
    live_settings.MICBOARD_ALERT_GRACE = START_GRACE
    pollers()
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await next_frame(wall, delta_with(unit, status="RX_COM_ERROR"))  # the poller tried

    simulator = ShureTcpSimulator("ULXD4Q", port=port, seed=1)
    await simulator.start()
    try:
        for channel in range(1, 5):
            simulator.set_battery(channel, bars=5)
        await next_frame(wall, delta_with(unit, status="GOOD"), limit=20)
        simulator.set_battery(1, bars=1)  # a real alert, raised once the grace is over
        raised = await next_frame(wall, is_alert)
        assert (raised["alert"]["unit"], raised["alert"]["kind"]) == (unit, "battery_critical")
        assert await alert_kinds() == ["battery_critical"]
    finally:
        await wall.disconnect()
        await simulator.stop()


async def test_a_poller_whose_loop_stalled_raises_no_offline_alerts(
    simulators, pollers, live_settings
):
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    jane, ann = stage.units[0].pk, stage.units[1].pk
    live_settings.MICBOARD_ALERT_GRACE = GRACE
    pollers()
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    simulator.set_battery(2, bars=3)
    first = await next_frame(wall, is_alert)  # alerts are live: the start-up grace is over
    assert (first["alert"]["unit"], first["alert"]["kind"]) == (ann, "battery_low")

    # The fault: the whole event loop stops (as under SIGSTOP) for longer than the
    # readers' silence timeout (6 s), so every reader hangs up and reconnects on resume.
    time.sleep(7)  # noqa: ASYNC251 - blocking the loop is the fault itself
    await next_frame(wall, delta_with(jane, status="RX_COM_ERROR"))
    await next_frame(wall, delta_with(jane, status="GOOD"), limit=20)
    simulator.set_battery(1, bars=1)
    raised = await next_frame(wall, is_alert)
    assert (raised["alert"]["unit"], raised["alert"]["kind"]) == (jane, "battery_critical")
    assert await alert_kinds() == ["battery_critical", "battery_low"]
    await wall.disconnect()


async def test_the_alerts_of_a_unit_that_left_its_group_are_resolved(simulators, pollers):
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    unit = stage.units[0].pk
    pollers()
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    simulator.set_battery(1, bars=1)
    raised = await next_frame(wall, is_alert)
    assert (raised["alert"]["unit"], raised["alert"]["kind"]) == (unit, "battery_critical")

    await database_sync_to_async(PerformerAssignmentService.deactivate_assignment)(
        stage.assignments[0]
    )
    resolved = await next_frame(wall, lambda f: f["type"] == "alert.resolved")
    assert resolved["alert"] == {"id": raised["alert"]["id"], "unit": unit}
    await wall.disconnect()
