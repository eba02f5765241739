"""The Chargers page as a stage tech uses it: every bay of every charger, as the poller
last wrote it, and what it says when nothing has read a charger or Redis is away."""

from __future__ import annotations

import pytest
import redis
from django.test import Client
from django.urls import reverse

from micboard.models import Charger, Organization
from micboard.services.inventory import InventoryService
from realtime import keys
from realtime.poller.chargers import ChargerState
from realtime.protocols.shure_charger import Bay
from tests.dashboard.conftest import HTMX, Show
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("live_settings")


@pytest.fixture
def charger(show: Show) -> Charger:
    row = Charger(name="SL rack charger", model="SBC850", host="127.0.0.1", port=2202)
    InventoryService.save_row(row)
    return row  # type: ignore[return-value]


def _write(settings: object, charger: Charger, state: ChargerState) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)  # type: ignore[attr-defined]
    client.hset(keys.charger_bays(), str(charger.pk), state.to_json())


def test_a_tech_sees_each_bay_with_its_pack_figures_and_faults(
    tech_a: Client, charger: Charger, live_settings: object
) -> None:
    _write(
        live_settings,
        charger,
        ChargerState(
            online=True,
            bays={
                1: Bay(1, present=False),
                4: Bay(4, True, 100, 96, 210, None, 28, "FULL", None),
                7: Bay(7, True, state="ERROR", error="007"),
            },
        ),
    )
    page = tech_a.get(reverse("chargers")).content.decode()
    assert "SL rack charger" in page
    bay_4 = page[page.index('data-bay="4"') :]
    assert "100 %" in bay_4[:600]
    assert "96 %" in bay_4[:600]
    assert "210" in bay_4[:600]
    assert "Error 007" in page
    assert "Empty" in page


def test_the_bays_fragment_says_offline_and_why_and_keeps_the_last_bays(
    tech_a: Client, charger: Charger, live_settings: object
) -> None:
    _write(
        live_settings,
        charger,
        ChargerState(
            False, "connection refused", {2: Bay(2, True, 55, 90, 12, 50, 30, "CHARGING")}
        ),
    )
    fragment = tech_a.get(reverse("charger-bays"), **HTMX).content.decode()
    assert "Offline: connection refused" in fragment
    assert "55 %" in fragment
    assert "50 min" in fragment


def test_a_charger_no_poller_has_read_says_so(tech_a: Client, charger: Charger) -> None:
    assert "Waiting for a poller" in tech_a.get(reverse("charger-bays"), **HTMX).content.decode()


def test_a_user_who_watches_no_group_sees_no_charger(charger: Charger) -> None:
    loner = make_user("loner", Organization.default())  # a tech of the organization
    client = Client()
    client.force_login(loner)
    page = client.get(reverse("chargers")).content.decode()
    assert "SL rack charger" not in page
    assert "No chargers yet" in page


def test_a_pack_below_the_health_threshold_is_flagged_worn(
    tech_a: Client, charger: Charger, live_settings: object, settings: object
) -> None:
    _write(
        live_settings,
        charger,
        ChargerState(True, None, {4: Bay(4, True, 100, 96), 5: Bay(5, True, 35, 74)}),
    )
    fragment = tech_a.get(reverse("charger-bays"), **HTMX).content.decode()
    bay_5 = fragment[fragment.index('data-bay="5"') :]
    assert "worn: replace the pack" in bay_5
    assert fragment.count("replace the pack") == 1  # bay 4's 96 % is not worn
    settings.MICBOARD_PACK_HEALTH_MIN = 70  # type: ignore[attr-defined]
    assert "replace the pack" not in tech_a.get(reverse("charger-bays"), **HTMX).content.decode()
