"""The charger-to-performer flow in a real browser, against a real poller, a simulated
SBC850 and a simulated ULX-D: the charged pack shows in its bay, the Chargers page names
the performer it goes to, and once it is in her transmitter its page shows her wearing it."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from realtime.simulation.shure_charger import ShureChargerSimulator
from tests.e2e.live import (
    LiveWallTestCase,
    SimulatorThread,
    assign,
    make_group,
    make_receiver,
    off_the_loop,
)
from tests.e2e.test_accessibility import WCAG
from tests.e2e.test_chargers import LIVE_TIMEOUT_MS, _add_charger
from tests.factories import make_user


@pytest.mark.e2e
class PackFlowTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        charger = ShureChargerSimulator(name="SL RACK")
        charger.insert(4, charge=100, health=96, cycles=87)
        self.charger = SimulatorThread(simulator=charger)
        self.simulators.append(self.charger)
        self.device = self.start_device("ULXD4D")
        for channel in (1, 2):  # both wait for a pack: the one from the charger goes in 1
            self.device.call(self.device.simulator.set_tx_power, channel, on=False)
        off_the_loop(_add_charger, self.charger.port)
        units = off_the_loop(make_receiver, self.device.port, slots=["HH03", "HH04"])
        tech = off_the_loop(make_user, "tech")
        group = off_the_loop(make_group, "Main stage", tech)
        off_the_loop(assign, "Jane Smith", units[0], group)
        self.start_poller()
        self.sign_in(tech)

    def test_the_charged_pack_goes_to_the_performer_and_its_history_shows_her(self) -> None:
        self.page.goto(self.url("/chargers/"))
        bays = self.page.locator("#charger-bays")
        expect(bays.locator('tr[data-bay="4"]')).to_contain_text("Pack 1", timeout=LIVE_TIMEOUT_MS)
        expect(bays.locator(".next-pack-list li").first).to_contain_text(
            "HH03 (Jane Smith) goes on next: take Pack 1 from Stage left charger bay 4, "
            "100 %, health 96 %"
        )
        results = Axe().run(self.page, options=WCAG)  # with the next packs and pack list
        assert results.violations_count == 0, results.generate_report()

        self.charger.call(self.charger.simulator.remove, 4)
        self.device.call(self.device.simulator.insert_pack, 1, health=96, cycles=87)
        self.device.call(self.device.simulator.set_tx_power, 1, on=True)
        pack_row = bays.locator(".packs tr", has_text="Pack 1")
        expect(pack_row).to_contain_text("In HH03", timeout=LIVE_TIMEOUT_MS)
        expect(bays.locator(".next-pack-list")).to_have_count(0)  # no charged pack left

        pack_row.get_by_role("link", name="Pack 1").click()
        history = self.page.locator(".pack-history")
        expect(history.locator(".pack-event-charging")).to_contain_text("Stage left charger bay 4")
        expect(history.locator(".pack-event-inserted")).to_contain_text("Jane Smith")
        expect(history.locator(".pack-event-inserted")).to_contain_text("96 %")
        nav = self.page.get_by_role("navigation").get_by_role("link", name="Chargers")
        expect(nav).to_have_attribute("aria-current", "page")  # a pack belongs to the chargers
        results = Axe().run(self.page, options=WCAG)
        assert results.violations_count == 0, results.generate_report()
