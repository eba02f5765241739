"""The wall's rules live on the server: a value the server rendered and the same value
written live by static/js/live.js read the same, and a final close code shows the words
realtime/codes.py gives it.

Pages come from the live server; the WebSocket is answered by the test, as in
test_live_script.py, so each frame and close code is exactly as written here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from micboard.models import WirelessUnit
from micboard.services import KioskService
from realtime import codes
from tests.e2e.live import LiveWallTestCase, assign, make_group, make_receiver, off_the_loop
from tests.e2e.test_live_script import ScriptedServer, unit_state
from tests.factories import make_user

LIVE_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "live.js"

# A unit's stored telemetry, the same reading's key in a live frame, and what the tile
# shows for it today: bars (or percent in fifths, at most five), H:MM, %g dB, 3-decimal MHz.
CASES: list[tuple[dict[str, Any], dict[str, str]]] = [
    (
        {"battery_bars": 3, "battery_minutes": 275, "tx_offset_db": -9.0, "frequency_khz": 590775},
        {"bars": "3", "battery": "Battery 3 of 5 bars", "runtime": "4:35",
         "tx_offset": "-9 dB", "freq": "590.775 MHz"},
    ),
    (
        {"battery_percent": 47, "battery_minutes": 5, "tx_offset_db": 1.5, "frequency_khz": 470125},
        {"bars": "3", "battery": "Battery 3 of 5 bars", "runtime": "0:05",
         "tx_offset": "1.5 dB", "freq": "470.125 MHz"},
    ),
    (
        {"battery_bars": 7, "battery_minutes": 0, "tx_offset_db": 0.25, "frequency_khz": 606000},
        {"bars": "5", "battery": "Battery 5 of 5 bars", "runtime": "0:00",
         "tx_offset": "0.25 dB", "freq": "606.000 MHz"},
    ),
    (
        {"battery_percent": 100, "battery_minutes": 61, "tx_offset_db": 21.0, "frequency_khz": 0},
        {"bars": "5", "battery": "Battery 5 of 5 bars", "runtime": "1:01",
         "tx_offset": "21 dB", "freq": ""},
    ),
    (
        {},
        {"bars": "", "battery": "Battery unknown", "runtime": "", "tx_offset": "", "freq": ""},
    ),
]  # fmt: skip
FRAME_KEYS = {
    "battery_bars": "bars",
    "battery_percent": "percent",
    "battery_minutes": "minutes",
    "tx_offset_db": "tx_offset",
    "frequency_khz": "freq",
}
BLANK = dict.fromkeys(FRAME_KEYS.values())
READ_TILE = """(tile) => ({
  bars: tile.querySelector(".battery").dataset.bars,
  battery: tile.querySelector(".battery").getAttribute("aria-label"),
  runtime: tile.querySelector('[data-field="runtime"]').textContent,
  tx_offset: tile.querySelector('[data-field="tx_offset"]').textContent,
  freq: tile.querySelector('[data-field="freq"]').textContent,
})"""


def live_state(pk: int, stored: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Return the live frame's state of a unit whose telemetry is `stored`."""
    readings = {**BLANK, **{FRAME_KEYS[name]: value for name, value in stored.items()}}
    return unit_state(pk, **readings, **changes)


def read_tile(page: Page, pk: int) -> dict[str, str]:
    return page.locator(f"#tile-{pk}").evaluate(READ_TILE)


def test_it_keeps_no_copy_of_the_servers_rules_in_the_script() -> None:
    """live.js holds no close code, final message or unit suffix of its own."""
    script = LIVE_JS.read_text()
    copies = [str(code) for code in codes.FINAL] + [" MHz", " dB", "of 5 bars"]
    copies += [message for close in codes.FINAL.values() for message in close]
    assert [copy for copy in copies if copy and copy in script] == []


@pytest.mark.e2e
class LiveRulesTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.units, self.group, self.token = off_the_loop(self.build_stage)
        self.server = ScriptedServer(self.page)

    def build_stage(self) -> tuple[list[WirelessUnit], Any, str]:
        units = make_receiver(2202, slots=[f"HH0{n}" for n in range(1, len(CASES) + 1)])
        self.tech = make_user("tech")
        group = make_group("Main stage", self.tech)
        for number, (unit, (stored, _)) in enumerate(zip(units, CASES, strict=True)):
            WirelessUnit.objects.filter(pk=unit.pk).update(**stored)
            assign(f"Performer {number}", unit, group)
        return units, group, KioskService.create_link(group, "Lobby").token

    def open(self, path: str) -> None:
        count = len(self.server.sockets)
        self.page.goto(self.url(path))
        self.server.wait_for(lambda: len(self.server.sockets) == count + 1, "the wall reconnecting")

    def test_a_live_value_reads_as_the_server_rendered_it(self) -> None:
        self.sign_in(self.tech)
        self.open(f"/walls/{self.group.pk}/")
        rendered = {unit.pk: read_tile(self.page, unit.pk) for unit in self.units}
        assert list(rendered.values()) == [shown for _, shown in CASES]
        # Blank every tile first, so the values compared below are the script's own writes.
        blank = {str(u.pk): unit_state(u.pk, status="CRITICAL", **BLANK) for u in self.units}
        self.server.send({"type": "snapshot", "group": self.group.pk, "seq": 1, "units": blank})
        for unit in self.units:
            expect(self.page.locator(f"#tile-{unit.pk}")).to_have_attribute(
                "data-status", "CRITICAL"
            )
        assert {read_tile(self.page, unit.pk)["battery"] for unit in self.units} == {
            "Battery unknown"
        }
        live = {
            str(unit.pk): live_state(unit.pk, stored)
            for unit, (stored, _) in zip(self.units, CASES, strict=True)
        }
        self.server.send({"type": "delta", "group": self.group.pk, "seq": 2, "units": live})
        for unit in self.units:
            expect(self.page.locator(f"#tile-{unit.pk}")).to_have_attribute("data-status", "GOOD")
        assert {unit.pk: read_tile(self.page, unit.pk) for unit in self.units} == rendered

    def test_a_final_close_code_shows_the_servers_words_on_a_wall(self) -> None:
        self.sign_in(self.tech)
        for code, close in codes.FINAL.items():
            self.assert_final(f"/walls/{self.group.pk}/", code, close.message(kiosk=False))

    def test_a_final_close_code_shows_the_servers_words_on_a_kiosk(self) -> None:
        for code, close in codes.FINAL.items():
            self.assert_final(f"/kiosk/{self.token}/", code, close.message(kiosk=True))

    def assert_final(self, path: str, code: int, message: str) -> None:
        self.open(path)
        units = {str(u.pk): unit_state(u.pk) for u in self.units}
        self.server.send({"type": "snapshot", "group": self.group.pk, "seq": 1, "units": units})
        wall = self.page.locator("#wall")
        expect(wall).to_have_attribute("data-state", "live")
        self.server.sockets[-1].close(code=code)
        expect(self.page.locator(".wall-blocked")).to_have_text(message)
        expect(wall).to_have_attribute("data-state", "blocked")
