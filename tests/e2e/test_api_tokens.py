"""The read API end to end: an admin makes a token on its page, and a client with that
token reads the units' live state from a real poller reading a simulated receiver."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.live import LiveWallTestCase, assign, make_group, make_receiver, off_the_loop
from tests.factories import make_user
from tests.waiting import wait_until


@pytest.mark.e2e
class ApiTokenTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.device = self.start_device()
        self.device.call(self.device.simulator.set_battery, 1, bars=5)
        off_the_loop(self.build_stage)
        self.start_poller()

    def build_stage(self) -> None:
        self.units = make_receiver(self.device.port, slots=["HH01", "HH02"])
        self.admin = make_user("admin", role="admin")
        assign("Jane Smith", self.units[0], make_group("Main stage", self.admin))
        assign("Bob Jones", self.units[1], make_group("Side stage", self.admin))

    def test_a_token_made_on_the_page_reads_its_groups_live_units(self) -> None:
        self.sign_in(self.admin)
        self.page.get_by_role("link", name="API tokens").click()
        self.page.get_by_label("Name").fill("Companion FOH")
        self.page.get_by_label("Main stage").check()
        self.page.get_by_role("button", name="Create API token").click()
        secret_field = self.page.get_by_label("The new token")
        expect(secret_field).to_be_visible()
        secret = secret_field.input_value()
        expect(self.page.get_by_role("cell", name="Main stage")).to_be_visible()

        def live_units() -> list[dict[str, Any]] | None:
            units = self.api(secret).json()
            return units if all(unit["live"] for unit in units) else None

        units = wait_until(live_units, within=20, what="the unit's live state in the API")
        assert [unit["slot"] for unit in units] == ["HH01"]
        assert units[0]["live"]["id"] == self.units[0].pk
        assert units[0]["live"]["bars"] == 5

        self.page.once("dialog", lambda dialog: dialog.accept())
        self.page.get_by_role("button", name="Revoke Companion FOH").click()
        expect(self.page.get_by_text("revoked")).to_be_visible()
        assert self.api(secret).status_code == 401

    def api(self, secret: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {secret}"}
        return httpx.get(self.url("/api/v1/units/"), headers=headers, timeout=5)
