"""Manual tiles: an admin places an unnetworked device (a G3 IEM pack, a wired spare) with
its performer on a group's wall; it is marked unmonitored, has no meters, takes its place
in the wall's order, and nothing about it pretends to be live."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from micboard.models import PerformerAssignment, WirelessUnit
from tests.dashboard.conftest import HTMX, Show
from tests.dashboard.test_walls import tile_ids

pytestmark = pytest.mark.django_db


def place(client: Client, show: Show, slot: str = "IEM07") -> PerformerAssignment:
    response = client.post(
        f"/groups/{show.group_a.pk}/manual-units/",
        {"slot": slot, "kind": "iem", "performer": show.carla.pk},
        **HTMX,
    )
    assert response.status_code == 200
    assert f"Placed {slot} (Carla Diaz) on the wall" in response.content.decode()
    return PerformerAssignment.objects.get(wireless_unit__slot=slot)


def tile_of(html: str, unit_id: int) -> str:
    match = re.search(rf'<article id="tile-{unit_id}".*?</article>', html, re.S)
    assert match is not None, "no tile for the unit"
    return match.group(0)


def test_a_placed_device_shows_unmonitored_with_no_meters_last_on_the_wall(
    show: Show, admin: Client, tech_a: Client
):
    assignment = place(admin, show)
    unit = assignment.wireless_unit
    assert unit.base_chassis is None
    assert assignment.monitoring_group == show.group_a

    html = tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()
    assert tile_ids(html)[-1] == str(unit.pk)
    tile = tile_of(html, unit.pk)
    assert "Unmonitored: not networked" in tile
    assert "Carla Diaz" in tile
    assert "data-unit=" not in tile  # the live script never binds it, so never greys it
    assert 'class="meter' not in tile
    assert 'class="battery' not in tile


def test_it_counts_in_the_walls_order(show: Show, admin: Client, tech_a: Client):
    unit = place(admin, show).wireless_unit
    for _ in range(2):  # two moves up: from last to first of three
        last = len(tile_ids(tech_a.get(f"/walls/{show.group_a.pk}/").content.decode())) - 1
        index = tile_ids(tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()).index(
            str(unit.pk)
        )
        assert index <= last
        admin.post(f"/groups/{show.group_a.pk}/tile-order/", {"action": f"up:{index}"})
    assert tile_ids(tech_a.get(f"/walls/{show.group_a.pk}/").content.decode())[0] == str(unit.pk)


def test_its_page_says_it_has_no_receiver(show: Show, admin: Client, tech_a: Client):
    unit = place(admin, show).wireless_unit
    page = tech_a.get(f"/units/{unit.pk}/").content.decode()
    assert "None: unmonitored, not networked" in page


def test_a_slot_is_needed_and_a_tech_cannot_place_one(show: Show, admin: Client, tech_a: Client):
    response = admin.post(
        f"/groups/{show.group_a.pk}/manual-units/",
        {"slot": "", "kind": "iem", "performer": show.carla.pk},
        **HTMX,
    )
    assert "This field is required" in response.content.decode()
    refused = tech_a.post(
        f"/groups/{show.group_a.pk}/manual-units/",
        {"slot": "IEM07", "kind": "iem", "performer": show.jane.pk},
    )
    assert refused.status_code == 404
    assert not WirelessUnit.objects.filter(base_chassis__isnull=True).exists()
