"""The htmx pages in a real browser: live search, inline edits, tile order, CSV preview."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from micboard.models import MonitoringGroup, Performer, PerformerAssignment, WirelessUnit
from tests.e2e.live import (
    LiveWallTestCase,
    assign,
    make_group,
    make_receiver,
    off_the_loop,
)
from tests.factories import make_user
from tests.security.polyglots import gif_that_is_javascript

BUSY = re.compile(r"htmx-request")  # htmx marks an element while its request runs
# Load a URL as a <script> on our own origin ('self' in the CSP), as an injected tag would.
LOAD_AS_SCRIPT = """async (url) => {
  const loaded = await new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = url;
    script.onload = () => resolve(true);
    script.onerror = () => resolve(false);
    document.head.appendChild(script);
  });
  return {loaded, ran: window.__polyglotRan === true};
}"""

# Each form hint against every other visible element that is neither inside it nor around it:
# the texts of the hints that overlap one, and whether a hint is taken out of the page's flow.
HINTS_COVERING_SOMETHING = """() => {
  const overlaps = (a, b) =>
    a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const problems = [];
  for (const hint of document.querySelectorAll(".field-help")) {
    const position = getComputedStyle(hint).position;
    if (position === "fixed" || position === "absolute") {
      problems.push(`${hint.textContent}: ${position}`);
    }
    const box = hint.getBoundingClientRect();
    for (const other of document.body.querySelectorAll("*")) {
      if (other === hint || other.contains(hint) || hint.contains(other) || !shown(other)) continue;
      if (overlaps(box, other.getBoundingClientRect())) {
        problems.push(`${hint.textContent} covers <${other.tagName.toLowerCase()}>`);
      }
    }
  }
  return problems;
}"""


@pytest.mark.e2e
class PageTests(LiveWallTestCase):
    def setUp(self) -> None:
        super().setUp()
        off_the_loop(self.build_stage)
        self.sign_in(self.admin)

    def build_stage(self) -> None:
        self.units: list[WirelessUnit] = make_receiver(2202, slots=["HH01", "HH02", "HH03"])
        self.admin = make_user("admin", role="admin")
        self.group: MonitoringGroup = make_group("Main stage", self.admin)
        assign("Jane Smith", self.units[0], self.group, title="Lead vocals")
        assign("Ann Lee", self.units[1], self.group)
        assign("Annette Ray", self.units[2], self.group)

    def test_a_photo_that_is_also_a_script_never_runs_as_one(self) -> None:
        """A GIF whose bytes are valid JavaScript, uploaded as `a.js`: once stored, a page
        that loads it as a script gets an error, and opened on its own it is an image."""
        jane = Performer.objects.get(name="Jane Smith")
        self.page.goto(self.url(f"/performers/{jane.pk}/edit/"))
        self.page.get_by_label("Photo").set_input_files(
            files=[
                {"name": "a.js", "mimeType": "text/javascript", "buffer": gif_that_is_javascript()}
            ]
        )
        self.page.get_by_role("button", name="Save").click()
        expect(self.page.get_by_text("Jane Smith was saved.")).to_be_visible()

        photo_url = f"/performers/{jane.pk}/photo/"
        outcome = self.page.evaluate(LOAD_AS_SCRIPT, photo_url)
        assert outcome == {"loaded": False, "ran": False}
        self.page.goto(self.url(photo_url))
        assert self.page.evaluate("document.contentType") == "image/jpeg"
        assert self.page.evaluate("window.__polyglotRan === undefined")

    def test_live_search_filters_as_you_type(self) -> None:
        self.page.goto(self.url("/performers/"))
        rows = self.page.locator("#performer-list tbody tr")
        expect(rows).to_have_count(3)
        self.page.get_by_label("Search").press_sequentially("ann")
        expect(rows).to_have_count(2)
        expect(self.page).to_have_url(self.url("/performers/?q=ann&status=active"))
        self.page.get_by_label("Show").select_option("inactive")
        expect(self.page.locator("#performer-list")).to_contain_text("No performers match.")

    def test_export_holds_what_the_live_search_shows(self) -> None:
        self.page.goto(self.url("/performers/"))
        self.page.get_by_label("Search").press_sequentially("ann")
        expect(self.page.locator("#performer-list tbody tr")).to_have_count(2)
        with self.page.expect_download() as download:
            self.page.get_by_role("button", name="Export CSV").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
        names = [line.split(",")[0] for line in exported.splitlines()[1:]]
        assert names == ["Ann Lee", "Annette Ray"]

    def test_an_assignment_is_edited_in_place(self) -> None:
        self.page.goto(self.url(f"/groups/{self.group.pk}/assignments/"))
        assignment = PerformerAssignment.objects.get(wireless_unit=self.units[1])
        row = self.page.locator(f"#assignment-{assignment.pk}")
        row.get_by_label("Priority").select_option("critical")
        expect(row.locator(".assignment-head")).to_contain_text("Critical")
        update = f"/assignments/{assignment.pk}/"
        with self.page.expect_response(lambda response: response.url.endswith(update)):
            row.get_by_label("Audio low").check()
        row.get_by_role("button", name="Deactivate").click()
        expect(row).to_contain_text("Inactive")
        assignment.refresh_from_db()
        assert assignment.priority == "critical"
        assert assignment.alert_on_audio_low
        assert not assignment.is_active

    def test_the_performer_picker_searches_as_you_type_and_works_by_keyboard(self) -> None:
        self.page.goto(self.url(f"/groups/{self.group.pk}/assignments/"))
        form = self.page.locator("#assignment-create")
        choices = form.locator(".picker-choices")
        expect(choices.get_by_role("radio")).to_have_count(3)
        search = form.get_by_label("Find a performer")
        search.press_sequentially("annette")
        expect(choices.get_by_role("radio")).to_have_count(1)
        with self.page.expect_response(lambda response: "/performers/?" in response.url):
            search.press("Enter")  # searches; it must not submit the assignment
        expect(self.page.locator("#new-performer-search")).not_to_have_class(BUSY)
        expect(form.locator(".error")).to_have_count(0)
        self.page.keyboard.press("Tab")
        self.page.keyboard.press("Space")
        expect(form.get_by_label("Annette Ray")).to_be_checked()
        form.get_by_label("Unit").select_option(label="HH01")
        form.get_by_role("button", name="Assign").click()
        rows = self.page.locator("#assignment-table h3").filter(has_text="Annette Ray")
        expect(rows).to_have_count(2)  # on HH03 already, now on HH01 too
        assert PerformerAssignment.objects.filter(
            performer__name="Annette Ray", wireless_unit=self.units[0]
        ).exists()

    def test_the_tile_order_editor_moves_tiles_and_adds_blanks(self) -> None:
        self.page.goto(self.url(f"/groups/{self.group.pk}/"))
        editor = self.page.locator("#tile-order")
        editor.get_by_role("button", name="Move Jane Smith down").click()
        expect(editor.locator(".order-item").first).to_contain_text("Ann Lee")
        editor.get_by_role("button", name="Blank before Jane Smith").click()
        expect(editor.locator(".order-item").nth(1)).to_have_class("order-item blank")
        self.group.refresh_from_db()
        assert self.group.tile_order == [self.units[1].pk, None, self.units[0].pk, self.units[2].pk]
        self.page.goto(self.url(f"/walls/{self.group.pk}/"))
        tiles = self.page.locator("#wall-tiles > .tile")
        expect(tiles.nth(1)).to_have_class("tile tile-blank")

    def test_form_hints_sit_under_their_fields_on_a_phone(self) -> None:
        """At 390x844 every hint is in the page's flow, below its field, and covers nothing."""
        self.page.set_viewport_size({"width": 390, "height": 844})
        jane = Performer.objects.get(name="Jane Smith")
        forms_with_hints = [
            f"/performers/{jane.pk}/edit/",
            "/performers/import/",
            f"/groups/{self.group.pk}/",
            "/api-tokens/",
            "/devices/",
        ]
        for path in forms_with_hints:
            self.page.goto(self.url(path))
            hints = self.page.locator(".field-help")
            assert hints.count() > 0, path
            assert self.page.evaluate(HINTS_COVERING_SOMETHING) == [], path
            for index in range(hints.count()):
                hint = hints.nth(index)
                field = hint.locator("xpath=..").locator("input, select, textarea").first
                assert hint.bounding_box()["y"] >= field.bounding_box()["y"], path  # type: ignore[index]
