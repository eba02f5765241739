"""Kiosk links: a wall with no login, read-only, that stops when its link is revoked."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from micboard.models import KioskLink, Organization
from micboard.services import KioskService, PerformerService
from tests.dashboard.conftest import Show
from tests.dashboard.test_performers import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(show: Show) -> KioskLink:
    return KioskService.create_link(show.group_a, "FOH left", by_user=show.admin)


class TestKioskPage:
    def test_it_shows_the_wall_without_login(self, show: Show, link: KioskLink) -> None:
        response = Client().get(f"/kiosk/{link.token}/")
        html = response.content.decode()
        assert response.status_code == 200
        assert "Jane Smith" in html
        assert "Bob Jones" in html
        assert "Carla" not in html
        assert f'data-live-url="/ws/kiosk/{link.token}/"' in html
        assert 'data-kiosk="true"' in html

    def test_it_is_read_only(self, show: Show, link: KioskLink) -> None:
        html = Client().get(f"/kiosk/{link.token}/").content.decode()
        assert "/units/" not in html  # no links into signed-in pages
        assert "Acknowledge" not in html
        assert 'role="toolbar"' not in html
        assert "Sign out" not in html

    def test_a_revoked_link_says_so(self, show: Show, link: KioskLink) -> None:
        KioskService.revoke_link(link, by_user=show.admin)
        response = Client().get(f"/kiosk/{link.token}/")
        assert response.status_code == 410
        assert "This kiosk link was revoked" in response.content.decode()
        assert Client().get(f"/kiosk/{link.token}/tiles/").status_code == 410

    def test_an_unknown_link_is_not_found_and_never_asks_for_a_login(self, show: Show) -> None:
        response = Client().get("/kiosk/not-a-real-token/")
        assert response.status_code == 404
        assert "does not exist" in response.content.decode()

    def test_it_works_in_the_links_tenant_with_multi_tenancy_on(
        self, show: Show, link: KioskLink, settings
    ) -> None:
        settings.MICBOARD_MULTI_TENANT = True
        assert link.organization_id == Organization.default().pk
        html = Client().get(f"/kiosk/{link.token}/").content.decode()
        assert "Jane Smith" in html


class TestKioskTiles:
    def test_it_answers_named_tiles(self, show: Show, link: KioskLink) -> None:
        a01 = show.unit("A01").pk
        html = Client().get(f"/kiosk/{link.token}/tiles/?units={a01}").content.decode()
        assert f'id="tile-{a01}"' in html
        assert 'hx-swap-oob="true"' in html
        assert "/units/" not in html

    def test_it_does_not_render_another_groups_units(self, show: Show, link: KioskLink) -> None:
        b01 = show.unit("B01").pk
        html = Client().get(f"/kiosk/{link.token}/tiles/?units={b01}").content.decode()
        assert "Carla" not in html
        assert f"tile-{b01}" not in html


class TestKioskPhotos:
    def test_it_serves_photos_of_performers_on_its_wall_only(
        self, show: Show, link: KioskLink, tmp_path, settings
    ) -> None:
        settings.MEDIA_ROOT = tmp_path
        for performer in (show.jane, show.carla):
            photo = SimpleUploadedFile("face.png", png_bytes(), content_type="image/png")
            PerformerService.update_performer(performer, photo_file=photo)
        client = Client()
        jane = client.get(f"/kiosk/{link.token}/photos/{show.jane.pk}/")
        assert jane.status_code == 200
        assert b"".join(jane.streaming_content).startswith(b"\xff\xd8")  # re-encoded: a JPEG
        assert client.get(f"/kiosk/{link.token}/photos/{show.carla.pk}/").status_code == 404
        page = client.get(f"/kiosk/{link.token}/").content.decode()
        assert f"/kiosk/{link.token}/photos/{show.jane.pk}/" in page
