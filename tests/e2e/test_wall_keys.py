"""The wall's keys: 1-9 open the wall an admin numbered, the same key for every user; and the
original Micboard's q, n, N and s."""

from __future__ import annotations

import re

import pytest
import segno
from playwright.sync_api import Page, expect

from micboard.models import MonitoringGroup
from micboard.services import GroupService, KioskService
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


@pytest.mark.e2e
class OriginalKeyTests(LiveWallTestCase):
    """The original Micboard's keys: q (a QR code for phones), n and N (names), s (devices)."""

    def setUp(self) -> None:
        super().setUp()
        off_the_loop(self.build_stage)

    def build_stage(self) -> None:
        self.admin = make_user("admin", role="admin")
        self.tech = make_user("tech")
        self.group = make_group("Main stage", self.tech)
        self.link = KioskService.create_link(self.group, "FOH")

    def open_wall(self, page: Page) -> str:
        wall_url = self.url(f"/walls/{self.group.pk}/")
        page.goto(wall_url)
        expect(page.locator("#wall")).to_have_attribute("data-state", "live")
        return wall_url

    def assert_qr_of(self, page: Page, url: str) -> None:
        panel = page.locator("#qr")
        expect(panel).to_be_hidden()
        page.keyboard.press("q")
        expect(panel).to_be_visible()
        expect(panel.locator(".qr-url")).to_have_text(url)
        drawn = panel.locator("svg").evaluate("svg => svg.outerHTML")
        expected = segno.make(url, error="m").svg_inline(scale=6, dark="#000", light="#fff")
        assert drawn.count("<path") == expected.count("<path")
        assert _modules(drawn) == _modules(expected)  # the code of exactly this URL
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()

    def test_q_shows_a_qr_code_of_the_wall_on_the_wall_and_the_kiosk(self) -> None:
        self.sign_in(self.tech)
        wall_url = self.open_wall(self.page)
        self.assert_qr_of(self.page, wall_url)

        kiosk = self.browser.new_context().new_page()
        try:
            kiosk.goto(self.url(f"/kiosk/{self.link.token}/"))
            expect(kiosk.locator("#wall")).to_have_attribute("data-state", "live")
            self.assert_qr_of(kiosk, wall_url)  # the signed-in wall, not the kiosk link
        finally:
            kiosk.context.close()

    def test_n_N_and_s_open_names_the_name_list_import_and_devices(self) -> None:
        self.sign_in(self.admin)
        for key, path in (("n", "/performers/"), ("N", "/performers/import/"), ("s", "/devices/")):
            self.open_wall(self.page)
            self.page.keyboard.press(key)
            expect(self.page).to_have_url(self.url(path))

    def test_a_tech_has_n_but_not_the_admin_keys(self) -> None:
        self.sign_in(self.tech)
        wall_url = self.open_wall(self.page)
        self.page.keyboard.press("s")
        self.page.keyboard.press("N")
        expect(self.page.locator("#wall")).to_have_attribute("data-state", "live")
        expect(self.page).to_have_url(wall_url)
        self.page.keyboard.press("n")
        expect(self.page).to_have_url(self.url("/performers/"))


def _modules(svg: str) -> str:
    """The drawn modules: the path data of segno's SVG, whatever attributes surround it."""
    return "".join(re.findall(r' d="([^"]+)"', svg))


@pytest.mark.e2e
class KioskTvLinkTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        off_the_loop(self.build_stage)

    def build_stage(self) -> None:
        self.admin = make_user("admin", role="admin")
        self.group = make_group("Main stage")
        self.link = KioskService.create_link(self.group, "FOH")

    def test_a_kiosk_link_opens_in_tv_mode_with_the_chosen_layout(self) -> None:
        self.sign_in(self.admin)
        self.page.goto(self.url(f"/groups/{self.group.pk}/"))
        self.page.get_by_text("For a TV").click()
        address = self.page.get_by_label("TV: name only, full height").input_value()
        assert address == self.url(f"/kiosk/{self.link.token}/#mode=tv&layout=00")

        screen = self.browser.new_context()
        try:
            kiosk = screen.new_page()
            kiosk.goto(address)
            wall = kiosk.locator("#wall")
            expect(wall).to_have_attribute("data-state", "live")
            expect(wall).to_have_attribute("data-mode", "tv")
            expect(wall).to_have_attribute("data-layout", "00")
        finally:
            screen.close()
