"""The CSV service: previews name every bad row, imports are all or nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from micboard.models import Performer
from micboard.services import PerformerService, performer_csv
from tests.dashboard.conftest import Show

pytestmark = pytest.mark.django_db


def test_export_then_import_round_trips_and_defuses_formulas(show: Show) -> None:
    Performer.objects.create(name="=HYPERLINK(evil)", title="@cmd", notes="a, b\nc")
    text = performer_csv.export_performers(Performer.objects.filter(name__startswith="="))
    assert "'=HYPERLINK(evil)" in text
    assert "'@cmd" in text
    Performer.objects.filter(name__startswith="=").delete()
    performer_csv.import_performers(text, by_user=show.admin)
    back = Performer.objects.get(name="=HYPERLINK(evil)")
    assert back.title == "@cmd"
    assert back.notes == "a, b\nc"


def test_a_bad_row_stops_the_whole_import(show: Show) -> None:
    with pytest.raises(ValidationError):
        performer_csv.import_performers("name,email\nGood One,\nBad,not-an-email\n")
    assert not Performer.objects.filter(name="Good One").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title\nx\n", "must name the columns"),
        ("name,shoe size\nx,9\n", "Unknown columns: shoe size."),
        ("name\n", "no rows"),
    ],
)
def test_file_errors(show: Show, text: str, message: str) -> None:
    preview = performer_csv.preview_import(text)
    assert not preview.ok
    assert message in preview.errors[0]


def test_duplicates_in_the_file_are_named(show: Show) -> None:
    preview = performer_csv.preview_import("name\nDana\ndana\n")
    assert preview.rows[1].errors == ["This name appears twice in the file."]


def test_an_upload_must_be_utf8(show: Show) -> None:
    with pytest.raises(ValidationError):
        performer_csv.decode_upload("name\nJosé\n".encode("latin-1"))


def test_a_tech_may_not_import(show: Show) -> None:
    with pytest.raises(PermissionDenied):
        performer_csv.import_performers("name\nX\n", by_user=show.tech_a)


class TestReimport:
    """Re-importing an export: the admin chooses to update or skip who exists already."""

    def export_with_jane_changed(self) -> str:
        """Everyone exported, Jane's title edited, and one new row."""
        text = performer_csv.export_performers(Performer.objects.all())
        return text.replace("Lead vocals", "Backing vocals") + "Dana,Drums,,,\n"

    def test_the_preview_marks_existing_rows_instead_of_refusing_them(self, show: Show) -> None:
        preview = performer_csv.preview_import("name,title\nJANE SMITH,Lead vocals\nDana,Drums\n")
        assert preview.ok
        assert preview.existing_count == 1
        assert preview.rows[0].existing_id == show.jane.pk
        assert preview.rows[1].existing_id is None

    def test_without_a_choice_nothing_is_saved(self, show: Show) -> None:
        with pytest.raises(ValidationError) as caught:
            performer_csv.import_performers("name\nJane Smith\nDana\n", by_user=show.admin)
        assert "choose update or skip" in " ".join(caught.value.messages)
        assert not Performer.objects.filter(name="Dana").exists()

    def test_update_changes_the_existing_and_adds_the_new(self, show: Show) -> None:
        text = self.export_with_jane_changed()
        result = performer_csv.import_performers(text, on_existing="update", by_user=show.admin)
        assert result.summary == "Imported 4: 1 new, 1 updated, 2 unchanged, 0 skipped."
        show.jane.refresh_from_db()
        assert show.jane.title == "Backing vocals"
        assert Performer.objects.get(name="Dana").title == "Drums"

    def test_update_leaves_columns_the_file_does_not_have(self, show: Show) -> None:
        PerformerService.update_performer(show.jane, email="jane@example.com")
        result = performer_csv.import_performers(
            "name,title\nJane Smith,Host\n", on_existing="update", by_user=show.admin
        )
        assert result.summary == "Imported 1: 0 new, 1 updated, 0 skipped."
        show.jane.refresh_from_db()
        assert (show.jane.title, show.jane.email) == ("Host", "jane@example.com")

    def test_skip_keeps_the_existing_as_they_are(self, show: Show) -> None:
        text = self.export_with_jane_changed()
        result = performer_csv.import_performers(text, on_existing="skip", by_user=show.admin)
        assert result.summary == "Imported 4: 1 new, 0 updated, 3 skipped."
        show.jane.refresh_from_db()
        assert show.jane.title == "Lead vocals"

    def test_a_bad_row_stops_the_updates_too(self, show: Show) -> None:
        with pytest.raises(ValidationError):
            performer_csv.import_performers(
                "name,email\nJane Smith,\nBad,not-an-email\n", on_existing="update"
            )
        assert Performer.objects.get(pk=show.jane.pk).email == ""
