"""A manual tile in a real browser: an admin places a G3 IEM pack with its performer from
the group page; the live wall shows it beside the live tiles, marked unmonitored, and the
live script leaves it alone (never greyed as stale, no meters)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from micboard.services import PerformerService
from tests.e2e.live import LiveWallTestCase, assign, make_group, make_receiver, off_the_loop
from tests.e2e.test_accessibility import WCAG
from tests.factories import make_user


@pytest.mark.e2e
class ManualTileTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.device = self.start_device("ULXD4D")
        units = off_the_loop(make_receiver, self.device.port, slots=["HH01", "HH02"])
        self.admin = off_the_loop(make_user, "admin", role="admin")
        self.group = off_the_loop(make_group, "Main stage")
        off_the_loop(assign, "Jane Smith", units[0], self.group)
        off_the_loop(PerformerService.create_performer, "Ivy Monitor")
        self.start_poller()
        self.sign_in(self.admin)

    def test_an_admin_places_an_iem_pack_and_the_wall_shows_it_unmonitored(self) -> None:
        self.page.goto(self.url(f"/groups/{self.group.pk}/"))
        section = self.page.locator("#manual-units")
        section.get_by_label("Slot").fill("IEM07")
        section.get_by_label("Kind").select_option("iem")
        section.get_by_label("Performer").select_option(label="Ivy Monitor")
        section.get_by_role("button", name="Place on the wall").click()
        expect(section.get_by_role("status")).to_contain_text("Placed IEM07 (Ivy Monitor)")

        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        expect(self.page.locator("#wall")).to_have_attribute("data-state", "live")
        manual = self.page.locator(".tile-manual")
        expect(manual).to_contain_text("IEM07")
        expect(manual).to_contain_text("Ivy Monitor")
        expect(manual).to_contain_text("Unmonitored: not networked")
        expect(manual.locator(".meter")).to_have_count(0)
        live_tile = self.page.locator(".tile[data-unit]")
        expect(live_tile).to_have_attribute("data-status", "GOOD")  # the live one moves on
        expect(manual).not_to_have_attribute("data-stale", "true")
        self.screenshot("wall-manual-tile")
        results = Axe().run(self.page, options=WCAG)
        assert results.violations_count == 0, results.generate_report()
