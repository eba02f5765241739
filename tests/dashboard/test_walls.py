"""The wall page, its tile fragments and the list of walls."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from micboard.models import Performer, PerformerAssignment, WirelessUnit
from tests.dashboard.conftest import HTMX, Show, assign

pytestmark = pytest.mark.django_db


def tile_ids(html: str) -> list[str]:
    """Return the tiles of a page in order, with BLANK for a spacer."""
    found = re.findall(r'id="tile-(\d+)"|class="tile tile-blank"', html)
    return [unit or "BLANK" for unit in found]


class TestWallList:
    def test_it_lists_only_the_users_walls(self, show: Show, tech_a: Client) -> None:
        html = tech_a.get("/").content.decode()
        assert "Main stage" in html
        assert "Side stage" not in html

    def test_it_sends_anonymous_visitors_to_the_login_page(self, show: Show) -> None:
        response = Client().get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


class TestWall:
    def test_it_shows_one_tile_per_assigned_unit(self, show: Show, tech_a: Client) -> None:
        response = tech_a.get(f"/walls/{show.group_a.pk}/")
        html = response.content.decode()
        assert response.status_code == 200
        assert tile_ids(html) == [str(show.unit("A01").pk), str(show.unit("A02").pk)]
        assert "Jane Smith" in html
        assert "Lead vocals" in html
        assert "Bob Jones" in html
        assert "Carla Diaz" not in html
        assert f'data-live-url="/ws/groups/{show.group_a.pk}/"' in html

    def test_each_tile_links_to_its_units_page(self, show: Show, tech_a: Client) -> None:
        html = tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()
        for slot in ("A01", "A02"):
            assert f'<a href="/units/{show.unit(slot).pk}/">' in html

    def test_a_tech_gets_404_for_another_groups_wall(self, show: Show, tech_a: Client) -> None:
        assert tech_a.get(f"/walls/{show.group_b.pk}/").status_code == 404
        assert tech_a.get("/walls/999999/").status_code == 404

    def test_an_admin_opens_any_wall(self, show: Show, admin: Client) -> None:
        assert admin.get(f"/walls/{show.group_b.pk}/").status_code == 200

    def test_it_follows_the_tile_order_with_blanks(self, show: Show, tech_a: Client) -> None:
        a01, a02 = show.unit("A01").pk, show.unit("A02").pk
        show.group_a.tile_order = [a02, None, a01, None]
        show.group_a.save()
        html = tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()
        assert tile_ids(html) == [str(a02), "BLANK", str(a01)]

    def test_inactive_assignments_and_performers_leave_the_wall(
        self, show: Show, tech_a: Client
    ) -> None:
        PerformerAssignment.objects.filter(pk=show.bob_a02.pk).update(is_active=False)
        Performer.objects.filter(pk=show.jane.pk).update(is_active=False)
        html = tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()
        assert tile_ids(html) == []
        assert "Nothing is assigned" in html

    def test_a_shared_unit_is_one_tile_with_both_names(self, show: Show, tech_a: Client) -> None:
        assign(show.bob, show.unit("A01"), show.group_a, priority="critical")
        html = tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()
        assert tile_ids(html).count(str(show.unit("A01").pk)) == 1
        # A line each, the critical assignment first; read aloud as "Bob Jones / Jane Smith".
        assert (
            '<span class="wearer">Bob Jones</span><span class="visually-hidden"> / </span>'
            '<span class="wearer">Jane Smith</span>'
        ) in html

    def test_a_shared_unit_shows_the_photo_of_a_wearer_who_has_one(
        self, show: Show, tech_a: Client
    ) -> None:
        assign(show.bob, show.unit("A01"), show.group_a, priority="critical")
        Performer.objects.filter(pk=show.jane.pk).update(photo="performers/jane.png")
        html = tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()
        tile = html[html.index(f'id="tile-{show.unit("A01").pk}"') :]
        tile = tile[: tile.index("</article>")]
        assert f'<img class="tile-photo" src="/performers/{show.jane.pk}/photo/"' in tile
        assert 'data-priority="critical"' in tile  # Bob's, the most important
        assert "Guitar / Lead vocals" in tile

    def test_it_renders_the_last_known_telemetry_and_status_cues(
        self, show: Show, tech_a: Client
    ) -> None:
        WirelessUnit.objects.filter(pk=show.unit("A01").pk).update(
            battery_bars=3, battery_minutes=275, frequency_khz=590775, tx_offset_db=-9,
            status="REPLACE",
        )  # fmt: skip
        html = tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()
        tile = html[html.index(f'id="tile-{show.unit("A01").pk}"') :]
        assert 'data-status="REPLACE"' in tile[:200]
        assert 'data-bars="3"' in tile
        assert "Battery 3 of 5 bars" in tile
        assert "4:35" in tile
        assert "590.775 MHz" in tile
        assert "-9 dB" in tile
        assert "▲" in tile
        assert "REPLACE" in tile

    def test_it_costs_the_same_queries_for_many_tiles(
        self, show: Show, tech_a: Client, django_assert_max_num_queries
    ) -> None:
        with django_assert_max_num_queries(12) as few:
            tech_a.get(f"/walls/{show.group_a.pk}/")
        for number in range(40):
            unit = WirelessUnit.objects.create(
                organization=show.group_a.organization,
                base_chassis=show.unit("A01").base_chassis,
                slot=f"X{number:02d}",
            )
            performer = Performer.objects.create(name=f"Extra {number}")
            assign(performer, unit, show.group_a)
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = tech_a.get(f"/walls/{show.group_a.pk}/")
        assert len(tile_ids(response.content.decode())) == 42


class TestWallTiles:
    def test_it_answers_named_tiles_out_of_band(self, show: Show, tech_a: Client) -> None:
        a01 = show.unit("A01").pk
        response = tech_a.get(f"/walls/{show.group_a.pk}/tiles/?units={a01}", **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert f'<article id="tile-{a01}"' in html
        assert 'hx-swap-oob="true"' in html
        assert tile_ids(html) == [str(a01)]

    def test_it_answers_the_whole_grid_without_units(self, show: Show, tech_a: Client) -> None:
        html = tech_a.get(f"/walls/{show.group_a.pk}/tiles/", **HTMX).content.decode()
        assert '<div id="wall-tiles" class="tiles" hx-swap-oob="true">' in html
        assert len(tile_ids(html)) == 2

    def test_it_leaves_out_units_not_on_this_wall(self, show: Show, tech_a: Client) -> None:
        b01 = show.unit("B01").pk
        html = tech_a.get(f"/walls/{show.group_a.pk}/tiles/?units={b01}").content.decode()
        assert tile_ids(html) == []
        assert "Carla" not in html

    def test_a_tech_gets_404_for_another_groups_tiles(self, show: Show, tech_a: Client) -> None:
        b01 = show.unit("B01").pk
        assert tech_a.get(f"/walls/{show.group_b.pk}/tiles/?units={b01}").status_code == 404
        assert tech_a.get(f"/walls/{show.group_b.pk}/tiles/").status_code == 404

    @pytest.mark.parametrize("units", ["", "abc", "1,,x", ",".join(["1"] * 1001)])
    def test_it_rejects_a_bad_unit_list(self, show: Show, tech_a: Client, units: str) -> None:
        response = tech_a.get(f"/walls/{show.group_a.pk}/tiles/", {"units": units})
        assert response.status_code == 400

    def test_it_costs_the_same_queries_for_many_tiles(
        self, show: Show, tech_a: Client, django_assert_max_num_queries
    ) -> None:
        ids = ",".join(str(unit.pk) for unit in show.units)
        with django_assert_max_num_queries(6):
            tech_a.get(f"/walls/{show.group_a.pk}/tiles/?units={ids}")


class TestNavigation:
    @pytest.mark.parametrize(
        ("path", "current"),
        [
            ("/", "Walls"),
            ("/walls/{a}/", "Walls"),
            ("/performers/new/", "Performers"),
            ("/groups/{a}/assignments/", "Assignments"),
            ("/groups/{a}/", "Groups"),
            ("/alerts/", "Alerts"),
            ("/chargers/", "Chargers"),
        ],
    )
    def test_it_marks_the_current_section(
        self, show: Show, admin: Client, path: str, current: str
    ) -> None:
        html = admin.get(path.format(a=show.group_a.pk)).content.decode()
        site_nav = html[html.index('<nav class="site-nav"') :]
        site_nav = site_nav[: site_nav.index("</nav>")]  # the wall's own switch marks its wall
        marked = re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', site_nav)
        assert marked == [current]
