"""What a tile shows for each kind of device: an in-ear transmitter (PSM1000) and a receiver
that gives one RF level (ULX-D), each fed by its simulator through the real poller."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from micboard.models import Organization, WirelessUnit
from tests import factories
from tests.e2e.live import LiveWallTestCase, assign, make_group, off_the_loop
from tests.factories import make_user
from tests.waiting import wait_until

PERSISTED_WITHIN_S = 20  # telemetry is saved in batches every few seconds
RED = "rgb(220, 73, 58)"


@pytest.mark.e2e
class TileKindTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.psm = self.start_device("P10T")
        self.ulxd = self.start_device("ULXD4D")
        self.ulxd.call(self.ulxd.simulator.set_battery, 1, bars=5)
        off_the_loop(self.build_stage)
        self.start_poller()

    def build_stage(self) -> None:
        organization = Organization.default()
        _, iems = factories.make_receiver(
            organization, self.psm.port, name="PSM rack", model="P10T", slots=["IEM01", "IEM02"]
        )
        WirelessUnit.objects.filter(pk__in=[u.pk for u in iems]).update(kind="iem")
        _, mics = factories.make_receiver(
            organization, self.ulxd.port, name="ULX-D", model="ULXD4D", slots=["HH01", "HH02"]
        )
        self.iem, self.mic = iems[0], mics[0]
        self.tech = make_user("tech")
        self.group = make_group("Main stage", self.tech)
        assign("Drummer Mix", self.iem, self.group)
        assign("Jane Smith", self.mic, self.group, priority="critical")

    def open_wall(self) -> None:
        self.sign_in(self.tech)
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        expect(self.page.locator("#wall")).to_have_attribute("data-state", "live")

    def test_an_iem_tile_shows_what_an_iem_has_and_unknown_for_its_battery(self) -> None:
        self.open_wall()
        tile = self.page.locator(f"#tile-{self.iem.pk}")
        expect(tile.locator('[data-field="rf_out"]')).to_have_text("50 mW")
        expect(tile.locator('[data-field="rf_out"]')).to_be_visible()
        expect(tile).to_have_attribute("data-status", "UNASSIGNED")
        expect(tile.locator('[data-field="label"]')).to_have_text("UNKNOWN")
        expect(tile.locator('[data-field="freq"]')).to_have_text(re.compile(r"^\d+\.\d{3} MHz$"))
        expect(tile.locator('[data-meter="audio"]')).to_be_visible()
        for hidden in (".battery", '[data-meter="rf_a"]', '[data-meter="rf_b"]', ".diversity"):
            expect(tile.locator(hidden)).to_be_hidden()
        expect(tile).not_to_contain_text("NO TX DATA")

        self.psm.call(self.psm.simulator.set_tx_power, 1, on=False)  # RF muted: nothing sent
        expect(tile.locator('[data-field="label"]')).to_have_text("NO TX DATA")
        self.psm.call(self.psm.simulator.set_tx_power, 1, on=True)
        expect(tile.locator('[data-field="label"]')).to_have_text("UNKNOWN")

        wait_until(
            lambda: off_the_loop(lambda: WirelessUnit.objects.get(pk=self.iem.pk).last_seen),
            PERSISTED_WITHIN_S,
            "the streaming IEM's last-seen time saved",
        )
        self.page.goto(self.url(f"/units/{self.iem.pk}/"))
        expect(self.page.locator(".facts")).not_to_contain_text("never")

    def test_a_ulxd_tile_shows_one_rf_meter_and_the_active_antenna(self) -> None:
        self.open_wall()
        tile = self.page.locator(f"#tile-{self.mic.pk}")
        expect(tile).to_have_attribute("data-rf", "1")
        expect(tile.locator('[data-meter="rf_a"]')).to_be_visible()
        expect(tile.locator('[data-meter="rf_b"]')).to_be_hidden()
        expect(tile.locator(".rf-one")).to_be_visible()  # the meter is named RF, not A
        expect(tile.locator(".rf-two")).to_be_hidden()
        expect(tile.locator(".diversity")).to_have_attribute("data-antenna", re.compile("^[AB]$"))
        expect(tile.locator(".diversity")).to_be_visible()

        # The server renders the same once the poller has saved the unit's RF.
        wait_until(
            lambda: off_the_loop(lambda: WirelessUnit.objects.get(pk=self.mic.pk).rf_a_dbm),
            PERSISTED_WITHIN_S,
            "the unit's RF level saved",
        )
        fragment = self.page.request.get(self.url(f"/walls/{self.group.pk}/tiles/"))
        assert f'id="tile-{self.mic.pk}"' in fragment.text()
        assert 'data-rf="1"' in fragment.text()
        # The unit page reads the saved levels as the wall does, never as raw codes.
        self.page.goto(self.url(f"/units/{self.mic.pk}/"))
        facts = self.page.locator(".facts")
        expect(facts).to_contain_text(re.compile(r"-?\d+(\.\d+)? dBFS"))
        expect(facts).to_contain_text(re.compile(r"A -?\d+(\.\d+)? dBm"))
        expect(facts).not_to_contain_text("· B")
        expect(facts).not_to_contain_text(re.compile(r"\b[A-Z]+_[A-Z]+\b"))  # no AUDIO_PEAK

    def test_priority_is_stars_and_an_outline_never_a_pill_like_the_status(self) -> None:
        self.open_wall()
        jane = self.page.locator(f"#tile-{self.mic.pk}")
        expect(jane).to_have_attribute("data-status", "GOOD")
        tag = jane.locator(".priority-tag")
        expect(tag).to_have_text("★★Critical priority")  # the stars, and words for a reader
        expect(tag).to_have_css("background-color", "rgba(0, 0, 0, 0)")
        assert tag.evaluate("e => getComputedStyle(e).color") != RED
        assert "CRITICAL" not in jane.locator(".tile-info").inner_text()  # shown words only
        expect(jane).to_have_css("box-shadow", re.compile(r"0px 0px 0px 2px"))
        # A normal-priority tile is unmarked.
        expect(self.page.locator(f"#tile-{self.iem.pk} .priority-tag")).to_have_count(0)

        self.page.keyboard.press("?")
        legend = self.page.locator("#help .legend")
        expect(legend).to_contain_text("★★")
        expect(legend).to_contain_text("Critical priority")
