"""static/js/live.js against a scripted socket: the protocol's corner cases, one by one.

Pages and tile fragments come from the live server; the WebSocket is answered by the test
(Playwright's WebSocket routing), so each frame, gap and close code is exactly as written.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, WebSocketRoute, expect

from micboard.models import (
    Organization,
    Performer,
    PerformerAssignment,
    WirelessChassis,
    WirelessUnit,
)
from micboard.services import KioskService, PerformerService
from tests.e2e.live import (
    LiveWallTestCase,
    assign,
    make_group,
    make_receiver,
    off_the_loop,
)
from tests.factories import make_user
from tests.waiting import wait_until

WAIT_SECONDS = 15
NEXT_FRAMES = (
    "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
)


def unit_state(unit_id: int, **changes: Any) -> dict[str, Any]:
    state = {
        "id": unit_id, "status": "GOOD", "battery_status": "good", "online": True,
        "tx_on": True, "bars": 5, "percent": None, "minutes": 275, "rf_a": -55.0,
        "rf_b": -61.5, "antenna": "A", "quality": 96, "audio": -21.5, "peak": -9.0,
        "clip": False, "tx_offset": 0, "freq": 518000, "ts": time.time(),
    }  # fmt: skip
    state.update(changes)
    return state


class ScriptedServer:
    """Answers the wall's WebSocket connections; records what the browser sends."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.sockets: list[WebSocketRoute] = []
        self.received: list[dict[str, Any]] = []
        page.route_web_socket(re.compile(r".*/ws/(groups|kiosk)/[^/]+/$"), self.accept)

    def accept(self, socket: WebSocketRoute) -> None:
        self.sockets.append(socket)
        socket.on_message(lambda message: self.received.append(json.loads(message)))

    def send(self, frame: dict[str, Any] | str) -> None:
        self.sockets[-1].send(frame if isinstance(frame, str) else json.dumps(frame))

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Let the browser run until `condition` holds (polled), or fail naming `what`."""

        def after_a_moment() -> bool:
            # Sync Playwright runs the page's socket handlers only inside its own calls.
            self.page.wait_for_timeout(25)
            return condition()

        wait_until(after_a_moment, WAIT_SECONDS, what, interval=0)


@pytest.mark.e2e
class LiveScriptTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        off_the_loop(self.build_stage)
        self.server = ScriptedServer(self.page)
        self.sign_in(self.tech)
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        self.server.wait_for(lambda: len(self.server.sockets) == 1, "the wall connecting")
        self.wall = self.page.locator("#wall")

    def build_stage(self) -> None:
        self.units = make_receiver(2202, slots=["HH01", "HH02", "HH03"])
        self.tech = make_user("tech")
        self.group = make_group("Main stage", self.tech)
        assign("Jane Smith", self.units[0], self.group)
        assign("Ann Lee", self.units[1], self.group)

    def snapshot(self, seq: int = 10, **states: dict[str, Any]) -> None:
        units = {str(u.pk): unit_state(u.pk) for u in self.units[:2]}
        units.update(states)
        self.server.send({"type": "snapshot", "group": self.group.pk, "seq": seq, "units": units})
        expect(self.wall).to_have_attribute("data-state", "live")

    def delta(self, seq: int, unit: int, **changes: Any) -> None:
        pk = self.units[unit].pk
        frame = {"type": "delta", "group": self.group.pk, "seq": seq,
                 "units": {str(pk): unit_state(pk, **changes)}}  # fmt: skip
        self.server.send(frame)

    def tile(self, unit: int):
        return self.page.locator(f"#tile-{self.units[unit].pk}")

    def test_the_wall_is_not_live_until_the_first_snapshot(self) -> None:
        expect(self.wall).to_have_attribute("data-state", "connecting")
        self.delta(1, 0, status="CRITICAL")  # a delta before any snapshot is ignored
        self.server.send('<section id="alerts" class="alerts">marker</section>')
        expect(self.page.locator("#alerts")).to_have_text("marker")  # the delta was read
        self.page.evaluate(NEXT_FRAMES)  # and any drawing it caused is done
        expect(self.tile(0)).to_have_attribute("data-status", "UNASSIGNED")
        self.snapshot(seq=5)
        expect(self.tile(0)).to_have_attribute("data-status", "GOOD")
        expect(self.tile(0).locator('[data-field="freq"]')).to_have_text("518.000 MHz")
        expect(self.tile(0).locator('[data-field="runtime"]')).to_have_text("4:35")

    def test_old_deltas_are_dropped_and_a_gap_asks_for_a_snapshot(self) -> None:
        self.snapshot(seq=10)
        self.delta(9, 0, status="CRITICAL")
        self.delta(11, 1, status="REPLACE", bars=3)
        expect(self.tile(1)).to_have_attribute("data-status", "REPLACE")
        expect(self.tile(0)).to_have_attribute("data-status", "GOOD")
        assert {"type": "resync"} not in self.server.received
        self.delta(14, 0, status="PREV_GOOD", bars=None)
        expect(self.tile(0)).to_have_attribute("data-status", "PREV_GOOD")
        self.server.wait_for(lambda: {"type": "resync"} in self.server.received, "a resync")

    def test_an_older_snapshot_is_dropped_and_the_current_one_asked_for(self) -> None:
        self.snapshot(seq=35268)
        self.delta(35269, 0, status="REPLACE", bars=3)
        expect(self.tile(0)).to_have_attribute("data-status", "REPLACE")
        units = {str(self.units[0].pk): unit_state(self.units[0].pk, status="CRITICAL", bars=1)}
        self.server.send({"type": "snapshot", "group": self.group.pk, "seq": 35263, "units": units})
        self.server.wait_for(lambda: {"type": "resync"} in self.server.received, "a resync")
        self.delta(35270, 1, status="REPLACE", bars=3)  # still in order: 35263 was not taken
        expect(self.tile(1)).to_have_attribute("data-status", "REPLACE")
        expect(self.tile(0)).to_have_attribute("data-status", "REPLACE")
        assert self.server.received.count({"type": "resync"}) == 1

    def test_a_restarted_counter_is_taken_when_the_resync_confirms_it(self) -> None:
        self.snapshot(seq=500)
        units = {str(self.units[0].pk): unit_state(self.units[0].pk, status="CRITICAL", bars=1)}
        self.server.send({"type": "snapshot", "group": self.group.pk, "seq": 3, "units": units})
        self.server.wait_for(lambda: {"type": "resync"} in self.server.received, "a resync")
        expect(self.tile(0)).to_have_attribute("data-status", "GOOD")
        self.server.send({"type": "snapshot", "group": self.group.pk, "seq": 4, "units": units})
        expect(self.tile(0)).to_have_attribute("data-status", "CRITICAL")
        self.delta(5, 0, status="REPLACE", bars=3)  # the new count goes on from there
        expect(self.tile(0)).to_have_attribute("data-status", "REPLACE")

    def test_only_changed_values_touch_the_page(self) -> None:
        self.snapshot(seq=1)
        self.delta(2, 0, audio=-30.0)
        expect(self.tile(0).locator('[data-meter="audio"]')).to_have_attribute(
            "style", re.compile(r"--level: 0\.5;")
        )
        # Both tiles have been seen on screen and drawn in full before counting starts.
        expect(self.tile(1).locator('[data-meter="rf_b"]')).to_have_attribute(
            "style", re.compile(r"--level: ")
        )
        self.page.evaluate(
            """() => {
              window.mutations = 0;
              new MutationObserver((list) => { window.mutations += list.length; })
                .observe(document.getElementById("wall-tiles"),
                         {subtree: true, attributes: true, childList: true, characterData: true});
            }"""
        )
        self.delta(3, 0, audio=-30.0)  # the same values again, under a new seq
        self.delta(4, 0, audio=-30.0, ts=time.time())
        self.delta(5, 0, audio=-30.0, tx_offset=-9)  # one changed value: one write
        expect(self.tile(0).locator('[data-field="tx_offset"]')).to_have_text("-9 dB")
        assert self.page.evaluate("window.mutations") == 1

    def test_it_reconnects_after_a_dropped_socket_and_greys_out_meanwhile(self) -> None:
        self.snapshot()
        for code in (1005, 1011, 4400):
            count = len(self.server.sockets)
            self.server.sockets[-1].close(code=code)
            expect(self.wall).to_have_attribute("data-state", "reconnecting")
            expect(self.tile(0).locator(".tile-head")).to_have_css(
                "background-color", "rgb(74, 74, 74)"
            )
            self.server.wait_for(
                lambda count=count: len(self.server.sockets) == count + 1, "a reconnect"
            )
            self.snapshot(seq=1)  # a restarted poller counts from zero again
            expect(self.tile(0).locator(".tile-head")).to_have_css(
                "background-color", "rgb(105, 181, 120)"
            )

    def test_it_stops_and_says_why_on_an_access_close_code(self) -> None:
        self.snapshot()
        self.server.sockets[-1].close(code=4403)
        expect(self.page.locator(".wall-blocked")).to_have_text(
            "You no longer have access to this wall."
        )
        expect(self.wall).to_have_attribute("data-state", "blocked")
        self.page.wait_for_timeout(1500)  # longer than the first reconnect delay could be
        assert len(self.server.sockets) == 1

    def test_the_watchdog_reconnects_a_silent_socket(self) -> None:
        self.page.clock.install()  # before the snapshot, so its watchdog runs on this clock
        self.snapshot()
        self.page.clock.run_for(9_000)
        assert len(self.server.sockets) == 1
        self.page.clock.run_for(2_000)
        self.server.wait_for(lambda: len(self.server.sockets) == 2, "the wall reconnecting")

    def test_a_structure_frame_refetches_the_named_tiles(self) -> None:
        self.snapshot()
        off_the_loop(self.rename_jane)
        self.server.send({"type": "structure", "group": self.group.pk, "units": [self.units[0].pk]})
        expect(self.tile(0)).to_contain_text("Jane Doe")
        expect(self.tile(0)).to_have_attribute("data-status", "GOOD")  # live values kept

    def test_a_structure_frame_for_a_new_unit_refetches_the_grid(self) -> None:
        self.snapshot()
        off_the_loop(assign, "Carl May", self.units[2], self.group)
        self.server.send({"type": "structure", "group": self.group.pk, "units": [self.units[2].pk]})
        expect(self.tile(2)).to_contain_text("Carl May")
        self.server.wait_for(lambda: {"type": "resync"} in self.server.received, "a resync")

    def test_html_frames_are_swapped_by_id(self) -> None:
        self.snapshot()
        self.server.send(
            '<section id="alerts" class="alerts"><p id="note">Doors open</p></section>'
        )
        expect(self.page.locator("#alerts #note")).to_have_text("Doors open")

    def test_alerts_appear_and_clear(self) -> None:
        self.snapshot()
        alert = {"id": 77, "unit": self.units[0].pk, "kind": "battery_low", "severity": "warning",
                 "message": "Battery low: Jane Smith (HH01)", "created_at": "now"}  # fmt: skip
        self.server.send({"type": "alert", "alert": alert})
        toast = self.page.locator("#alert-77")
        expect(toast).to_contain_text("Battery low: Jane Smith (HH01)")
        self.page.keyboard.press("a")  # the list of alerts, where each has its button
        expect(toast.get_by_role("button", name="Acknowledge")).to_have_attribute(
            "hx-post", "/alerts/77/acknowledge/"
        )
        self.server.send({"type": "alert.resolved", "alert": {"id": 77, "unit": self.units[0].pk}})
        expect(toast).to_have_count(0)

    def rename_jane(self) -> None:
        jane = PerformerService.get_performer_by_name("Jane Smith")
        assert jane is not None
        PerformerService.update_performer(jane, name="Jane Doe")


def big_stage(size: int) -> tuple[list[int], int, User]:
    """A wall of `size` tiles, made in bulk (the services' one-by-one path is not under test)."""
    organization = Organization.default()
    chassis = WirelessChassis.objects.create(
        organization=organization, manufacturer="Shure", model="ULXD4Q", name="Big rack",
        protocol="shure_tcp", host="127.0.0.1", port=2299,
    )  # fmt: skip
    units = WirelessUnit.objects.bulk_create(
        WirelessUnit(organization=organization, base_chassis=chassis, slot=f"U{n:03d}")
        for n in range(size)
    )
    performers = Performer.objects.bulk_create(
        Performer(organization=organization, name=f"Performer {n}") for n in range(size)
    )
    tech = make_user("tech")
    group = make_group("Big stage", tech)
    PerformerAssignment.objects.bulk_create(
        PerformerAssignment(
            organization=organization, performer=p, wireless_unit=u, monitoring_group=group
        )
        for p, u in zip(performers, units, strict=True)
    )
    return [unit.pk for unit in units], group.pk, tech


@pytest.mark.e2e
class BigWallTests(LiveWallTestCase):
    SIZE = 500

    def test_five_hundred_tiles_follow_every_delta_to_the_last(self) -> None:
        """Every tile ends on the last delta's state; bench/bench_browser.py measures the
        main thread's load (busy %, long tasks) on such a wall."""
        unit_ids, group_id, tech = off_the_loop(big_stage, self.SIZE)
        server = ScriptedServer(self.page)
        self.sign_in(tech)
        self.page.goto(self.url(f"/walls/{group_id}/"))
        server.wait_for(lambda: len(server.sockets) == 1, "the wall connecting")
        units = {str(pk): unit_state(pk) for pk in unit_ids}
        server.send({"type": "snapshot", "group": group_id, "seq": 1, "units": units})
        expect(self.page.locator("#wall")).to_have_attribute("data-state", "live")
        for seq in range(2, 32):  # thirty deltas, each changing every tile
            level = -60.0 + seq
            frame_units = {k: unit_state(int(k), audio=level, peak=level) for k in units}
            server.send({"type": "delta", "group": group_id, "seq": seq, "units": frame_units})
        last = {k: unit_state(int(k), audio=level, peak=level, status="REPLACE") for k in units}
        server.send({"type": "delta", "group": group_id, "seq": 32, "units": last})
        shown = round((level + 60) / 60 * 200) / 200  # the meter's half-percent steps
        for pk in (unit_ids[0], unit_ids[250], unit_ids[-1]):
            tile = self.page.locator(f"#tile-{pk}")
            expect(tile).to_have_attribute("data-status", "REPLACE")  # even off screen
            tile.scroll_into_view_if_needed()
            meter = tile.locator("[data-meter='audio']")
            expect(meter).to_have_attribute("style", re.compile(rf"--level: {shown};"))
        assert {"type": "resync"} not in server.received  # no delta was lost or out of order


FAKE_WAKE_LOCK = """
window.wakeRequests = [];
Object.defineProperty(navigator, "wakeLock", {
  value: {request: (type) => { window.wakeRequests.push(type); return Promise.resolve({}); }},
});
"""


@pytest.mark.e2e
class KioskScriptTests(LiveWallTestCase):
    def test_a_kiosk_keeps_the_screen_awake_and_shows_no_controls(self) -> None:
        token = off_the_loop(self.kiosk_token)
        self.page.add_init_script(FAKE_WAKE_LOCK)
        server = ScriptedServer(self.page)
        self.page.goto(self.url(f"/kiosk/{token}/"))
        server.wait_for(lambda: len(server.sockets) == 1, "the wall connecting")
        assert server.sockets[0].url.endswith(f"/ws/kiosk/{token}/")
        assert self.page.evaluate("window.wakeRequests") == ["screen"]
        expect(self.page.get_by_role("toolbar")).to_have_count(0)
        self.page.keyboard.press("1")  # group keys do nothing on a kiosk
        expect(self.page).to_have_url(self.url(f"/kiosk/{token}/"))

    def kiosk_token(self) -> str:
        units = make_receiver(2202, slots=["HH01"])
        group = make_group("Main stage")
        assign("Jane Smith", units[0], group)
        return KioskService.create_link(group, "Lobby").token
