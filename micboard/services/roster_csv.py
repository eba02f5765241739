"""A roster from a CSV file (performer, position, unit, start time) for those without
Planning Center: read into the same `Roster` the Planning Center sync plans and applies.

The separator is found as for the performer import (`performer_csv.dialect_of`), and the
file's size and encoding are checked there too (`performer_csv.decode_upload`).
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass, field
from datetime import datetime

from micboard.services.performer_csv import MAX_IMPORT_ROWS, dialect_of
from micboard.services.roster_plan import Roster, RosterEntry

COLUMNS = ("performer", "position", "unit", "start time")
REQUIRED = ("performer", "position")


@dataclass(frozen=True)
class RosterFile:
    roster: Roster | None
    errors: list[str] = field(default_factory=list)  # each names its line


def read_roster(text: str, source: str) -> RosterFile:
    """Read every row or name each bad one; a file with errors gives no roster."""
    try:
        reader = csv.DictReader(io.StringIO(text), dialect=dialect_of(text))
        return _read(reader, source)
    except csv.Error as error:
        return RosterFile(None, [f"The file is not valid CSV ({error})."])


def _read(reader: csv.DictReader[str], source: str) -> RosterFile:
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        names = ", ".join(COLUMNS)
        return RosterFile(None, [f"The first row must name the columns: {names}."])
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        return RosterFile(None, [f"Unknown columns: {', '.join(unknown)}."])
    reader.fieldnames = header
    entries, errors = [], []
    for record in itertools.islice(reader, MAX_IMPORT_ROWS + 1):
        entry, problem = _entry(record)
        if problem:
            errors.append(f"Line {reader.line_num}: {problem}")
        elif entry is not None:
            entries.append(entry)
    if len(entries) + len(errors) > MAX_IMPORT_ROWS:
        return RosterFile(None, [f"Import at most {MAX_IMPORT_ROWS} rows at once."])
    if errors or not entries:
        return RosterFile(None, errors or ["The file has no rows."])
    return RosterFile(Roster(source, entries))


def _entry(record: dict[str | None, str | list[str] | None]) -> tuple[RosterEntry | None, str]:
    values = {name: str(record.get(name) or "").strip() for name in COLUMNS}
    if record.get(None):
        return None, "this row has more cells than the header."
    if not values["performer"] or not values["position"]:
        return None, "name the performer and the position."
    if len(values["performer"]) > 200 or len(values["position"]) > 200:
        return None, "a name or position is longer than 200 characters."
    starts = values["start time"]
    if starts and not _is_time(starts):
        return None, f"{starts!r} is not a start time (write 2026-12-13 09:00, or 09:00)."
    entry = RosterEntry(
        name=values["performer"],
        position=values["position"],
        unit_label=values["unit"],
        starts=starts,
    )
    return entry, ""


def _is_time(text: str) -> bool:
    for parse in (datetime.fromisoformat, lambda t: datetime.strptime(t, "%H:%M")):
        try:
            parse(text)
        except ValueError:
            continue
        return True
    return False
