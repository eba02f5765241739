"""What a wall shows: one tile per assigned unit, in the group's order, with BLANK spacers.

Building a wall costs one query however many tiles it has: the group's active assignments
with their performers and units, grouped here in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from micboard.models import MonitoringGroup, Performer, PerformerAssignment, WirelessUnit
from micboard.models.performers import PRIORITY_RANK, Priority


class StatusInfo(NamedTuple):
    """How a status reads on the wall: colour comes from CSS, these are the non-colour cues."""

    label: str
    glyph: str
    meaning: str


# The original Micboard's states (reference §1.3). The glyph and label let a colour-blind
# tech read a tile without relying on its colour.
STATUSES: dict[str, StatusInfo] = {
    "GOOD": StatusInfo("OK", "●", "On, 4 or 5 battery bars"),
    "REPLACE": StatusInfo("REPLACE", "▲", "On, 3 bars: replace at the next break"),
    "CRITICAL": StatusInfo("CRITICAL", "■", "On, 0 to 2 bars: replace now"),
    "PREV_GOOD": StatusInfo("OFF · OK", "○", "Off; last seen with 4 or 5 bars"),
    "PREV_REPLACE": StatusInfo("OFF · REPLACE", "△", "Off; last seen with 3 bars"),
    "PREV_CRITICAL": StatusInfo("OFF · CRITICAL", "□", "Off; last seen with 0 to 2 bars"),
    "UNASSIGNED": StatusInfo("UNKNOWN", "?", "No status: off for over 30 min, or an IEM"),
    "TX_COM_ERROR": StatusInfo("NO TX DATA", "✕", "No recent data from the transmitter"),
    "RX_COM_ERROR": StatusInfo("RX ERROR", "⚠", "The receiver cannot be reached"),
    "AUDIO_PEAK": StatusInfo("PEAK", "◆", "Audio peaked in the last 10 seconds"),
}
UNKNOWN_STATUS = "UNASSIGNED"
BATTERY_SEGMENTS = 5
MAX_TILE_IDS = 1000

PhotoUrl = Callable[[Performer], str]


def normalise_status(raw: str) -> str:
    return raw if raw in STATUSES else UNKNOWN_STATUS


def battery_bars(unit: WirelessUnit) -> int | None:
    """Return the lit segments: the device's bars, or its percentage in fifths."""
    if unit.battery_bars is not None:
        return min(unit.battery_bars, BATTERY_SEGMENTS)
    if unit.battery_percent is not None:
        return min(BATTERY_SEGMENTS, -(-unit.battery_percent // 20))  # ceiling division
    return None


@dataclass(frozen=True, slots=True)
class Tile:
    """One unit on the wall and the people wearing it, most important first."""

    unit: WirelessUnit
    assignments: tuple[PerformerAssignment, ...]
    photo_url: str

    @property
    def performer_names(self) -> str:
        return " / ".join(a.performer.name for a in self.assignments)

    @property
    def titles(self) -> str:
        return " / ".join(a.performer.title for a in self.assignments if a.performer.title)

    @property
    def priority(self) -> str:
        return self.assignments[0].priority

    @property
    def priority_label(self) -> str:
        return Priority(self.priority).label

    @property
    def status(self) -> str:
        return normalise_status(self.unit.status)

    @property
    def status_info(self) -> StatusInfo:
        return STATUSES[self.status]

    @property
    def bars(self) -> int | None:
        return battery_bars(self.unit)


def wall_tiles(group: MonitoringGroup, *, photo_url: PhotoUrl) -> list[Tile | None]:
    """Return the whole wall in display order; None marks a BLANK spacer."""
    tiles = {tile.unit.pk: tile for tile in _tiles(group, None, photo_url)}
    in_slot_order = sorted(tiles.values(), key=lambda t: (t.unit.slot, t.unit.pk))
    order = arrange(group.tile_order, [t.unit.pk for t in in_slot_order])
    return [tiles[unit_id] if unit_id is not None else None for unit_id in order]


def some_tiles(
    group: MonitoringGroup, unit_ids: Iterable[int], *, photo_url: PhotoUrl
) -> list[Tile]:
    """Return the tiles of these units that are still on the wall (others are left out)."""
    return sorted(_tiles(group, set(unit_ids), photo_url), key=lambda t: t.unit.pk)


def arrange(tile_order: Sequence[object], unit_ids: Sequence[int]) -> list[int | None]:
    """Apply a saved order: listed units and BLANKs first, then the rest by slot.

    Units that left the wall since the order was saved are skipped, and so are BLANKs
    that would trail at the end, where they would only waste space.
    """
    present = set(unit_ids)
    ordered: list[int | None] = []
    for entry in tile_order:
        if entry is None:
            ordered.append(None)
        elif isinstance(entry, int) and entry in present and entry not in ordered:
            ordered.append(entry)
    ordered.extend(unit_id for unit_id in unit_ids if unit_id not in ordered)
    while ordered and ordered[-1] is None:
        ordered.pop()
    return ordered


def parse_unit_ids(raw: str) -> list[int] | None:
    """Parse `17,18` from a query string; None when it is not a short list of ids."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or len(parts) > MAX_TILE_IDS or not all(p.isdigit() for p in parts):
        return None
    return [int(part) for part in parts]


def _tiles(group: MonitoringGroup, unit_ids: set[int] | None, photo_url: PhotoUrl) -> list[Tile]:
    assignments = (
        PerformerAssignment.objects.active()
        .filter(monitoring_group=group)
        .select_related("performer", "wireless_unit", "wireless_unit__base_chassis")
    )
    if unit_ids is not None:
        assignments = assignments.filter(wireless_unit_id__in=unit_ids)
    by_unit: dict[int, list[PerformerAssignment]] = {}
    for assignment in assignments:
        by_unit.setdefault(assignment.wireless_unit_id, []).append(assignment)
    return [_tile(rows, photo_url) for rows in by_unit.values()]


def _tile(rows: list[PerformerAssignment], photo_url: PhotoUrl) -> Tile:
    rows.sort(key=lambda a: (-PRIORITY_RANK.get(Priority(a.priority), 0), a.performer.name))
    with_photo = next((a.performer for a in rows if a.performer.photo), None)
    return Tile(
        unit=rows[0].wireless_unit,
        assignments=tuple(rows),
        photo_url=photo_url(with_photo) if with_photo is not None else "",
    )


def edit_order(order: list[int | None], action: str) -> list[int | None]:
    """Apply one tile-order editor action, `<verb>:<index>`, to a wall order.

    Verbs: `up` and `down` move a tile or BLANK one place, `blank` puts a BLANK before
    the position, `remove` takes a BLANK out. Raise ValueError for anything else.
    """
    verb, _, raw_index = action.partition(":")
    index = int(raw_index)
    if not 0 <= index < len(order):
        raise ValueError("No tile at that position.")
    edited = list(order)
    if verb in ("up", "down"):
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(edited):
            edited[index], edited[other] = edited[other], edited[index]
    elif verb == "blank":
        edited.insert(index, None)
    elif verb == "remove" and edited[index] is None:
        del edited[index]
    else:
        raise ValueError("Unknown action.")
    return edited
