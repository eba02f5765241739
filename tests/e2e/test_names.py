"""Names wrap or shrink to fit and never overlap: a shared unit's performers, long names in TV
mode, and a 200-character name without spaces on the wall and the performer pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from micboard.models import Alert, Organization, Performer, PerformerAssignment
from micboard.services import AlertService, PerformerService
from tests import factories
from tests.e2e.live import LiveWallTestCase, assign, make_group, off_the_loop
from tests.factories import make_user

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1920, "height": 1080}
UNBROKEN = "W" * 200  # a name with no space to break at
# Whether any line of text of element b lies over element a's box.
OVERLAP = """([a, b]) => {
  const boxA = document.querySelector(a).getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(document.querySelector(b));
  return [...range.getClientRects()].some((r) => r.width > 0 && r.left < boxA.right &&
    r.right > boxA.left && r.top < boxA.bottom && r.bottom > boxA.top);
}"""


@pytest.mark.e2e
class NameFitTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        off_the_loop(self.build_stage)
        self.sign_in(self.admin)

    def build_stage(self) -> None:
        self.units = factories.make_receiver(
            Organization.default(), 2202, slots=["HH01", "HH02", "HH03"]
        )[1]
        self.admin = make_user("admin", role="admin")
        self.group = make_group("Main stage", self.admin)
        assign("Alexandra Montgomery-Whitfield", self.units[0], self.group, title="Lead")
        assign("Bartholomew Fitzgerald-Jones", self.units[0], self.group, title="Alt")
        assign("Maximiliana Theodora Vandersloot-Kowalczyk", self.units[1], self.group)
        assign(UNBROKEN, self.units[2], self.group)
        self.unbroken = Performer.objects.get(name=UNBROKEN)
        PerformerService.create_performer("Zoë Keller")
        # An alert naming the long name, so the alert tables have a row to fit too.
        AlertService.raise_alert(
            PerformerAssignment.objects.get(performer=self.unbroken), Alert.Kind.BATTERY_LOW
        )

    def open_wall(self) -> None:
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        expect(self.page.locator("#wall")).to_have_attribute("data-state", "live")

    def tile(self, index: int) -> str:
        return f"#tile-{self.units[index].pk}"

    def assert_no_sideways_scroll(self, page: Page, width: int, what: str) -> None:
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{what} is {scroll}px wide at {width}px"

    def test_a_shared_unit_shows_both_performers_a_line_each(self) -> None:
        self.page.set_viewport_size(DESKTOP)
        self.open_wall()
        wearers = self.page.locator(f"{self.tile(0)} .wearer")
        expect(wearers).to_have_count(2)
        for index in range(2):
            expect(wearers.nth(index)).to_be_visible()
            box = wearers.nth(index).bounding_box()
            head = self.page.locator(f"{self.tile(0)} .tile-head").bounding_box()
            assert box is not None
            assert head is not None
            assert head["y"] <= box["y"]  # both lines inside the coloured head, none cut off
            assert box["y"] + box["height"] <= head["y"] + head["height"]
        heading = self.page.locator(f"{self.tile(0)} .tile-name")
        expect(heading).to_have_text(
            "Alexandra Montgomery-Whitfield / Bartholomew Fitzgerald-Jones"
        )  # read aloud as one name

    def test_long_names_in_tv_mode_never_cover_the_slot(self) -> None:
        self.page.set_viewport_size(DESKTOP)
        self.open_wall()
        self.page.keyboard.press("t")
        expect(self.page.locator("#wall")).to_have_attribute("data-mode", "tv")
        for index in range(3):
            tile = self.tile(index)
            covered = self.page.evaluate(OVERLAP, [f"{tile} .tile-slot", f"{tile} .tile-name"])
            assert not covered, f"the name covers the slot of tile {index}"
            expect(self.page.locator(f"{tile} .tile-slot")).to_be_visible()
        self.assert_no_sideways_scroll(self.page, DESKTOP["width"], "the TV wall")

    def test_a_200_character_name_never_widens_a_page(self) -> None:
        pages = [
            f"/walls/{self.group.pk}/",
            "/performers/",
            f"/performers/{self.unbroken.pk}/edit/",
            f"/groups/{self.group.pk}/assignments/",
        ]
        for viewport in (PHONE, DESKTOP):
            self.page.set_viewport_size(viewport)
            for path in pages:
                self.page.goto(self.url(path))
                expect(self.page.get_by_text(UNBROKEN[:20]).first).to_be_attached()
                self.assert_no_sideways_scroll(self.page, viewport["width"], path)

    def test_the_admin_pages_fit_a_phone(self) -> None:
        self.page.set_viewport_size(PHONE)
        for path in (
            "/performers/",
            "/groups/",
            f"/groups/{self.group.pk}/",
            f"/groups/{self.group.pk}/assignments/",
            "/devices/",
            "/alerts/",
            "/api-tokens/",
            "/chargers/",
            f"/units/{self.units[0].pk}/",
        ):
            self.page.goto(self.url(path))
            expect(self.page.locator("main")).to_be_visible()
            self.assert_no_sideways_scroll(self.page, PHONE["width"], path)

    def test_the_live_search_finds_zoe_in_capitals(self) -> None:
        self.page.goto(self.url("/performers/"))
        rows = self.page.locator("#performer-list")
        self.page.get_by_label("Search").press_sequentially("ZOË")  # as typed: live search
        expect(rows).not_to_contain_text("Alexandra")  # the search has answered
        expect(rows).to_contain_text("Zoë Keller")
