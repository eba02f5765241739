"""Group pages for admins: members, tile order, kiosk links."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from micboard.models import KioskLink, MonitoringGroup, WirelessUnit
from micboard.services import GroupService, KioskService
from tests.dashboard.conftest import HTMX, Show

pytestmark = pytest.mark.django_db


def order_of(group: MonitoringGroup) -> list[int | None]:
    group.refresh_from_db()
    return list(group.tile_order)


class TestAccess:
    def test_the_pages_are_for_admins(self, show: Show, admin: Client, tech_a: Client) -> None:
        assert admin.get("/groups/").status_code == 200
        assert admin.get(f"/groups/{show.group_a.pk}/").status_code == 200
        assert tech_a.get("/groups/").status_code == 403
        assert tech_a.get(f"/groups/{show.group_a.pk}/").status_code == 404

    def test_the_nav_shows_groups_to_admins_only(
        self, show: Show, admin: Client, tech_a: Client
    ) -> None:
        assert 'href="/groups/"' in admin.get("/").content.decode()
        assert 'href="/groups/"' not in tech_a.get("/").content.decode()

    def test_a_tech_changes_nothing(self, show: Show, tech_a: Client) -> None:
        group = show.group_a
        assert (
            tech_a.post(f"/groups/{group.pk}/members/", {"users": [show.tech_b.pk]}).status_code
            == 404
        )
        assert (
            tech_a.post(f"/groups/{group.pk}/tile-order/", {"action": "blank:0"}).status_code == 404
        )
        assert tech_a.post(f"/groups/{group.pk}/kiosk-links/", {"label": "x"}).status_code == 404
        assert list(group.users.all()) == [show.tech_a]
        assert order_of(group) == []
        assert not KioskLink.objects.exists()


class TestMembers:
    def test_an_admin_sets_the_members(self, show: Show, admin: Client) -> None:
        response = admin.post(
            f"/groups/{show.group_a.pk}/members/", {"users": [show.tech_b.pk]}, **HTMX
        )
        assert "Members saved." in response.content.decode()
        assert list(show.group_a.users.all()) == [show.tech_b]

    def test_the_service_refuses_a_non_admin(self, show: Show) -> None:
        with pytest.raises(PermissionDenied):
            GroupService.set_members(show.group_a, [show.tech_b], by_user=show.tech_a)


class TestTileOrder:
    def test_move_blank_and_remove(self, show: Show, admin: Client) -> None:
        a01, a02 = show.unit("A01").pk, show.unit("A02").pk
        url = f"/groups/{show.group_a.pk}/tile-order/"
        admin.post(url, {"action": "down:0"}, **HTMX)
        assert order_of(show.group_a) == [a02, a01]
        admin.post(url, {"action": "blank:1"}, **HTMX)
        assert order_of(show.group_a) == [a02, None, a01]
        html = admin.post(url, {"action": "remove:1"}, **HTMX).content.decode()
        assert order_of(show.group_a) == [a02, a01]
        assert html.lstrip().startswith('<section id="tile-order"')

    @pytest.mark.parametrize("action", ["", "up", "up:x", "up:9", "remove:0", "explode:0"])
    def test_a_bad_action_is_refused(self, show: Show, admin: Client, action: str) -> None:
        response = admin.post(f"/groups/{show.group_a.pk}/tile-order/", {"action": action})
        assert response.status_code == 400
        assert order_of(show.group_a) == []

    @pytest.mark.parametrize("order", [[True], ["1"], [1, 1], [10_000]])
    def test_the_service_validates_the_order(self, show: Show, order: list[object]) -> None:
        with pytest.raises(ValidationError):
            GroupService.set_tile_order(show.group_a, order, by_user=show.admin)  # type: ignore[arg-type]


class TestKioskLinks:
    def test_create_copy_and_revoke(self, show: Show, admin: Client) -> None:
        html = admin.post(
            f"/groups/{show.group_a.pk}/kiosk-links/", {"label": "FOH left"}, **HTMX
        ).content.decode()
        link = KioskLink.objects.get(label="FOH left")
        assert f"http://testserver/kiosk/{link.token}/" in html
        assert 'data-copy="kiosk-url-' in html
        html = admin.post(f"/kiosk-links/{link.pk}/revoke/", **HTMX).content.decode()
        link.refresh_from_db()
        assert link.is_revoked
        assert "revoked" in html

    def test_a_label_is_required(self, show: Show, admin: Client) -> None:
        html = admin.post(
            f"/groups/{show.group_a.pk}/kiosk-links/", {"label": ""}, **HTMX
        ).content.decode()
        assert 'id="id_label_error"' in html
        assert not KioskLink.objects.exists()

    def test_a_tech_cannot_revoke(self, show: Show, tech_a: Client) -> None:
        link = KioskService.create_link(show.group_a, "Stage", by_user=show.admin)
        assert tech_a.post(f"/kiosk-links/{link.pk}/revoke/").status_code == 404
        link.refresh_from_db()
        assert not link.is_revoked


class TestShowEnd:
    def test_an_admin_sets_it_and_a_short_battery_says_so_on_the_wall(
        self, show: Show, admin: Client, tech_a: Client
    ) -> None:
        ends = timezone.localtime().replace(second=0, microsecond=0) + timedelta(hours=2)
        read_at = ends - timedelta(minutes=90)
        WirelessUnit.objects.filter(pk=show.unit("A01").pk).update(
            battery_minutes=60, last_seen=read_at
        )  # empty 30 min before the end
        WirelessUnit.objects.filter(pk=show.unit("A02").pk).update(
            battery_minutes=120, last_seen=read_at
        )  # lasts
        answer = admin.post(
            f"/groups/{show.group_a.pk}/show-end/",
            {"show_ends_at": ends.strftime("%Y-%m-%dT%H:%M")},
            **HTMX,
        )
        assert f"The show ends at {ends:%H:%M}." in answer.content.decode()
        show.group_a.refresh_from_db()
        assert show.group_a.show_ends_at == ends

        tiles = html.unescape(tech_a.get(f"/walls/{show.group_a.pk}/tiles/").content.decode())
        empty = read_at + timedelta(minutes=60)
        assert f"won't last: {empty:%H:%M} < {ends:%H:%M}" in tiles
        assert tiles.count("won't last") == 1, "A02's battery lasts"

        admin.post(f"/groups/{show.group_a.pk}/show-end/", {"show_ends_at": ""}, **HTMX)
        tiles = html.unescape(tech_a.get(f"/walls/{show.group_a.pk}/tiles/").content.decode())
        assert "won't last" not in tiles

    def test_a_tech_cannot_set_it_and_a_bad_time_is_refused(
        self, show: Show, admin: Client, tech_a: Client
    ) -> None:
        url = f"/groups/{show.group_a.pk}/show-end/"
        assert tech_a.post(url, {"show_ends_at": "2026-12-06T22:15"}).status_code == 404
        with pytest.raises(PermissionDenied):
            GroupService.set_show_end(show.group_a, timezone.now(), by_user=show.tech_a)
        answer = admin.post(url, {"show_ends_at": "tonight"}, **HTMX)
        assert "Enter a valid date/time." in answer.content.decode()
        show.group_a.refresh_from_db()
        assert show.group_a.show_ends_at is None


class TestWallKeys:
    def test_an_admin_gives_a_group_a_key_on_its_page(self, show: Show, admin: Client) -> None:
        response = admin.post(f"/groups/{show.group_a.pk}/number/", {"number": "3"}, **HTMX)
        assert "Key saved." in response.content.decode()
        show.group_a.refresh_from_db()
        assert show.group_a.number == 3
        admin.post(f"/groups/{show.group_a.pk}/number/", {"number": ""}, **HTMX)
        show.group_a.refresh_from_db()
        assert show.group_a.number is None

    def test_a_key_taken_by_another_group_is_refused_by_name(
        self, show: Show, admin: Client
    ) -> None:
        GroupService.set_number(show.group_b, 2)
        response = admin.post(f"/groups/{show.group_a.pk}/number/", {"number": "2"}, **HTMX)
        assert f"Key 2 opens {show.group_b.name} already." in response.content.decode()
        show.group_a.refresh_from_db()
        assert show.group_a.number is None

    @pytest.mark.parametrize("number", [0, 10, -1])
    def test_the_service_takes_1_to_9_only(self, show: Show, number: int) -> None:
        with pytest.raises(ValidationError, match="from 1 to 9"):
            GroupService.set_number(show.group_a, number, by_user=show.admin)

    def test_the_service_refuses_a_non_admin(self, show: Show) -> None:
        with pytest.raises((PermissionDenied, ValidationError)):
            GroupService.set_number(show.group_a, 1, by_user=show.tech_a)
        show.group_a.refresh_from_db()
        assert show.group_a.number is None

    def test_every_user_gets_the_same_key_for_a_group(
        self, show: Show, admin: Client, tech_a: Client
    ) -> None:
        show.group_b.users.add(show.tech_a)  # tech A watches both walls, as the admin does
        GroupService.set_number(show.group_b, 2)
        for client in (admin, tech_a):
            html = client.get(f"/walls/{show.group_a.pk}/").content.decode()
            assert f'href="/walls/{show.group_b.pk}/" data-key="2"' in html
            assert 'data-key="1"' not in html  # group A has no key: none from the name order
