"""A real poller reads a simulated Shure charger: bays reach the Chargers page within a
second or two, a pulled cable shows as offline with the reason, and a removed charger's
bays are gone."""

from __future__ import annotations

import orjson
import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from micboard.models import Charger
from micboard.services.inventory import InventoryService
from realtime import keys
from realtime.redis_client import async_client
from realtime.simulation.shure_charger import ShureChargerSimulator
from tests.factories import make_user
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def charger_sim():
    sim = ShureChargerSimulator(name="SL RACK", time_scale=60.0)
    await sim.start()
    sim.insert(4, charge=99, health=96, cycles=210)
    yield sim
    await sim.stop()


async def _bays(charger_id: int) -> dict | None:
    raw = await async_client().hget(keys.charger_bays(), str(charger_id))
    return None if raw is None else orjson.loads(raw)


def _add(port: int) -> Charger:
    row = Charger(name="SL rack charger", model="SBC850", host="127.0.0.1", port=port)
    return InventoryService.save_row(row)  # type: ignore[return-value]


def _page_as_admin() -> str:
    client = Client()
    client.force_login(make_user("boss", role="admin"))
    return client.get(reverse("charger-bays"), HTTP_HX_REQUEST="true").content.decode()


async def test_the_bays_go_live_and_a_lost_charger_shows_offline(
    charger_sim, pollers, live_settings
):
    charger = await database_sync_to_async(_add)(charger_sim.port)
    pollers()

    async def bay_4_full() -> dict | None:
        state = await _bays(charger.pk)
        bays = {b["bay"]: b for b in (state or {}).get("bays", [])}
        return state if bays.get(4, {}).get("state") == "FULL" else None

    state = await wait_until_async(bay_4_full, 10, "bay 4 charged full on the live store")
    assert state["online"] is True
    page = await database_sync_to_async(_page_as_admin)()
    assert "SL rack charger" in page
    assert "100 %" in page
    assert "96 %" in page

    charger_sim.set_reachable(False)

    async def offline() -> dict | None:
        state = await _bays(charger.pk)
        return state if state and not state["online"] else None

    down = await wait_until_async(offline, 10, "the charger offline")
    assert down["failure"]

    await database_sync_to_async(InventoryService.delete_row)(charger)
    await wait_until_async(
        lambda: _gone(charger.pk), 5, "the removed charger's bays gone from the live store"
    )


async def _gone(charger_id: int) -> bool:
    return await _bays(charger_id) is None
