"""Automated accessibility checks (axe-core: WCAG 2 A and AA, which cover contrast and
labels) of the wall in every status and of the main pages, and the wall on a phone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from dashboard.walls import STATUSES
from micboard.models import Alert, PerformerAssignment
from micboard.services import ApiTokenService, KioskService, MicCheckService, SharedMicService
from tests.e2e.live import (
    LiveWallTestCase,
    assign,
    make_group,
    make_receiver,
    off_the_loop,
)
from tests.e2e.test_live_script import ScriptedServer, unit_state
from tests.factories import make_user

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PHONE = {"width": 390, "height": 844}


@pytest.mark.e2e
class AccessibilityTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        off_the_loop(self.build_stage)
        self.server = ScriptedServer(self.page)

    def build_stage(self) -> None:
        """One tile per status, so every status colour is checked."""
        self.units = make_receiver(2202, slots=[f"HH{n:02d}" for n in range(1, 11)])
        # A channel name on the receiver, so its label on the tile is checked too.
        type(self.units[0]).objects.filter(pk=self.units[0].pk).update(name="Bishop")
        self.admin = make_user("admin", role="admin")
        self.group = make_group("Main stage", self.admin)
        for unit in self.units:
            assign(f"Performer {unit.slot}", unit, self.group, title="Vocals")
        # HH01 is shared (its tile's Now/Next and Hand over), handed over once, and ticked.
        assign("Guest Speaker", self.units[0], self.group)
        shared = PerformerAssignment.objects.filter(wireless_unit=self.units[0]).order_by("pk")
        for turn in shared:
            SharedMicService.add_turn(turn)
        SharedMicService.hand_over(self.group, self.units[0], expected_current=shared[0].pk)
        MicCheckService.tick(self.group, self.units[0])
        self.link = KioskService.create_link(self.group, "FOH")
        assignment = PerformerAssignment.objects.select_related("wireless_unit").first()
        assert assignment is not None
        Alert.objects.create(
            organization=assignment.organization, kind="battery_low", severity="warning",
            wireless_unit=assignment.wireless_unit, assignment=assignment,
            monitoring_group=self.group, message="Battery low: Performer HH01 (HH01)",
        )  # fmt: skip

    def every_status(self) -> None:
        """Send a snapshot with every status, fresh: each check sends its own, since axe
        runs for seconds on a loaded machine and tiles go stale 5 s after their time."""
        self.seq = getattr(self, "seq", 0) + 1
        states = {
            str(unit.pk): unit_state(unit.pk, status=status, bars=4, clip=status == "AUDIO_PEAK")
            for unit, status in zip(self.units, STATUSES, strict=True)
        }
        self.server.wait_for(lambda: len(self.server.sockets) == 1, "the wall connecting")
        self.server.send(
            {"type": "snapshot", "group": self.group.pk, "seq": self.seq, "units": states}
        )
        expect(self.page.locator("#wall")).to_have_attribute("data-state", "live")

    def assert_accessible(self, page: Page | None = None) -> None:
        results = Axe().run(page or self.page, options=WCAG)
        assert results.violations_count == 0, results.generate_report()

    def test_the_wall_in_every_status_desk_and_tv(self) -> None:
        self.sign_in(self.admin)
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        self.every_status()
        self.assert_accessible()
        self.page.keyboard.press("?")
        expect(self.page.locator("#help")).to_be_visible()
        self.every_status()  # fresh states: each check takes seconds, and old ones grey out
        self.assert_accessible()  # the legend's swatches too
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("q")
        expect(self.page.locator("#qr")).to_be_visible()
        self.every_status()
        self.assert_accessible()  # the QR code panel
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("t")
        self.every_status()
        self.assert_accessible()

    def test_the_wall_with_its_unchecked_tiles_outlined(self) -> None:
        self.sign_in(self.admin)
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        self.every_status()
        self.page.keyboard.press("u")
        expect(self.page.locator("#wall")).to_have_class("wall show-unchecked")
        self.assert_accessible()

    def test_the_kiosk(self) -> None:
        self.page.goto(self.url(f"/kiosk/{self.link.token}/"))
        self.every_status()
        self.assert_accessible()

    def test_the_main_pages(self) -> None:
        self.page.goto(self.url("/accounts/login/"))
        self.assert_accessible()
        self.sign_in(self.admin)
        unit = self.units[0].pk
        ApiTokenService.create_token("Companion", [self.group], by_user=self.admin)
        for path in (
            "/",
            "/performers/",
            "/performers/new/",
            "/performers/import/",
            f"/groups/{self.group.pk}/assignments/",
            "/groups/",
            f"/groups/{self.group.pk}/",
            "/alerts/",
            f"/units/{unit}/",
            "/api-tokens/",
            "/chargers/",
            f"/groups/{self.group.pk}/timeline/",
            f"/units/{unit}/timeline/",
            f"/groups/{self.group.pk}/report/",
            "/rosters/",
            f"/rosters/groups/{self.group.pk}/",
            f"/groups/{self.group.pk}/shared-mics/",
            f"/groups/{self.group.pk}/mic-check/",
        ):
            response = self.page.goto(self.url(path))
            assert response is not None
            assert response.ok, path
            self.assert_accessible()

    def test_the_wall_on_a_phone(self) -> None:
        self.page.set_viewport_size(PHONE)
        self.sign_in(self.admin)
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        self.every_status()
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the wall scrolls sideways ({width}px)"
        self.assert_accessible()
        wall_url = self.page.url
        tile = self.page.locator(f"#tile-{self.units[3].pk}")
        expect(tile.locator(".drawer")).to_be_hidden()
        tile.click()  # the first tap opens the details in place
        expect(tile).to_have_attribute("data-expanded", "true")
        expect(tile.locator('[data-field="runtime"]')).to_be_visible()
        expect(tile.locator('[data-field="runtime"]')).to_have_text("4:35")
        expect(tile.locator('[data-meter="rf_a"]')).to_be_visible()
        expect(tile.locator('[data-meter="audio"]')).to_be_visible()
        assert self.page.url == wall_url
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the open tile scrolls sideways ({width}px)"
        self.every_status()
        self.assert_accessible()
        other = self.page.locator(f"#tile-{self.units[4].pk}")
        other.click()  # another tile's details replace the first's
        expect(other.locator(".drawer")).to_be_visible()
        expect(tile.locator(".drawer")).to_be_hidden()
        tile.click()
        tile.click()  # and a tap on an open tile opens its unit page
        expect(self.page).to_have_url(self.url(f"/units/{self.units[3].pk}/"))
        expect(self.page.get_by_role("heading", level=1)).to_contain_text("HH04")
