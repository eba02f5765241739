"""A simulated show on the timeline, in a real browser: a tech marks the show's start from
the wall, a pack drops out and comes back with a fresh battery, and the group's timeline
shows the dropout with its time and duration, the swap and the marker, drawn by uPlot;
the show report (from that marker) counts the same dropout and swap."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from micboard.timeline.models import EventKind, UnitEvent
from tests.e2e.live import LiveWallTestCase, assign, make_group, make_receiver, off_the_loop
from tests.factories import make_user
from tests.waiting import wait_until

# The test knows when it switched the pack off and on to within the poller's reading
# interval and a simulator round trip; the page must agree with it this closely.
TOLERANCE_S = 1.5
LIVE_RELOADS_MS = 12_000  # two of the page's live reloads (every 5 s), and a save (1 s)


@pytest.mark.e2e
class TimelineTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.device = self.start_device()
        self.device.call(self.device.simulator.set_battery, 1, bars=2, percent=30)
        off_the_loop(self.build_stage)
        self.start_poller(MICBOARD_TIMELINE_SAVE_SECONDS="1")

    def build_stage(self) -> None:
        self.units = make_receiver(self.device.port, slots=["HH01", "HH02"])
        self.tech = make_user("tech_a")
        self.group = make_group("Main stage", self.tech)
        assign("Jane Smith", self.units[0], self.group)

    def open_event(self, kind: str) -> bool:
        return UnitEvent.objects.filter(unit=self.units[0], kind=kind).exists()

    def test_a_dropout_and_a_battery_swap_appear_on_the_timeline_and_in_the_report(self) -> None:
        self.sign_in(self.tech)
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        expect(self.page.locator("#wall")).to_have_attribute("data-state", "live")
        self.page.get_by_label("Marker label").fill("show start")
        self.page.keyboard.press("Enter")
        expect(self.page.locator("#marker-status")).to_contain_text("Marked “show start”")
        battery = self.page.locator(f"#tile-{self.units[0].pk} .battery")
        expect(battery).to_have_attribute("data-bars", "2")  # the pack is heard: the show is on

        off_at = time.time()
        self.device.call(self.device.simulator.set_tx_power, 1, on=False)
        wait_until(lambda: off_the_loop(self.open_event, EventKind.DROPOUT), 10, "dropout seen")
        self.device.call(self.device.simulator.set_battery, 1, bars=5, percent=100)
        self.device.call(self.device.simulator.set_tx_power, 1, on=True)
        on_at = time.time()

        self.page.goto(self.url(f"/groups/{self.group.pk}/timeline/"))
        timeline = self.page.locator("#timeline")
        dropout = timeline.locator('.timeline-events tr[data-kind="dropout"]')
        swap = timeline.locator('.timeline-events tr[data-kind="battery_swap"]')
        marker = timeline.locator('.timeline-events tr[data-kind="marker"]')
        # The page follows now: it reloads every 5 s until the ended dropout is saved.
        ended = dropout.and_(self.page.locator("[data-duration]:not([data-duration=''])"))
        expect(ended).to_have_count(1, timeout=LIVE_RELOADS_MS)
        # The swap may be seen a reading after the pack is heard again: the next reload.
        expect(swap).to_have_count(1, timeout=LIVE_RELOADS_MS)
        expect(marker).to_contain_text("show start")
        started = float(dropout.get_attribute("data-start") or 0)
        duration = float(dropout.get_attribute("data-duration") or 0)
        assert abs(started - off_at) < TOLERANCE_S, (started, off_at)
        assert abs(duration - (on_at - off_at)) < TOLERANCE_S, (duration, on_at - off_at)
        assert abs(float(swap.get_attribute("data-start") or 0) - on_at) < TOLERANCE_S
        expect(dropout).to_contain_text("RF dropout")
        expect(dropout).to_contain_text("HH01 Jane Smith")

        chart = timeline.locator(f'[data-unit="{self.units[0].pk}"] canvas')
        expect(chart).to_have_count(1)
        dropout.click()  # zoom to the dropout: a minute or so, every reading (full rate)
        expect(timeline.locator(".timeline-range")).to_contain_text("(full rate)")
        expect(timeline).to_have_attribute("data-state", "ready")
        legend = timeline.locator(f'[data-unit="{self.units[0].pk}"] .u-legend')
        box = chart.bounding_box()
        assert box is not None
        self.page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)
        expect(legend).to_contain_text("Battery %")
        expect(legend.locator(".u-value").nth(4)).to_have_text("30")  # before the swap

        # The report runs from the "show start" marker: one dropout, as long as the page said.
        self.page.get_by_role("link", name="The show report").click()
        jane = self.page.locator(f'.report tr[data-unit="{self.units[0].pk}"]')
        expect(jane).to_have_attribute("data-dropouts", "1")
        longest = float(jane.get_attribute("data-dropout-longest") or 0)
        assert abs(longest - duration) <= 0.05, (longest, duration)
        expect(jane.locator("td").nth(6)).to_have_text("1")  # the battery swap
        expect(jane.locator("td").nth(7)).to_have_text("30 %")  # the lowest battery
