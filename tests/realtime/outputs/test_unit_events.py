"""What the poller itself sees reaches the outputs: battery steps, a receiver going
offline and coming back (a Shure TCP simulator, an in-process poller and worker)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.realtime.conftest import build_live_stage
from tests.realtime.outputs.conftest import add_webhook, of_kind
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

# A pulled cable is noticed when the receiver's silence timer runs out (a few seconds).
OFFLINE_TIMEOUT = 30.0


async def test_battery_steps_and_a_receiver_lost_and_back_reach_the_webhook(
    simulators, pollers, outputs_worker, receivers
):
    simulator = await simulators()
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    receiver = await receivers()
    await add_webhook(
        stage.group_a,
        receiver,
        stage.admin,
        events=["battery.step", "unit.offline", "unit.online"],
    )
    await outputs_worker()
    poller = pollers()
    jane, ann = stage.units[0].pk, stage.units[1].pk
    await wait_until_async(lambda: jane in poller.trackers, 10, "the poller reading Jane's unit")

    simulator.set_battery(1, bars=3)
    steps = await wait_until_async(
        lambda: of_kind(receiver, "battery.step"), 10, "Jane's battery step delivered"
    )
    assert (steps[0]["unit"]["id"], steps[0]["performer"]) == (jane, "Jane Smith")
    assert (steps[0]["payload"]["from_bars"], steps[0]["payload"]["to_bars"]) == (5, 3)

    simulator.set_reachable(False)
    offline = await wait_until_async(
        lambda: len(of_kind(receiver, "unit.offline")) >= 2, OFFLINE_TIMEOUT, "units offline"
    )
    assert offline
    assert {e["unit"]["id"] for e in of_kind(receiver, "unit.offline")} == {jane, ann}
    simulator.set_reachable(True)
    await wait_until_async(
        lambda: len(of_kind(receiver, "unit.online")) >= 2, OFFLINE_TIMEOUT, "units back"
    )
    assert {e["group"]["id"] for e in (r.event for r in receiver.received)} == {stage.group_a.pk}
    assert all(r.verified for r in receiver.received)
