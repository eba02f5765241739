"""A real poller follows a pack: charged in a simulated SBC850's bay, taken out, put into
a transmitter of a simulated ULX-D; the pack's history (saved from the database thread)
names the charger bay and then the performer wearing it."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from micboard.models import BatteryPack, PackEvent
from realtime.simulation.shure_charger import ShureChargerSimulator
from tests.realtime.conftest import build_live_stage
from tests.realtime.test_poller_chargers import _add as _add_charger
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def charger_sim():
    sim = ShureChargerSimulator(name="SL RACK")
    await sim.start()
    yield sim
    await sim.stop()


def _pack_in_bay_4() -> BatteryPack | None:
    return BatteryPack.unscoped.filter(bay=4).first()


def _pack_on_jane() -> BatteryPack | None:
    event = (
        PackEvent.unscoped.filter(kind="inserted", performer__name="Jane Smith", cycle_count=210)
        .select_related("pack")
        .first()
    )
    return event.pack if event is not None else None


def _history(pack: BatteryPack) -> list[tuple[str, str | None, int | None, str | None]]:
    events = pack.events.order_by("at", "pk").select_related("charger", "performer")
    return [
        (
            e.kind,
            e.charger.name if e.charger else None,
            e.bay,
            e.performer.name if e.performer else None,
        )
        for e in events
    ]


async def test_a_pack_goes_from_the_charger_bay_to_a_performer(
    charger_sim, simulators, pollers, live_settings
):
    receiver = await simulators("ULXD4D", channels=2)
    receiver.set_tx_power(1, on=False)  # Jane's transmitter waits for its pack
    await database_sync_to_async(build_live_stage)([receiver.port])
    await database_sync_to_async(_add_charger)(charger_sim.port)
    charger_sim.insert(4, charge=100, health=96, cycles=210)
    pollers()

    charging = await wait_until_async(
        database_sync_to_async(_pack_in_bay_4), 10, "the pack seen in bay 4"
    )
    charger_sim.remove(4)
    receiver.insert_pack(1, health=96, cycles=210)
    receiver.set_tx_power(1, on=True)

    worn = await wait_until_async(
        database_sync_to_async(_pack_on_jane), 10, "the pack seen on Jane"
    )
    assert worn.pk == charging.pk, "the same pack, recognised by its cycles and health"
    history = await database_sync_to_async(_history)(worn)
    assert history == [
        ("charging", "SL rack charger", 4, None),
        ("off_charger", "SL rack charger", 4, None),
        ("inserted", None, None, "Jane Smith"),
    ]
