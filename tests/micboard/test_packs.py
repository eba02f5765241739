"""Packs followed to people: what PackService makes of the poller's sightings, and what
the Chargers page and a pack's page then tell a stage tech."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.packs import next_packs
from micboard.models import BatteryPack, Charger, PackEvent, Performer, PerformerAssignment
from micboard.services import GroupService
from micboard.services.packs import BaySighting, PackService, UnitSighting
from tests.micboard.conftest import Stage

pytestmark = pytest.mark.django_db

START = timezone.now()


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


@pytest.fixture
def charger(stage: Stage) -> Charger:
    return Charger.objects.create(name="SL rack", model="SBC850", host="127.0.0.1", port=2202)


def wear(stage: Stage, unit_index: int, name: str) -> PerformerAssignment:
    performer = Performer.objects.create(name=name)
    return PerformerAssignment.objects.create(
        performer=performer,
        wireless_unit=stage.units[unit_index],
        monitoring_group=stage.group_a,
    )


def kinds(pack: BatteryPack) -> list[str]:
    return list(pack.events.order_by("at", "pk").values_list("kind", flat=True))


def test_a_pack_is_followed_from_the_bay_to_the_performer(stage: Stage, charger: Charger):
    wear(stage, 0, "Ana Lead")
    PackService.record([BaySighting(charger.pk, 4, at(0), cycles=120, health=96, charge=80)])
    pack = BatteryPack.objects.get()
    assert (pack.charger, pack.bay, pack.charge_percent) == (charger, 4, 80)

    # Full: the charger counts the cycle; still the same pack.
    PackService.record([BaySighting(charger.pk, 4, at(60), cycles=121, health=96, charge=100)])
    PackService.record(
        [
            BaySighting(charger.pk, 4, at(120)),  # taken out
            UnitSighting(stage.units[0].pk, at(125), cycles=121, health=96),
        ]
    )
    pack.refresh_from_db()
    assert BatteryPack.objects.count() == 1
    assert (pack.charger, pack.wireless_unit) == (None, stage.units[0])
    assert kinds(pack) == ["charging", "aged", "off_charger", "inserted"]
    inserted = pack.events.get(kind=PackEvent.Kind.INSERTED)
    assert inserted.performer is not None
    assert inserted.performer.name == "Ana Lead"


def test_a_transmitter_reporting_other_figures_holds_another_pack(stage: Stage, charger: Charger):
    PackService.record([BaySighting(charger.pk, 1, at(0), cycles=300, health=85, charge=100)])
    PackService.record([UnitSighting(stage.units[1].pk, at(5), cycles=12, health=99)])
    assert BatteryPack.objects.count() == 2
    in_bay = BatteryPack.objects.get(cycle_count=300)
    assert (in_bay.charger, in_bay.bay) == (charger, 1)  # still on charge, untouched


def test_a_pack_swapped_in_a_bay_is_a_new_pack(stage: Stage, charger: Charger):
    PackService.record([BaySighting(charger.pk, 2, at(0), cycles=50, health=99, charge=100)])
    PackService.record([BaySighting(charger.pk, 2, at(5), cycles=400, health=81, charge=30)])
    first, second = BatteryPack.objects.order_by("pk")
    assert first.charger is None
    assert kinds(first) == ["charging", "off_charger"]
    assert (second.charger, second.bay) == (charger, 2)


def test_the_charged_packs_go_out_in_the_walls_order_best_health_first(
    stage: Stage, charger: Charger
):
    wear(stage, 0, "Ana Lead")
    wear(stage, 1, "Ben Bass")
    GroupService.set_tile_order(
        stage.group_a, [stage.units[1].pk, stage.units[0].pk], by_user=stage.admin
    )
    PackService.record(
        [
            BaySighting(charger.pk, 1, at(0), cycles=10, health=90, charge=100),
            BaySighting(charger.pk, 2, at(0), cycles=20, health=97, charge=100),
            BaySighting(charger.pk, 3, at(0), cycles=30, health=99, charge=60),  # charging
            BaySighting(charger.pk, 4, at(0), cycles=40, health=70, charge=100),  # worn
        ]
    )
    plan = [(n.performer.name, n.pack.bay) for n in next_packs(stage.tech_a)]
    assert plan == [("Ben Bass", 2), ("Ana Lead", 1)]

    client = Client()
    client.force_login(stage.tech_a)
    page = client.get(reverse("chargers")).content.decode()
    assert "No show times are set" in page
    assert "Ben Bass" in page
    assert "from SL rack bay 2, 100 %, health 97 %" in page


def test_a_pack_page_names_the_wearer_only_to_those_who_see_them(stage: Stage, charger: Charger):
    wear(stage, 0, "Ana Lead")  # group A: tech B does not see her
    PackService.record([UnitSighting(stage.units[0].pk, at(0), cycles=5, health=100)])
    pack = BatteryPack.objects.get()
    url = reverse("pack", args=[pack.pk])
    pages = {}
    for user in (stage.tech_a, stage.tech_b):
        client = Client()
        client.force_login(user)
        pages[user.username] = client.get(url).content.decode()
    assert "Ana Lead" in pages[stage.tech_a.username]
    assert "Put in a transmitter" in pages[stage.tech_b.username]
    assert "Ana Lead" not in pages[stage.tech_b.username]
