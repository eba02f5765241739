"""The show-prep pages: a shared tile's Now/Next and its hand-over, the turns editor, and
the mic check (ticks with who and when, unticks, a new check, the wall's unchecked marks)."""

from __future__ import annotations

import re

import orjson
import pytest
from django.test import Client

from micboard.models import PerformerAssignment
from micboard.services import MicCheckService, SharedMicService
from micboard.timeline.models import Marker
from realtime import keys
from realtime.redis_client import sync_client
from tests.dashboard.conftest import HTMX, Show, assign

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(show: Show) -> tuple[PerformerAssignment, PerformerAssignment]:
    """A01 passes from Jane to Carla (Carla also wears B01 on the side stage)."""
    carla_a01 = assign(show.carla, show.unit("A01"), show.group_a)
    for assignment in (show.jane_a01, carla_a01):
        SharedMicService.add_turn(assignment, by_user=show.admin)
    return show.jane_a01, carla_a01


def tile_html(html: str, unit_id: int) -> str:
    found = re.search(rf'<article id="tile-{unit_id}".*?</article>', html, re.S)
    assert found is not None, f"no tile {unit_id}"
    return found.group(0)


def turns_text(html: str, unit_id: int) -> str:
    found = re.search(r'<p class="tile-turns">(.*?)</p>', tile_html(html, unit_id), re.S)
    if found is None:
        return ""
    text = re.sub(r'<span class="visually-hidden">.*?</span>|<kbd>.*?</kbd>', "", found.group(1))
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


class TestSharedTile:
    def test_it_shows_who_has_the_mic_now_and_who_is_next(self, show, shared, tech_a) -> None:
        html = tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()
        a01 = show.unit("A01").pk
        assert turns_text(html, a01) == "Now: Jane Smith · Next: Carla Diaz Hand over"
        assert turns_text(html, show.unit("A02").pk) == ""  # not shared: no turns line

    def test_a_hand_over_moves_now_on_and_marks_the_timeline(self, show, shared, tech_a) -> None:
        jane, _ = shared
        a01 = show.unit("A01").pk
        url = f"/walls/{show.group_a.pk}/hand-over/"
        response = tech_a.post(url, {"unit": a01, "current": jane.pk}, **HTMX)
        assert response.status_code == 200
        assert "handed over to Carla Diaz" in response.content.decode()
        tiles = tech_a.get(f"/walls/{show.group_a.pk}/tiles/?units={a01}", **HTMX)
        assert turns_text(tiles.content.decode(), a01).startswith("Now: Carla Diaz · Next: Jane")
        assert Marker.objects.get().label == "A01: Jane Smith → Carla Diaz"

    def test_a_hand_over_someone_already_made_is_a_409_in_words(self, show, shared, tech_a):
        jane, _ = shared
        url = f"/walls/{show.group_a.pk}/hand-over/"
        data = {"unit": show.unit("A01").pk, "current": jane.pk}
        assert tech_a.post(url, data, **HTMX).status_code == 200
        again = tech_a.post(url, data, **HTMX)
        assert again.status_code == 409
        assert "handed this mic over already" in again.content.decode()
        assert Marker.objects.count() == 1

    @pytest.mark.parametrize(
        "data",
        [{}, {"unit": "abc", "current": "1"}, {"unit": "1", "current": ""}],
        ids=["nothing", "a word", "no current"],
    )
    def test_garbage_is_a_400_in_words(self, show, shared, tech_a, data) -> None:
        response = tech_a.post(f"/walls/{show.group_a.pk}/hand-over/", data)
        assert response.status_code == 400
        assert b"Send unit" in response.content

    def test_a_unit_that_is_not_shared_is_a_400(self, show, tech_a) -> None:
        data = {"unit": show.unit("A02").pk, "current": show.bob_a02.pk}
        response = tech_a.post(f"/walls/{show.group_a.pk}/hand-over/", data, **HTMX)
        assert response.status_code == 400
        assert "no next performer" in response.content.decode()

    def test_a_kiosk_shows_the_turns_without_the_button(self, show, shared, admin) -> None:
        from micboard.services import KioskService

        link = KioskService.create_link(show.group_a, "FOH", by_user=show.admin)
        html = Client().get(f"/kiosk/{link.token}/").content.decode()
        assert turns_text(html, show.unit("A01").pk) == "Now: Jane Smith · Next: Carla Diaz"
        assert "data-hand-over" not in html


class TestTurnsEditor:
    def test_an_admin_adds_moves_and_removes_turns(self, show, admin) -> None:
        carla_a01 = assign(show.carla, show.unit("A01"), show.group_a)
        url = f"/groups/{show.group_a.pk}/shared-mics/"
        for action in (f"add:{show.jane_a01.pk}", f"add:{carla_a01.pk}", f"up:{carla_a01.pk}"):
            assert admin.post(url, {"action": action}, **HTMX).status_code == 200
        turns = SharedMicService.get_turns(show.group_a, show.unit("A01"))
        assert [t.assignment.performer.name for t in turns] == ["Carla Diaz", "Jane Smith"]
        page = admin.get(url).content.decode()
        assert page.index("Carla Diaz") < page.index("Jane Smith")
        admin.post(url, {"action": f"remove:{carla_a01.pk}"})
        turns = SharedMicService.get_turns(show.group_a, show.unit("A01"))
        assert [(t.assignment.performer.name, t.is_current) for t in turns] == [
            ("Jane Smith", True)
        ]

    @pytest.mark.parametrize("action", ["", "jump:1", "add:", "add:abc", "add", "up:-1"])
    def test_an_unknown_action_is_a_400_in_words(self, show, admin, action) -> None:
        response = admin.post(f"/groups/{show.group_a.pk}/shared-mics/", {"action": action})
        assert response.status_code == 400
        assert b"action must be add, up, down or remove" in response.content

    def test_a_refused_edit_says_why(self, show, shared, admin) -> None:
        jane, _ = shared
        url = f"/groups/{show.group_a.pk}/shared-mics/"
        response = admin.post(url, {"action": f"add:{jane.pk}"})
        assert response.status_code == 400
        assert b"already has a turn" in response.content
        response = admin.post(url, {"action": f"up:{jane.pk}"})
        assert response.status_code == 400
        assert b"cannot move further" in response.content

    def test_an_assignment_of_another_group_is_refused(self, show, admin) -> None:
        url = f"/groups/{show.group_a.pk}/shared-mics/"
        response = admin.post(url, {"action": f"add:{show.carla_b01.pk}"})
        assert response.status_code == 400
        assert not SharedMicService.get_turns(show.group_b, show.unit("B01"))


class TestMicCheck:
    def page(self, client: Client, show: Show) -> str:
        return client.get(f"/groups/{show.group_a.pk}/mic-check/").content.decode()

    def row(self, html: str, unit_id: int) -> str:
        found = re.search(rf'<tr id="check-{unit_id}".*?</tr>', html, re.S)
        assert found is not None
        return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())

    def test_it_lists_each_unit_with_its_performer_and_live_readings(
        self, show, tech_a, live_settings
    ) -> None:
        a01 = show.unit("A01").pk
        state = {"id": a01, "bars": 4, "rf_a": -58.4, "rf_b": -61.0, "audio": -21.6, "tx_on": True}
        sync_client().set(keys.unit_state(a01), orjson.dumps(state))
        html = self.page(tech_a, show)
        assert self.row(html, a01).startswith("A01 Jane Smith 4/5 -58 dBm -22 dBFS")
        assert "A02 (off) Bob Jones — — —" in self.row(html, show.unit("A02").pk)
        assert "0 of 2 checked" in html

    def test_a_tick_shows_who_and_when_and_another_tech_sees_it(
        self, show, tech_a, admin, live_settings
    ) -> None:
        a01 = show.unit("A01").pk
        url = f"/groups/{show.group_a.pk}/mic-check/tick/"
        response = tech_a.post(url, {"unit": a01, "checked": "1"}, **HTMX)
        assert "✓ tech_a at" in self.row(response.content.decode(), a01)
        rows = admin.get(f"/groups/{show.group_a.pk}/mic-check/rows/", **HTMX).content.decode()
        assert "✓ tech_a at" in self.row(rows, a01)
        assert "1 of 2 checked" in rows
        tech_a.post(url, {"unit": a01, "checked": "0"})
        assert "✓" not in self.row(self.page(admin, show), a01)

    @pytest.mark.parametrize(
        "data", [{}, {"unit": "x", "checked": "1"}, {"unit": "1", "checked": "yes"}]
    )
    def test_garbage_is_a_400_in_words(self, show, tech_a, data, live_settings) -> None:
        response = tech_a.post(f"/groups/{show.group_a.pk}/mic-check/tick/", data)
        assert response.status_code == 400
        assert b"Send unit" in response.content

    def test_a_unit_of_another_wall_is_a_400(self, show, admin, live_settings) -> None:
        data = {"unit": show.unit("B01").pk, "checked": "1"}
        response = admin.post(f"/groups/{show.group_a.pk}/mic-check/tick/", data)
        assert response.status_code == 400
        assert b"not on this group's wall" in response.content

    def test_a_new_check_clears_the_ticks_and_lists_the_old_one(
        self, show, tech_a, live_settings
    ) -> None:
        MicCheckService.tick(show.group_a, show.unit("A01"), by_user=show.tech_a)
        response = tech_a.post(f"/groups/{show.group_a.pk}/mic-check/new/")
        assert response.status_code == 302
        html = self.page(tech_a, show)
        assert "0 of 2 checked" in html
        assert "Earlier checks" in html
        assert "1 ticked" in html

    def test_the_wall_marks_which_tiles_are_checked(self, show, tech_a, live_settings) -> None:
        MicCheckService.tick(show.group_a, show.unit("A01"), by_user=show.tech_a)
        html = tech_a.get(f"/walls/{show.group_a.pk}/").content.decode()
        assert 'data-checked="true"' in tile_html(html, show.unit("A01").pk)
        assert 'data-checked="false"' in tile_html(html, show.unit("A02").pk)


class TestUnitHistory:
    def test_the_unit_page_lists_each_hand_over_with_who_did_it(self, show, shared, tech_a):
        jane, carla = shared
        a01 = show.unit("A01")
        url = f"/walls/{show.group_a.pk}/hand-over/"
        tech_a.post(url, {"unit": a01.pk, "current": jane.pk})
        SharedMicService.move_turn(carla, -1, by_user=show.admin)  # a reorder is no hand-over
        tech_a.post(url, {"unit": a01.pk, "current": carla.pk})
        html = tech_a.get(f"/units/{a01.pk}/").content.decode()
        section = html.split("Who was handed the shared mic", 1)[1]
        rows = re.findall(r"<tr><td>.*?</tr>", section, re.S)
        cells = [re.findall(r"<td>(.*?)</td>", row)[1:] for row in rows]
        assert cells == [
            ["Jane Smith", "Main stage", "tech_a"],
            ["Carla Diaz", "Main stage", "tech_a"],
        ]
