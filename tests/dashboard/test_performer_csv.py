"""The CSV service: previews name every bad row, imports are all or nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from micboard.models import Performer
from micboard.services import performer_csv
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
