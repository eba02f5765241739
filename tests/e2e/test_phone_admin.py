"""Admin pages fit a 390 px phone: no page is wider than the viewport (issue 18)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from micboard.models import MonitoringGroup, Performer, WirelessUnit
from tests.e2e.live import LiveWallTestCase, assign, make_group, make_receiver, off_the_loop
from tests.factories import make_user

PHONE = {"width": 390, "height": 844}


@pytest.mark.e2e
class PhoneAdminPageTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        off_the_loop(self.build_stage)
        self.sign_in(self.admin)
        self.page.set_viewport_size(PHONE)

    def build_stage(self) -> None:
        self.units: list[WirelessUnit] = make_receiver(2202, slots=["HH01", "HH02"])
        self.admin = make_user("admin", role="admin")
        self.group: MonitoringGroup = make_group("Main stage", self.admin)
        assign("Jane Smith", self.units[0], self.group, title="Lead vocals")
        assign("Bartholomew Fitzgerald-Jones", self.units[1], self.group, title="Guitar")

    def admin_pages(self) -> list[str]:
        group, unit = self.group.pk, self.units[0].pk
        names = ["performers", "performer-create", "performer-import", "assignments"]
        names += ["groups", "devices", "api-tokens", "rosters", "chargers", "alerts"]
        pages = [reverse(name) for name in names]
        return [*pages, f"/groups/{group}/", f"/units/{unit}/", f"/groups/{group}/shared-mics/"]

    def test_no_admin_page_is_wider_than_a_phone(self) -> None:
        too_wide = {}
        for path in self.admin_pages():
            response = self.page.goto(self.url(path))
            assert response is not None
            assert response.status == 200, path
            width = self.page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide[path] = width
        assert too_wide == {}

    def test_a_reimported_export_previews_and_updates_on_a_phone(self) -> None:
        """The import preview's table fits the phone, and the update-or-skip choice works."""
        exported = "name,title\nJane Smith,Backing vocals\nDana Diaz,Drums\n"
        self.page.goto(self.url(reverse("performer-import")))
        self.page.get_by_label("CSV file").set_input_files(
            {"name": "performers.csv", "mimeType": "text/csv", "buffer": exported.encode()}
        )
        self.page.get_by_role("button", name="Preview").click()
        expect(self.page.get_by_text("1 performer in the file exists already")).to_be_visible()
        assert self.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        self.page.get_by_label("Update them with the file's values").check()
        self.page.get_by_role("button", name="Import 2 performers").click()
        expect(self.page.get_by_role("status")).to_contain_text(
            "Imported 2: 1 new, 1 updated, 0 skipped."
        )
        titles = off_the_loop(
            lambda: dict(Performer.objects.values_list("name", "title").order_by("name"))
        )
        assert titles["Jane Smith"] == "Backing vocals"
        assert titles["Dana Diaz"] == "Drums"
