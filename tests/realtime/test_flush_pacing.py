"""When the poller sends a change: at once while it is idle, coalesced on the tick under load.

A real ULXD4Q simulator metering at its own rate, a real poller, real Redis and a socket on
the real ASGI app. The tests count frames and readings; they never time anything.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.realtime.conftest import build_live_stage, next_frame, open_socket, unit_in
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

DELTAS = 12


async def deltas_of(wall, unit_id: int, count: int) -> list[dict]:
    """The next `count` deltas that carry `unit_id`."""
    return [
        await next_frame(wall, lambda f: f["type"] == "delta" and unit_in(f, unit_id) is not None)
        for _ in range(count)
    ]


async def test_an_idle_poller_sends_each_reading_without_waiting_for_the_tick(simulators, pollers):
    """The tick is an hour: every delta the wall gets was flushed by the change itself."""
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    pollers(frame_interval=3600.0, snapshot_interval=3600.0)
    unit = stage.units[0].pk
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)

    deltas = await deltas_of(wall, unit, DELTAS)

    seqs = [f["seq"] for f in deltas]
    assert seqs == sorted(seqs), seqs
    assert len(set(seqs)) == DELTAS, seqs
    stamps = [unit_in(f, unit)["ts"] for f in deltas]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == DELTAS, "one reading per delta"
    await wall.disconnect()


async def test_a_busy_poller_coalesces_readings_into_one_delta_per_tick(simulators, pollers):
    """Above the eager rate each delta carries the newest of several readings per unit."""
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    poller = pollers(frame_interval=0.5, eager_below=1.0)  # a few units at 10 Hz: "busy"
    unit = stage.units[0].pk
    await wait_until_async(lambda: not poller.publisher.eager, 10, "the first tick's pacing")
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await deltas_of(wall, unit, 1)
    readings_before = poller.stats.readings

    deltas = await deltas_of(wall, unit, 4)

    readings = poller.stats.readings - readings_before
    # Four channels read at 10 Hz between ticks half a second apart: each delta stands
    # for several readings of its unit, and far fewer deltas than readings were sent.
    assert readings > 4 * 2 * len(deltas), (readings, len(deltas))
    assert all(set(f["units"]) <= {str(u.pk) for u in stage.units[:2]} for f in deltas)
    await wall.disconnect()
