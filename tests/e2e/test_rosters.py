"""Rosters end to end: an admin connects Planning Center (the simulator, over real HTTP from
the live server), maps a position to units, looks at the dry run, applies it, and sees the
performers arrive on the open wall, live."""

from __future__ import annotations

from typing import ClassVar

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from micboard.rosters.simulator import PcoSimulator, SimMember, SimPlan, SimServiceType, next_sunday
from tests.e2e.live import LiveWallTestCase, make_group, make_receiver, off_the_loop
from tests.factories import make_user

APP_ID = "e2e-application-id"
SECRET = "pco_pat_e2e-secret-0123456789"


@pytest.mark.e2e
class RosterTests(LiveWallTestCase):
    pco: ClassVar[PcoSimulator]

    @classmethod
    def setUpClass(cls) -> None:
        # Before the live server starts: it inherits the setting that points it here.
        team = [
            SimMember("501", "Ruth Adeyemi", "Vocals"),
            SimMember("502", "Caleb Moreno", "Vocals"),
            SimMember("504", "Hannah Kim", "Vocals", "D"),
        ]
        plan = SimPlan("9001", "Sunday 9am", *next_sunday(9), team)
        cls.pco = PcoSimulator(APP_ID, SECRET, [SimServiceType("77", "Sundays", [plan])]).start()
        cls._pco_settings = override_settings(MICBOARD_PCO_URL=cls.pco.url)
        cls._pco_settings.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls._pco_settings.disable()
        cls.pco.stop()

    def setUp(self) -> None:
        super().setUp()
        off_the_loop(self.build_stage)

    def build_stage(self) -> None:
        self.admin = make_user("admin", role="admin")
        self.units = make_receiver(40123, slots=["HH01", "HH02", "HH03"])
        self.group = make_group("Main stage", self.admin)

    def test_connect_map_dry_run_apply_and_see_the_performers_on_the_wall(self) -> None:
        page = self.sign_in(self.admin)
        page.get_by_role("link", name="Rosters").click()
        page.get_by_label("Application ID").fill(APP_ID)
        page.get_by_label("Secret").fill(SECRET)
        page.get_by_role("button", name="Connect", exact=True).click()
        expect(page.get_by_text("Connected with the application")).to_be_visible()
        expect(page.get_by_label("Secret")).to_have_value("")

        page.get_by_role("link", name="Main stage").click()
        page.get_by_role("textbox", name="Position", exact=True).fill("Vocals")
        page.get_by_label("Units, in order").fill("HH01-HH03")
        page.get_by_role("button", name="Save the position").click()
        expect(page.locator(".roster-pool")).to_contain_text("HH01, HH02, HH03")

        page.get_by_label("Service type id").fill("77")
        page.get_by_role("button", name="Show its plans").click()
        expect(page.get_by_role("combobox", name="Plan", exact=True)).to_have_value("9001")
        page.get_by_role("button", name="Dry run", exact=True).click()
        changes = page.locator(".roster-changes")
        expect(changes.locator(".roster-added")).to_have_count(2)
        expect(changes.locator(".roster-filtered")).to_contain_text("Hannah Kim")
        expect(page.get_by_text("Nothing has changed yet.")).to_be_visible()

        # The wall is open beside it: the apply reaches it live, as any assignment does.
        wall = self.context.new_page()
        wall.goto(self.url(f"/walls/{self.group.pk}/"))
        expect(wall.get_by_text("Ruth Adeyemi")).to_have_count(0)
        page.get_by_role("button", name="Apply", exact=True).click()
        applied = page.get_by_role("heading", name="Applied: Sunday 9am (Planning Center)")
        expect(applied).to_be_visible()
        assert SECRET not in page.content()

        expect(wall.get_by_text("Ruth Adeyemi")).to_be_visible()
        expect(wall.get_by_text("Caleb Moreno")).to_be_visible()
        expect(wall.get_by_text("Hannah Kim")).to_have_count(0)
