"""Performers to and from CSV: a preview that names every bad row, then an all-or-nothing save."""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from django.core.exceptions import ValidationError
from django.db import transaction

from micboard import access
from micboard.models import Performer
from micboard.services.common import validate_fields
from micboard.services.performer import PerformerService

if TYPE_CHECKING:
    from micboard.services.common import ActingUser

COLUMNS = ("name", "title", "email", "phone", "notes")
SEPARATORS = ",;\t"  # what a spreadsheet's "Save as CSV" writes between cells
MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_ROWS = 2000
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What to do with a row naming a performer who exists already (a re-imported export).
OnExisting = Literal["update", "skip"]


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    existing_id: int | None = None  # the performer of this name, if there is one already


@dataclass(frozen=True, slots=True)
class ImportPreview:
    rows: list[ImportRow]
    errors: list[str] = field(default_factory=list)  # about the file as a whole
    columns: tuple[str, ...] = ()  # the file's columns: an update changes only these

    @property
    def existing_count(self) -> int:
        return sum(1 for row in self.rows if row.existing_id is not None)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows) and not any(row.errors for row in self.rows)

    @property
    def error_count(self) -> int:
        return sum(1 for row in self.rows if row.errors)


def decode_upload(raw: bytes) -> str:
    """Return the text of an uploaded CSV file, or raise ValidationError on `file`."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise ValidationError({"file": "The file is larger than 1 MB."})
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": "Save the file as UTF-8 CSV and try again."}) from None


def preview_import(text: str) -> ImportPreview:
    """Check every row without saving anything."""
    try:
        return _preview(csv.DictReader(io.StringIO(text), dialect=dialect_of(text)))
    except csv.Error as error:  # e.g. a cell longer than the csv module's field limit
        return ImportPreview(rows=[], errors=[f"The file is not valid CSV ({error})."])


def dialect_of(text: str) -> type[csv.Dialect]:
    """The header row's separator: spreadsheets in many European locales save with `;`."""
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=SEPARATORS)
    except csv.Error:  # one column: no separator to find
        return csv.excel


def _preview(reader: csv.DictReader[str]) -> ImportPreview:
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "name" not in header:
        return ImportPreview(rows=[], errors=["The first row must name the columns, with name."])
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        return ImportPreview(rows=[], errors=[f"Unknown columns: {', '.join(unknown)}."])
    reader.fieldnames = header
    # One row past the limit is enough to refuse the file without checking all of it.
    records = itertools.islice(reader, MAX_IMPORT_ROWS + 1)
    rows = [_row(reader.line_num, record) for record in records]
    if len(rows) > MAX_IMPORT_ROWS:
        return ImportPreview(rows=[], errors=[f"Import at most {MAX_IMPORT_ROWS} rows at once."])
    rows = _mark_duplicates(rows)
    errors = [] if rows else ["The file has no rows."]
    return ImportPreview(rows=rows, errors=errors, columns=tuple(header))


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: list[Performer]
    updated: list[Performer]
    unchanged: int  # existing performers the file already matched
    skipped: int

    @property
    def summary(self) -> str:
        """E.g. "Imported 3: 1 new, 2 updated, 0 skipped." (what the admin is told)."""
        total = len(self.created) + len(self.updated) + self.unchanged + self.skipped
        parts = [f"{len(self.created)} new", f"{len(self.updated)} updated"]
        if self.unchanged:
            parts.append(f"{self.unchanged} unchanged")
        parts.append(f"{self.skipped} skipped")
        return f"Imported {total}: {', '.join(parts)}."


def import_performers(
    text: str, *, on_existing: OnExisting | None = None, by_user: ActingUser = None
) -> ImportResult:
    """Create a performer per new row and update or skip the existing ones, all or none.

    Raise ValidationError if any row is bad, or if some performers exist already and
    `on_existing` does not say what to do with them.
    """
    if by_user is not None:
        access.require_admin(by_user)
    with transaction.atomic():
        # Read inside the transaction: the names that exist are those the writes meet.
        preview = preview_import(text)
        if not preview.ok:
            raise ValidationError({"file": "The file has errors; nothing was imported."})
        if preview.existing_count and on_existing is None:
            raise ValidationError(
                {"on_existing": "Some performers exist already: choose update or skip."}
            )
        return _save_rows(preview, on_existing, by_user)


def _save_rows(
    preview: ImportPreview, on_existing: OnExisting | None, by_user: ActingUser
) -> ImportResult:
    created: list[Performer] = []
    updated: list[Performer] = []
    unchanged = skipped = 0
    existing = Performer.objects.in_bulk([r.existing_id for r in preview.rows if r.existing_id])
    # An update changes only the file's columns: a file of names and titles keeps the emails.
    editable = [name for name in preview.columns if name in COLUMNS]
    for row in preview.rows:
        if row.existing_id is None:
            created.append(PerformerService.create_performer(**row.values, by_user=by_user))
        elif on_existing == "skip":
            skipped += 1
        else:
            performer = existing[row.existing_id]
            changes = {n: row.values[n] for n in editable if getattr(performer, n) != row.values[n]}
            if changes:
                updated.append(
                    PerformerService.update_performer(performer, by_user=by_user, **changes)
                )
            else:
                unchanged += 1
    return ImportResult(created=created, updated=updated, unchanged=unchanged, skipped=skipped)


def export_performers(performers: Iterable[Performer]) -> str:
    """Return performers as CSV that re-imports as it is and is safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for performer in performers:
        writer.writerow([_neutralise(getattr(performer, name)) for name in COLUMNS])
    return out.getvalue()


def _row(line: int, record: dict[str | None, str | list[str] | None]) -> ImportRow:
    values = {name: _restore(str(record.get(name) or "").strip()) for name in COLUMNS}
    errors: list[str] = []
    if record.get(None):
        errors.append("This row has more cells than the header.")
    try:
        # The organization is set on save; everything the file controls is checked here.
        validate_fields(Performer(**values), exclude=["organization"])
    except ValidationError as error:
        errors.extend(f"{name}: {' '.join(msgs)}" for name, msgs in error.message_dict.items())
    return ImportRow(line=line, values=values, errors=errors)


def _mark_duplicates(rows: list[ImportRow]) -> list[ImportRow]:
    """Link rows to the performers of their names; refuse names the file repeats."""
    existing = {name.casefold(): pk for pk, name in Performer.objects.values_list("pk", "name")}
    seen: set[str] = set()
    marked = []
    for row in rows:
        key = row.values["name"].casefold()
        if key in seen:
            row.errors.append("This name appears twice in the file.")
        seen.add(key)
        marked.append(dataclasses.replace(row, existing_id=existing.get(key)))
    return marked


def _neutralise(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_PREFIXES) else value


def _restore(value: str) -> str:
    """Undo `_neutralise`, so an exported file imports back unchanged."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value
