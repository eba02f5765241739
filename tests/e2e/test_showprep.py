"""Show prep in a real browser: a shared handheld handed over from one wall reaches every
wall of the group without a reload, and the mic check's ticks reach the other tech's list
and the wall's unchecked marks."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from micboard.models import PerformerAssignment
from micboard.services import SharedMicService
from micboard.timeline.models import Marker
from tests.e2e.live import (
    LIVE_TIMEOUT_MS,
    LiveWallTestCase,
    assign,
    make_group,
    make_receiver,
    off_the_loop,
)
from tests.factories import make_user


@pytest.mark.e2e
class ShowPrepTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.device = self.start_device()
        self.device.call(self.device.simulator.set_battery, 1, bars=5)
        off_the_loop(self.build_stage)
        self.start_poller()
        self.other_context: BrowserContext = self.browser.new_context(
            viewport={"width": 1400, "height": 900}
        )
        self.other_context.set_default_timeout(LIVE_TIMEOUT_MS)

    def tearDown(self) -> None:
        self.other_context.close()
        super().tearDown()

    def build_stage(self) -> None:
        """HH01 passes from a host to two speakers in turn; Ann wears HH02. Two techs."""
        self.units = make_receiver(self.device.port, slots=["HH01", "HH02", "HH03", "HH04"])
        self.tech_a = make_user("tech_a")
        self.tech_c = make_user("tech_c")
        self.group = make_group("Main stage", self.tech_a, self.tech_c)
        for name in ("Hana Host", "Sam Speaker", "Tia Talker"):
            assign(name, self.units[0], self.group)
        assign("Ann Lee", self.units[1], self.group)
        for assignment in PerformerAssignment.objects.filter(wireless_unit=self.units[0]).order_by(
            "pk"
        ):
            SharedMicService.add_turn(assignment)

    def two_walls(self) -> tuple[Page, Page]:
        second = self.sign_in(self.tech_c, self.other_context.new_page())
        first = self.sign_in(self.tech_a)
        for page in (first, second):
            page.goto(self.url(f"/walls/{self.group.pk}/"))
            expect(page.locator("#wall")).to_have_attribute("data-state", "live")
        return first, second

    def turns(self, page: Page):
        return page.locator(f"#tile-{self.units[0].pk} .tile-turns")

    def assert_not_reloaded(self, *pages: Page) -> None:
        for page in pages:
            assert page.evaluate("performance.getEntriesByType('navigation').length") == 1

    def test_a_hand_over_by_click_updates_both_walls_without_reload(self) -> None:
        first, second = self.two_walls()
        for page in (first, second):
            expect(self.turns(page)).to_contain_text("Now: Hana Host · Next: Sam Speaker")
        self.turns(first).get_by_role("button", name="Hand over").click()
        for page in (first, second):
            expect(self.turns(page)).to_contain_text("Now: Sam Speaker · Next: Tia Talker")
        expect(first.locator("#hand-over-status")).to_have_text("HH01 handed over to Sam Speaker")
        self.assert_not_reloaded(first, second)
        labels = off_the_loop(lambda: list(Marker.objects.values_list("label", flat=True)))
        assert labels == ["HH01: Hana Host → Sam Speaker"]

    def test_a_hand_over_by_key_updates_both_walls_and_goes_round(self) -> None:
        first, second = self.two_walls()
        for expected in ("Now: Sam Speaker", "Now: Tia Talker · Next: Hana Host"):
            now = self.turns(second).locator('[data-field="now"]').inner_text()
            second.keyboard.press("h")
            for page in (first, second):
                expect(self.turns(page)).to_contain_text(expected)
            assert now not in self.turns(second).locator('[data-field="now"]').inner_text()
        second.keyboard.press("h")
        for page in (first, second):
            expect(self.turns(page)).to_contain_text("Now: Hana Host · Next: Sam Speaker")
        self.assert_not_reloaded(first, second)

    def test_a_refused_hand_over_says_why_on_the_wall(self) -> None:
        first, _ = self.two_walls()
        button = self.turns(first).get_by_role("button", name="Hand over")
        # As if another tech had handed over first: the button names someone no longer "now".
        ann = off_the_loop(lambda: PerformerAssignment.objects.get(performer__name="Ann Lee").pk)
        button.evaluate(
            "(b, ann) => b.setAttribute('hx-vals', JSON.stringify({...JSON.parse("
            "b.getAttribute('hx-vals')), current: String(ann)}))",
            ann,
        )
        button.click()
        expect(first.locator("#hand-over-status")).to_contain_text(
            "Not handed over: Someone handed this mic over already"
        )
        expect(self.turns(first)).to_contain_text("Now: Hana Host")

    def mic_check(self, page: Page) -> Page:
        page.goto(self.url(f"/groups/{self.group.pk}/mic-check/"))
        return page

    def test_a_tick_shows_who_and_when_on_the_other_techs_list_and_the_wall(self) -> None:
        other = self.sign_in(self.tech_c, self.other_context.new_page())
        self.mic_check(other)
        self.sign_in(self.tech_a)
        wall = self.page
        wall.goto(self.url(f"/walls/{self.group.pk}/"))
        expect(wall.locator("#wall")).to_have_attribute("data-state", "live")
        wall.keyboard.press("u")
        expect(wall.locator("#wall")).to_have_class("wall show-unchecked")
        hh01 = wall.locator(f"#tile-{self.units[0].pk}")
        expect(hh01).to_have_attribute("data-checked", "false")
        expect(hh01).to_have_css("outline-style", "dashed")

        checker = self.mic_check(self.context.new_page())
        row = checker.locator(f"#check-{self.units[0].pk}")
        expect(row).to_contain_text("5/5")  # the simulator's battery, read live
        row.get_by_role("button", name="Checked HH01").click()
        expect(row).to_contain_text("✓ tech_a at")
        other_row = other.locator(f"#check-{self.units[0].pk}")
        expect(other_row).to_contain_text("✓ tech_a at")  # the second tech's list
        expect(other.locator(".checked-count")).to_have_text("1 of 2 checked")
        expect(hh01).to_have_attribute("data-checked", "true")  # the wall, without reload
        expect(hh01).not_to_have_css("outline-style", "dashed")
        expect(wall.locator(f"#tile-{self.units[1].pk}")).to_have_attribute("data-checked", "false")
        self.assert_not_reloaded(wall, other)

        other_row.get_by_role("button", name="Untick HH01").click()
        expect(row).not_to_contain_text("✓")
        expect(hh01).to_have_attribute("data-checked", "false")

    def test_the_mic_check_prints_without_its_buttons(self) -> None:
        self.sign_in(self.tech_a)
        page = self.mic_check(self.page)
        expect(page.get_by_role("button", name="Checked HH01")).to_be_visible()
        page.emulate_media(media="print")
        expect(page.get_by_role("button", name="Checked HH01")).to_be_hidden()
        expect(page.get_by_role("button", name="Start a new check")).to_be_hidden()
        expect(page.locator(f"#check-{self.units[0].pk}")).to_contain_text("Hana Host")
