"""The Chargers page in a real browser, against a real poller and a simulated SBC850: a
tech sees the bays, a pack put in a bay appears without a reload, a faulted pack says so."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from micboard.models import Charger
from micboard.services.inventory import InventoryService
from realtime.simulation.shure_charger import ShureChargerSimulator
from tests.e2e.live import LiveWallTestCase, SimulatorThread, make_group, off_the_loop
from tests.e2e.test_accessibility import WCAG
from tests.factories import make_user

LIVE_TIMEOUT_MS = 15_000  # the poller starts, reads the charger, the page polls every 2 s


def _add_charger(port: int) -> Charger:
    row = Charger(name="Stage left charger", model="SBC850", host="127.0.0.1", port=port)
    return InventoryService.save_row(row)  # type: ignore[return-value]


@pytest.mark.e2e
class ChargerPageTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        charger = ShureChargerSimulator(name="SL RACK")
        charger.insert(4, charge=100, health=96, cycles=87)
        self.charger = SimulatorThread(simulator=charger)
        self.simulators.append(self.charger)
        off_the_loop(_add_charger, self.charger.port)
        tech = off_the_loop(make_user, "tech")
        off_the_loop(make_group, "Main stage", tech)
        self.start_poller()
        self.sign_in(tech)

    def test_a_tech_watches_the_bays_fill_and_a_fault_show_without_reloading(self) -> None:
        self.page.goto(self.url("/chargers/"))
        bays = self.page.locator("#charger-bays")
        bay_4 = bays.locator('tr[data-bay="4"]')
        expect(bay_4).to_contain_text("100 %", timeout=LIVE_TIMEOUT_MS)
        expect(bay_4).to_contain_text("96 %")
        expect(bays.locator('tr[data-bay="6"]')).to_contain_text("Empty")
        results = Axe().run(self.page, options=WCAG)  # the bays table, not just the shell
        assert results.violations_count == 0, results.generate_report()

        self.charger.call(self.charger.simulator.insert, 6, charge=40, health=74, cycles=402)
        self.charger.call(self.charger.simulator.insert, 7, error=7)
        bay_6 = bays.locator('tr[data-bay="6"]')
        expect(bay_6).to_contain_text("40 %", timeout=LIVE_TIMEOUT_MS)
        expect(bay_6).to_contain_text("74 % worn: replace the pack")
        expect(bays.locator('tr[data-bay="7"]')).to_contain_text("Error 007")
