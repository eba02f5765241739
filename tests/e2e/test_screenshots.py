"""Screenshots for docs/screenshots/: a busy live wall (desk and TV mode) and a kiosk,
fed by two simulated receivers through the real poller."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from micboard.models import MonitoringGroup, WirelessUnit
from micboard.services import GroupService, KioskService
from tests.e2e.live import (
    LiveWallTestCase,
    assign,
    make_group,
    make_receiver,
    off_the_loop,
)
from tests.factories import make_user

CAST = [  # name, title, priority
    ("Maya Okafor", "Lead vocals", "critical"),
    ("Leo Brandt", "Backing vocals", "high"),
    ("Sofia Reyes", "Backing vocals", "high"),
    ("Jonah Pike", "Acoustic guitar", "normal"),
    ("Amara Lind", "Host", "critical"),
    ("Tomás Ferreira", "Pastor", "high"),
    ("Grace Whitfield", "Keys", "normal"),
    ("Eli Nakamura", "Drums", "low"),
]
CHART_FILLED = """(id) => {
  const canvas = document.querySelector(`#tile-${id} canvas.chart`);
  if (!canvas || !canvas.width) { return false; }
  const column = canvas.getContext("2d").getImageData(Math.floor(canvas.width * 0.2), 0, 1,
                                                        canvas.height).data;
  for (let i = 3; i < column.length; i += 4) { if (column[i] > 0) { return true; } }
  return false;
}"""


@pytest.mark.e2e
class ScreenshotTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.racks = [self.start_device(), self.start_device()]
        for rack in self.racks:
            for channel in range(1, 5):
                rack.call(rack.simulator.set_battery, channel, bars=5)
        off_the_loop(self.build_stage)
        rack_a, rack_b = self.racks
        rack_a.call(rack_a.simulator.set_battery, 2, bars=3)
        rack_b.call(rack_b.simulator.set_battery, 1, bars=1)
        self.start_poller()

    def build_stage(self) -> None:
        units: list[WirelessUnit] = []
        for number, rack in enumerate(self.racks):
            slots = [f"HH{number * 4 + channel:02d}" for channel in range(1, 5)]
            units.extend(make_receiver(rack.port, slots=slots))
        self.units = units
        self.admin = make_user("admin", role="admin")
        self.group: MonitoringGroup = make_group("Main stage", self.admin)
        for (name, title, priority), unit in zip(CAST, units, strict=True):
            assign(name, unit, self.group, title=title, priority=priority)
        # A BLANK after the fourth tile, to match the gap in the mic tray.
        order = [unit.pk for unit in units]
        GroupService.set_tile_order(self.group, [*order[:4], None, *order[4:]])
        self.link = KioskService.create_link(self.group, "FOH left")

    def wait_for_history(self, page: Page) -> None:
        expect(page.locator("#wall")).to_have_attribute("data-state", "live")
        page.wait_for_function(CHART_FILLED, arg=self.units[0].pk, timeout=40_000)

    def test_the_wall_in_desk_and_tv_mode(self) -> None:
        self.sign_in(self.admin)
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        self.wait_for_history(self.page)
        rack_b = self.racks[1]
        rack_b.call(rack_b.simulator.set_tx_power, 4, on=False)
        expect(self.page.locator(f"#tile-{self.units[7].pk}")).to_have_attribute(
            "data-status", "PREV_GOOD"
        )
        expect(self.page.locator(f"#tile-{self.units[4].pk}")).to_have_attribute(
            "data-status", "CRITICAL"
        )
        self.screenshot("wall-desk")
        self.page.keyboard.press("t")
        expect(self.page.locator("#wall")).to_have_attribute("data-mode", "tv")
        self.screenshot("wall-tv")

    def test_a_kiosk_screen(self) -> None:
        kiosk = self.page
        kiosk.set_viewport_size({"width": 1920, "height": 1080})
        kiosk.goto(self.url(f"/kiosk/{self.link.token}/#mode=tv"))
        self.wait_for_history(kiosk)
        self.screenshot("kiosk")
