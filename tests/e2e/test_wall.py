"""The wall in a real browser, fed by a simulated receiver through the real poller."""

from __future__ import annotations

import re
import signal

import pytest
from playwright.sync_api import expect

from micboard.models import Alert, KioskLink, PerformerAssignment
from micboard.services import KioskService
from tests.e2e.live import (
    LIVE_TIMEOUT_MS,
    LiveWallTestCase,
    assign,
    make_group,
    make_receiver,
    off_the_loop,
)
from tests.factories import make_user

RED = "rgb(220, 73, 58)"
GREEN = "rgb(105, 181, 120)"
# An acknowledgement travels as one frame; no reload or poll could bring it this soon.
ACKNOWLEDGED_TIMEOUT_MS = 5_000
# A state goes stale STALE_AFTER (5 s) after its time; visible tiles are redrawn each second.
STALE_TIMEOUT_MS = 15_000

CLOSE_CODE_OF_SOCKET = """async (path) => {
  const url = location.origin.replace("http", "ws") + path;
  return await new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.onclose = (event) => resolve(event.code);
  });
}"""


@pytest.mark.e2e
class WallTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.device = self.start_device()
        self.device.call(self.device.simulator.set_battery, 1, bars=5)
        off_the_loop(self.build_stage)
        self.start_poller()

    def build_stage(self) -> None:
        """Group A watches Jane (HH01) and Ann (HH02), group B Bob (HH03); HH04 is free."""
        self.units = make_receiver(self.device.port, slots=["HH01", "HH02", "HH03", "HH04"])
        self.tech_a = make_user("tech_a")
        self.tech_b = make_user("tech_b")
        self.admin = make_user("admin", role="admin")
        self.group_a = make_group("Main stage", self.tech_a)
        self.group_b = make_group("Side stage", self.tech_b)
        assign("Jane Smith", self.units[0], self.group_a, title="Lead vocals", priority="high")
        assign("Ann Lee", self.units[1], self.group_a, title="Backing vocals")
        assign("Bob Ray", self.units[2], self.group_b, title="Guitar")

    def open_wall(self, group_id: int) -> None:
        self.page.goto(self.url(f"/walls/{group_id}/"))
        expect(self.page.locator("#wall")).to_have_attribute("data-state", "live")

    def tile(self, index: int):
        return self.page.locator(f"#tile-{self.units[index].pk}")

    def test_a_battery_drop_turns_the_tile_red_and_raises_an_alert(self) -> None:
        self.sign_in(self.tech_a)
        self.open_wall(self.group_a.pk)
        jane = self.tile(0)
        expect(jane).to_have_attribute("data-status", "GOOD")
        expect(jane.locator(".tile-head")).to_have_css("background-color", GREEN)
        expect(self.tile(1)).to_be_visible()
        expect(self.page.locator(f"#tile-{self.units[2].pk}")).to_have_count(0)

        self.device.call(self.device.simulator.set_battery, 1, bars=1)

        expect(jane).to_have_attribute("data-status", "CRITICAL")
        expect(jane.locator(".tile-head")).to_have_css("background-color", RED)
        expect(jane.locator('[data-field="label"]')).to_have_text("CRITICAL")
        expect(jane.locator(".battery")).to_have_attribute("data-bars", "1")
        expect(self.page.locator(".alert-worst")).to_contain_text("Jane Smith")
        self.page.locator(".alert-summary").click()
        toast = self.page.locator("#alerts .toast", has_text="Jane Smith")
        expect(toast).to_be_visible()
        toast.get_by_role("button", name="Acknowledge").click()
        expect(toast).to_have_count(0)
        acknowledged = Alert.objects.filter(acknowledged_by=self.tech_a)
        assert acknowledged.filter(wireless_unit=self.units[0]).exists()

        self.page.keyboard.press("t")
        expect(self.page.locator("#wall")).to_have_attribute("data-mode", "tv")
        expect(self.page.locator(".site-header")).to_be_hidden()

    def test_a_channel_renamed_on_the_receiver_shows_on_its_tile_without_reload(self) -> None:
        self.sign_in(self.tech_a)
        self.open_wall(self.group_a.pk)
        channel = self.tile(0).locator('[data-field="channel"]')

        self.device.call(self.device.simulator.set_channel_name, 1, "Bishop")

        expect(channel).to_have_text("Bishop")
        expect(channel).to_be_visible()
        self.page.reload()
        expect(self.tile(0).locator('[data-field="channel"]')).to_have_text("Bishop")

    def test_a_stopped_pollers_tiles_turn_stale_with_their_age(self) -> None:
        self.sign_in(self.tech_a)
        self.open_wall(self.group_a.pk)
        jane = self.tile(0)
        expect(jane).to_have_attribute("data-status", "GOOD")
        expect(jane).to_have_attribute("data-stale", "false")

        assert self.poller is not None
        self.poller.send_signal(signal.SIGSTOP)  # frozen: no reading, no restatement
        try:
            expect(jane).to_have_attribute("data-stale", "true", timeout=STALE_TIMEOUT_MS)
            expect(jane.locator(".tile-info")).to_have_attribute("data-age", re.compile(r"^\d+ s$"))
            expect(self.tile(1)).to_have_attribute("data-stale", "true")
            assert self.page.locator("#wall").get_attribute("data-state") == "live"  # the socket is
        finally:
            self.poller.send_signal(signal.SIGCONT)
        expect(jane).to_have_attribute("data-stale", "false")
        expect(jane.locator(".tile-info")).to_have_attribute("data-age", "")

    def test_an_acknowledgement_clears_the_banner_on_every_screen_of_the_group(self) -> None:
        self.sign_in(self.tech_a)
        self.open_wall(self.group_a.pk)
        link = off_the_loop(KioskService.create_link, self.group_a, "FOH")
        other_wall = self.context.new_page()  # the same signed-in session, a second screen
        other_wall.goto(self.url(f"/walls/{self.group_a.pk}/"))
        screen = self.browser.new_context()
        screen.set_default_timeout(LIVE_TIMEOUT_MS)
        try:
            kiosk = screen.new_page()
            kiosk.goto(self.url(f"/kiosk/{link.token}/"))
            screens = [self.page, other_wall, kiosk]
            for page in screens:
                expect(page.locator("#wall")).to_have_attribute("data-state", "live")

            self.device.call(self.device.simulator.set_battery, 1, bars=1)
            toasts = [page.locator("#alerts .toast", has_text="Jane Smith") for page in screens]
            for page in screens:
                expect(page.locator(".alert-worst")).to_contain_text("Jane Smith")
            self.page.keyboard.press("a")
            toasts[0].get_by_role("button", name="Acknowledge").click()

            for toast in toasts:
                expect(toast).to_have_count(0, timeout=ACKNOWLEDGED_TIMEOUT_MS)
            # Not reloaded: the other wall and the kiosk learnt it from the frame alone.
            for page in screens[1:]:
                assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        finally:
            screen.close()

    def test_a_tech_cannot_open_another_groups_wall_fragment_or_socket(self) -> None:
        self.sign_in(self.tech_a)
        response = self.page.goto(self.url(f"/walls/{self.group_b.pk}/"))
        assert response is not None
        assert response.status == 404
        tiles = self.page.request.get(self.url(f"/walls/{self.group_b.pk}/tiles/"))
        assert tiles.status == 404
        bob = self.units[2].pk
        own_wall = self.page.request.get(self.url(f"/walls/{self.group_a.pk}/tiles/?units={bob}"))
        assert "Bob Ray" not in own_wall.text()
        code = self.page.evaluate(CLOSE_CODE_OF_SOCKET, f"/ws/groups/{self.group_b.pk}/")
        assert code == 4403

    def test_a_performer_and_assignment_made_in_the_pages_appear_on_an_open_wall(self) -> None:
        self.sign_in(self.admin)
        self.open_wall(self.group_a.pk)
        editor = self.context.new_page()
        editor.goto(self.url("/performers/new/"))
        editor.get_by_label("Name").fill("Dana Cole")
        editor.get_by_label("Title").fill("Drums")
        editor.get_by_role("button", name="Save").click()
        expect(editor.get_by_text("Dana Cole was added.")).to_be_visible()

        editor.goto(self.url(f"/groups/{self.group_a.pk}/assignments/"))
        form = editor.locator("#assignment-create")
        form.get_by_label("Find a performer").fill("dana")
        expect(form.locator(".picker-choices")).not_to_contain_text("Jane Smith")
        form.get_by_label("Dana Cole").check()
        form.get_by_label("Unit").select_option(label="HH04")
        form.get_by_label("Priority").select_option("critical")
        form.get_by_role("button", name="Assign").click()
        expect(editor.locator("#assignment-table")).to_contain_text("Dana Cole")
        duplicate = editor.locator("#assignment-create")
        duplicate.get_by_label("Dana Cole").check()  # listed before any search
        duplicate.get_by_label("Unit").select_option(label="HH04")
        duplicate.get_by_role("button", name="Assign").click()
        expect(duplicate).to_contain_text("Dana Cole is already assigned to HH04.")
        self.screenshot("assignments", editor)

        dana = self.tile(3)
        expect(dana).to_contain_text("Dana Cole")
        expect(dana).to_contain_text("Critical")
        expect(dana).to_have_attribute("data-stale", "false")
        assert PerformerAssignment.objects.filter(performer__name="Dana Cole").count() == 1

    def test_a_kiosk_link_works_without_login_and_stops_when_revoked(self) -> None:
        self.sign_in(self.admin)
        self.page.goto(self.url(f"/groups/{self.group_a.pk}/"))
        links = self.page.locator("#kiosk-links")
        links.get_by_label("Label").fill("FOH left")
        links.get_by_role("button", name="Create kiosk link").click()
        address = links.get_by_label("Kiosk address for FOH left")
        kiosk_url = address.input_value()
        assert kiosk_url == self.url(f"/kiosk/{KioskLink.objects.get().token}/")

        screen = self.browser.new_context(viewport={"width": 1280, "height": 720})
        try:
            kiosk = screen.new_page()
            kiosk.goto(kiosk_url + "#mode=tv")
            expect(kiosk.locator("#wall")).to_have_attribute("data-state", "live")
            expect(kiosk.locator(f"#tile-{self.units[0].pk}")).to_contain_text("Jane Smith")
            expect(kiosk.locator(".site-header")).to_have_count(0)

            self.page.once("dialog", lambda dialog: dialog.accept())
            links.get_by_role("button", name="Revoke FOH left").click()
            expect(links.locator(".kiosk-link.revoked")).to_have_count(1)

            expect(kiosk.locator(".wall-blocked")).to_have_text("This kiosk link was revoked.")
            expect(kiosk.locator("#wall")).to_have_attribute("data-state", "blocked")
            response = kiosk.goto(kiosk_url)
            assert response is not None
            assert response.status == 410
            expect(kiosk.get_by_role("heading")).to_have_text("This kiosk link was revoked")
        finally:
            screen.close()

    def test_the_wall_recovers_after_the_server_restarts(self) -> None:
        self.sign_in(self.tech_a)
        self.open_wall(self.group_a.pk)
        wall = self.page.locator("#wall")
        expect(self.tile(0)).to_have_attribute("data-status", "GOOD")

        self.stop_server()
        expect(wall).to_have_attribute("data-state", "reconnecting")
        expect(self.page.locator("#connection")).to_contain_text("Reconnecting")
        self.start_server()

        expect(wall).to_have_attribute("data-state", "live")
        self.device.call(self.device.simulator.set_battery, 1, bars=3)
        expect(self.tile(0)).to_have_attribute("data-status", "REPLACE")
