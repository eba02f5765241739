"""Alerts never move or hide a tile: the strip keeps one height, the list opens over the wall.

A simulated receiver feeds the real poller; alerts are raised through AlertService, so they
reach the walls and the kiosk as alert frames, the way the poller's do.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from micboard.models import Alert, PerformerAssignment
from micboard.services import AlertService, KioskService
from tests.e2e.live import LiveWallTestCase, assign, make_group, make_receiver, off_the_loop
from tests.factories import make_user

DESKTOP = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
# Every tile's box, and whether the tile itself is what shows at its centre (not covered).
TILE_BOXES = """() => [...document.querySelectorAll('.tile[data-unit]')].map((tile) => {
  const box = tile.getBoundingClientRect();
  const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return [tile.id, box.x, box.y, box.width, box.height, Boolean(top && tile.contains(top))];
})"""
FIVE_ALERTS = [
    (0, Alert.Kind.BATTERY_LOW),
    (1, Alert.Kind.BATTERY_LOW),
    (2, Alert.Kind.AUDIO_LOW),
    (3, Alert.Kind.SIGNAL_LOSS),
    (0, Alert.Kind.AUDIO_LOW),
]


@pytest.mark.e2e
class AlertStripTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.device = self.start_device()
        for channel in range(1, 5):  # full batteries: the poller raises none of its own
            self.device.call(self.device.simulator.set_battery, channel, bars=5)
        off_the_loop(self.build_stage)
        self.start_poller()

    def build_stage(self) -> None:
        self.units = make_receiver(self.device.port, slots=["HH01", "HH02", "HH03", "HH04"])
        self.tech = make_user("tech")
        self.group = make_group("Main stage", self.tech)
        names = ["Jane Smith", "Ann Lee", "Bob Ray", "Cy Dee"]
        for unit, name in zip(self.units, names, strict=True):
            assign(name, unit, self.group, title="Vocals")
        self.link = KioskService.create_link(self.group, "FOH")

    def raise_five(self) -> None:
        assignments = {a.wireless_unit_id: a for a in PerformerAssignment.objects.all()}
        for index, kind in FIVE_ALERTS:
            assert AlertService.raise_alert(assignments[self.units[index].pk], kind) is not None

    def open(self, page: Page, path: str, *, tv: bool = False) -> None:
        page.goto(self.url(path))
        expect(page.locator("#wall")).to_have_attribute("data-state", "live")
        if tv:
            page.keyboard.press("t")
            expect(page.locator("#wall")).to_have_attribute("data-mode", "tv")
        expect(page.locator(".alert-strip")).to_have_attribute("data-count", "0")

    def boxes(self, page: Page) -> list[Any]:
        boxes = page.evaluate(TILE_BOXES)
        assert len(boxes) == 4
        return boxes

    def assert_strip_reads_five(self, page: Page) -> None:
        strip = page.locator(".alert-strip")
        expect(strip).to_have_attribute("data-count", "5")
        expect(strip.locator(".alert-count")).to_have_text("5")
        # The worst (signal loss is critical, the rest warnings), however many came after it.
        expect(strip.locator(".alert-worst")).to_have_text("Signal loss: Cy Dee (HH04)")
        expect(strip).to_have_attribute("data-worst", "critical")

    def test_five_alerts_move_no_tile_on_the_desk_wall_the_tv_wall_and_the_kiosk(self) -> None:
        self.page.set_viewport_size(DESKTOP)
        self.sign_in(self.tech)
        self.open(self.page, f"/walls/{self.group.pk}/")
        tv_screen = self.browser.new_context(viewport=DESKTOP)
        kiosk_screen = self.browser.new_context(viewport=DESKTOP)
        try:
            tv = tv_screen.new_page()
            self.sign_in(self.tech, tv)  # the same tech on a second screen, in TV mode
            self.open(tv, f"/walls/{self.group.pk}/", tv=True)
            kiosk = kiosk_screen.new_page()
            self.open(kiosk, f"/kiosk/{self.link.token}/", tv=True)
            screens = [self.page, tv, kiosk]
            before = [self.boxes(page) for page in screens]
            strips = [page.locator(".alert-strip").bounding_box() for page in screens]

            off_the_loop(self.raise_five)

            for page, boxes, strip in zip(screens, before, strips, strict=True):
                self.assert_strip_reads_five(page)
                assert self.boxes(page) == boxes
                assert all(box[5] for box in boxes), "a tile is covered"
                assert page.locator(".alert-strip").bounding_box() == strip
        finally:
            tv_screen.close()
            kiosk_screen.close()

    def test_five_alerts_move_no_tile_on_a_phone_and_the_list_opens_on_a_tap(self) -> None:
        self.page.set_viewport_size(PHONE)
        self.sign_in(self.tech)
        self.open(self.page, f"/walls/{self.group.pk}/")
        before = self.boxes(self.page)

        off_the_loop(self.raise_five)

        self.assert_strip_reads_five(self.page)
        assert self.boxes(self.page) == before
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the wall scrolls sideways ({width}px)"
        toasts = self.page.locator("#alerts .toast")
        expect(toasts.first).to_be_hidden()
        self.page.locator(".alert-summary").click()
        expect(toasts).to_have_count(5)
        for index in range(5):
            expect(toasts.nth(index)).to_be_visible()
        assert self.boxes(self.page)[0][1:5] == before[0][1:5]  # the list lies over the wall

    def test_the_a_key_opens_the_list_and_acknowledging_updates_the_strip(self) -> None:
        self.sign_in(self.tech)
        self.open(self.page, f"/walls/{self.group.pk}/")
        off_the_loop(self.raise_five)
        self.assert_strip_reads_five(self.page)

        self.page.keyboard.press("a")
        critical = self.page.locator("#alerts .toast", has_text="Signal loss")
        expect(critical).to_be_visible()
        critical.get_by_role("button", name="Acknowledge").click()

        strip = self.page.locator(".alert-strip")
        expect(strip).to_have_attribute("data-count", "4")
        expect(strip).to_have_attribute("data-worst", "warning")
        # The newest of the warnings left.
        expect(strip.locator(".alert-worst")).to_have_text("Audio low: Jane Smith (HH01)")
        self.page.keyboard.press("Escape")
        expect(self.page.locator("#alerts .toast").first).to_be_hidden()
        expect(self.page.locator(".alert-summary")).to_have_attribute("aria-expanded", "false")
