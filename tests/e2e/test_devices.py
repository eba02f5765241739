"""The Devices page in a real browser: a receiver removed, found again on the network by
discovery (real SLP packets on loopback), added back with a click and live on the wall;
and one added by its address."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from micboard.models import WirelessChassis, WirelessUnit
from realtime.simulation.announce import StageAnnouncer
from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator
from tests.conftest import free_port
from tests.e2e.live import LiveWallTestCase, assign, make_group, make_receiver, off_the_loop
from tests.factories import make_user

DISCOVERY_TIMEOUT_MS = 30_000  # the poller starts, hears an announcement, probes the receiver


@pytest.mark.e2e
class DevicePageTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.device = self.start_device("ULXD4D")
        self.slp_port = free_port()
        self.announcer = StageAnnouncer([self.device.simulator], slp_port=self.slp_port, every=0.5)
        self.device.run(self.announcer.start())
        self.admin = off_the_loop(make_user, "admin", role="admin")
        self.group = off_the_loop(make_group, "Main stage", self.admin)
        self.start_poller(
            MICBOARD_DISCOVERY="True",
            MICBOARD_DISCOVERY_SLP_PORT=str(self.slp_port),
            MICBOARD_DISCOVERY_INTERFACES="127.0.0.1",
        )
        self.sign_in(self.admin)

    def tearDown(self) -> None:
        self.device.run(self.announcer.stop())
        super().tearDown()

    def address(self) -> str:
        return f"127.0.0.1:{self.device.port}"

    def test_a_removed_receiver_is_found_again_added_with_a_click_and_live(self) -> None:
        off_the_loop(make_receiver, self.device.port, slots=["HH01", "HH02"])
        self.page.goto(self.url("/devices/"))
        table = self.page.locator("#device-table")
        expect(table.locator("tr.device", has_text="Rack A")).to_contain_text("Online")
        table.get_by_role("link", name="Remove Rack A").click()
        expect(self.page.get_by_role("heading", name="Remove Rack A?")).to_be_visible()
        expect(self.page.locator("main")).to_contain_text("its 2 units")
        self.page.get_by_role("button", name="Remove Rack A").click()
        expect(self.page.locator(".messages")).to_contain_text("Rack A was removed.")

        found = self.page.locator(f'#discovered tr[data-address="{self.address()}"]')
        expect(found).to_contain_text("ULXD4D", timeout=DISCOVERY_TIMEOUT_MS)
        found.get_by_role("button", name=f"Add {self.address()}").click()
        expect(self.page.locator("#discovered")).to_contain_text("was added with 2 channels")
        expect(found).to_have_count(0)
        added = self.page.locator("#device-table tr.device", has_text="ULXD4D")
        expect(added).to_contain_text("Online", timeout=DISCOVERY_TIMEOUT_MS)

        unit = off_the_loop(WirelessUnit.objects.filter(rf_channel__number=1).get)
        off_the_loop(assign, "Jane Smith", unit, self.group)
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        expect(self.page.locator("#wall")).to_have_attribute("data-state", "live")
        expect(self.page.locator(f"#tile-{unit.pk}")).to_have_attribute("data-status", "GOOD")

    def test_a_receiver_is_added_by_its_address_after_the_page_shows_what_it_is(self) -> None:
        self.page.goto(self.url("/devices/"))
        form = self.page.locator("#add-device")
        form.get_by_label("Address").fill("127.0.0.1")
        form.get_by_label("Port").fill(str(self.device.port))
        form.get_by_role("button", name="Find the receiver").click()
        expect(form).to_contain_text(f"Found Shure ULXD4D at {self.address()}: 2 channels")
        assert off_the_loop(WirelessChassis.objects.count) == 0, "nothing saved before Add"
        form.get_by_label("Name").fill("Stage left")
        form.get_by_label("Meter interval (ms)").fill("500")
        form.get_by_role("button", name="Add ULXD4D").click()
        expect(form).to_contain_text("Stage left was added with 2 channels.")
        row = self.page.locator("#device-table tr.device", has_text="Stage left")
        expect(row).to_contain_text("Online", timeout=DISCOVERY_TIMEOUT_MS)
        commands = self.device.run(_commands_seen(self.device.simulator))
        assert any("METER_RATE 00500" in body for _, body in commands)


async def _commands_seen(simulator: ShureTcpSimulator) -> list[tuple[int, str]]:
    """Copy the commands on the simulator's own loop, never while it appends one."""
    return list(simulator.commands)
