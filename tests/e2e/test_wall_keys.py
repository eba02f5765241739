"""Keys 1-9 open the wall an admin numbered, the same key for every user."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from micboard.models import MonitoringGroup
from micboard.services import GroupService
from tests.e2e.live import LiveWallTestCase, make_group, off_the_loop
from tests.factories import make_user


@pytest.mark.e2e
class WallKeyTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        off_the_loop(self.build_stage)

    def build_stage(self) -> None:
        """Alphabetically "Main stage" is wall 2 for one tech and wall 1 for the other."""
        self.admin = make_user("admin", role="admin")
        self.front = make_user("front")
        self.side = make_user("side")
        self.alpha = make_group("Alpha band", self.front)
        self.main = make_group("Main stage", self.front, self.side)
        self.zulu = make_group("Zulu stage", self.side)
        GroupService.set_number(self.main, 2)
        GroupService.set_number(self.alpha, 3)

    def wall(self, page: Page, group: MonitoringGroup) -> None:
        page.goto(self.url(f"/walls/{group.pk}/"))
        expect(page.locator("#wall")).to_have_attribute("data-state", "live")

    def test_the_same_key_opens_the_same_wall_for_every_user(self) -> None:
        front = self.sign_in(self.front)
        self.wall(front, self.alpha)
        front.keyboard.press("2")
        expect(front).to_have_url(self.url(f"/walls/{self.main.pk}/"))

        other = self.browser.new_context()
        try:
            side = self.sign_in(self.side, other.new_page())
            self.wall(side, self.zulu)
            expect(side.locator(".wall-switch kbd")).to_have_text(["2"])  # Zulu has no key
            side.keyboard.press("2")
            expect(side).to_have_url(self.url(f"/walls/{self.main.pk}/"))
            side.keyboard.press("3")  # Alpha's key, but not a wall this tech may watch
            expect(side.locator("#wall")).to_have_attribute("data-state", "live")
            expect(side).to_have_url(self.url(f"/walls/{self.main.pk}/"))

            # The admin numbers Zulu on its group page; the tech's next wall has the key.
            self.sign_in(self.admin)
            self.page.goto(self.url(f"/groups/{self.zulu.pk}/"))
            section = self.page.locator("#group-number")
            section.get_by_label("Wall key").select_option("5")
            section.get_by_role("button", name="Save key").click()
            expect(section).to_contain_text("Key saved.")
            section.get_by_label("Wall key").select_option("2")
            section.get_by_role("button", name="Save key").click()
            expect(section).to_contain_text("Key 2 opens Main stage already.")

            side.reload()
            expect(side.locator("#wall")).to_have_attribute("data-state", "live")
            side.keyboard.press("5")
            expect(side).to_have_url(self.url(f"/walls/{self.zulu.pk}/"))
        finally:
            other.close()
