"""What a wall shows: one tile per assigned unit, in the group's order, with BLANK spacers.

Building a wall costs one query however many tiles it has: the group's active assignments
with their performers and units, as plain rows grouped here in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.urls import reverse

from dashboard.templatetags.micboard_display import (
    BATTERY,
    BatteryProjection,
    battery_projection,
    decibels,
    mhz,
    runtime,
)
from micboard.converters import is_id
from micboard.models import MonitoringGroup, Performer, PerformerAssignment
from micboard.models.performers import PRIORITY_RANK, Priority
from micboard.services import MicCheckService
from micboard.showprep.order import next_index, now_index


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
    "UNASSIGNED": StatusInfo(
        "UNKNOWN", "?", "No battery status: an in-ear transmitter on air, or off for over 30 min"
    ),
    "TX_COM_ERROR": StatusInfo("NO TX DATA", "✕", "No recent data from the transmitter"),
    "RX_COM_ERROR": StatusInfo("RX ERROR", "⚠", "The receiver cannot be reached"),
    "AUDIO_PEAK": StatusInfo("PEAK", "◆", "Audio peaked in the last 10 seconds"),
}
UNKNOWN_STATUS = "UNASSIGNED"
# Priority is marked with stars (and critical with an outline), never with a coloured pill:
# a pill beside the status pill reads as a battery state. Low and normal go unmarked.
PRIORITY_STARS: dict[str, str] = {Priority.HIGH: "★", Priority.CRITICAL: "★★"}
PRIORITY_LEGEND = [
    (PRIORITY_STARS[Priority.HIGH], "High priority (who wears it, not a battery state)"),
    (PRIORITY_STARS[Priority.CRITICAL], "Critical priority: the tile is outlined too"),
]
MAX_TILE_IDS = 1000

PhotoUrl = Callable[[Performer], str]
IdUrl = Callable[[int], str]
ID_MARKER = "999999999999999999"  # an id as the URL converter takes it (18 digits)


def normalise_status(raw: str) -> str:
    return raw if raw in STATUSES else UNKNOWN_STATUS


class WallUnit(NamedTuple):
    """The columns of a unit that its tile shows."""

    pk: int
    slot: str
    kind: str
    status: str
    battery_bars: int | None
    battery_percent: int | None
    battery_minutes: int | None
    tx_offset_db: float | None
    frequency_khz: int | None
    rf_a_dbm: float | None
    rf_b_dbm: float | None
    antenna: str
    chassis_name: str | None  # None: a manual unit (no receiver, no telemetry)
    channel_name: str  # as set on the receiver; live frames bring renames
    last_seen: datetime | None  # of the reading the battery estimate came with


class Wearer(NamedTuple):
    """One active assignment of a tile's unit: who wears it, and how much it matters."""

    priority: str
    performer_id: int
    name: str
    title: str
    photo: str
    assignment_id: int
    turn_position: int | None  # set when the unit is shared (docs/rosters.md)
    turn_current: bool | None


# The query's columns, in the order of WallUnit's fields and then Wearer's.
UNIT_COLUMNS = (
    "wireless_unit_id",
    "wireless_unit__slot",
    "wireless_unit__kind",
    "wireless_unit__status",
    "wireless_unit__battery_bars",
    "wireless_unit__battery_percent",
    "wireless_unit__battery_minutes",
    "wireless_unit__tx_offset_db",
    "wireless_unit__frequency_khz",
    "wireless_unit__rf_a_dbm",
    "wireless_unit__rf_b_dbm",
    "wireless_unit__antenna",
    "wireless_unit__base_chassis__name",
    "wireless_unit__name",
    "wireless_unit__last_seen",
)
WEARER_COLUMNS = (
    "priority",
    "performer_id",
    "performer__name",
    "performer__title",
    "performer__photo",
    "id",
    "turn__position",
    "turn__is_current",
)


@dataclass(frozen=True, slots=True)
class Tile:
    """One unit on the wall and everything its tile says, as text ready to print.

    It is computed once per tile so that the template only prints fields: at hundreds of
    tiles, every lookup, filter and number format left in the template shows in the
    wall's server time.
    """

    unit: WallUnit
    key: str  # the unit's id, for the tile's element ids
    slot: str
    performer_names: str
    names: tuple[str, ...]  # one line each on the tile, highest priority first
    titles: str
    priority: str
    priority_label: str
    priority_stars: str  # empty for low and normal
    photo_url: str
    link: str  # to the unit's page; empty for none
    status: str
    glyph: str
    label: str
    bars: str  # lit battery segments; empty when unknown
    battery: str  # the battery's spoken label
    runtime: str
    tx_offset: str
    frequency: str
    now: str  # who has a shared unit now; empty when it is not shared
    next: str  # who has it after them; empty for nobody
    now_assignment: str  # the assignment of `now`, which a hand-over names
    checked: str  # "true" when ticked in the group's newest mic check, else "false"
    show_ends: str  # Unix seconds of the group's show end; empty for none
    projection: str  # "won't last: 21:40 < 22:15", or empty
    rf_paths: str  # "1": the receiver gives one RF level (ULX-D, SLX-D), so one meter
    monitored: bool  # False: a manual unit, shown as "Unmonitored: not networked"

    def __getitem__(self, name: str) -> object:
        # Django's templates try `tile[name]` before `tile.name`: answering it spares a
        # raised and caught TypeError per printed field, a fifth of the wall's render time.
        return getattr(self, name)


def url_of_ids(url_name: str, *args: object) -> IdUrl:
    """Return a maker of the URL of `url_name` for any id (its last argument).

    It reverses the URL once: reverse() costs more than printing the rest of a tile, and a
    wall links every tile.
    """
    head, _, tail = reverse(url_name, args=[*args, int(ID_MARKER)]).rpartition(ID_MARKER)
    return lambda object_id: f"{head}{object_id}{tail}"


def wall_tiles(
    group: MonitoringGroup, *, photo_url: PhotoUrl, unit_url: IdUrl | None = None
) -> list[Tile | None]:
    """Return the whole wall in display order; None marks a BLANK spacer.

    With `unit_url`, each tile links to the page of its unit.
    """
    tiles = {tile.unit.pk: tile for tile in _tiles(group, None, photo_url, unit_url)}
    in_slot_order = sorted(tiles.values(), key=lambda t: (t.unit.slot, t.unit.pk))
    order = arrange(group.tile_order, [t.unit.pk for t in in_slot_order])
    return [tiles[unit_id] if unit_id is not None else None for unit_id in order]


def some_tiles(
    group: MonitoringGroup,
    unit_ids: Iterable[int],
    *,
    photo_url: PhotoUrl,
    unit_url: IdUrl | None = None,
) -> list[Tile]:
    """Return the tiles of these units that are still on the wall (others are left out)."""
    tiles = _tiles(group, set(unit_ids), photo_url, unit_url)
    return sorted(tiles, key=lambda t: t.unit.pk)


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
    if not parts or len(parts) > MAX_TILE_IDS or not all(is_id(p) for p in parts):
        return None
    return [int(part) for part in parts]


def _tiles(
    group: MonitoringGroup, unit_ids: set[int] | None, photo_url: PhotoUrl, unit_url: IdUrl | None
) -> list[Tile]:
    # Plain rows rather than model instances: building four models per tile would cost
    # more than rendering the whole wall.
    assignments = (
        PerformerAssignment.objects.active()
        .filter(monitoring_group=group)
        .order_by()  # sorted here
    )
    if unit_ids is not None:
        assignments = assignments.filter(wireless_unit_id__in=unit_ids)
    split = len(UNIT_COLUMNS)
    units: dict[int, WallUnit] = {}
    wearers: dict[int, list[Wearer]] = {}
    for row in assignments.values_list(*UNIT_COLUMNS, *WEARER_COLUMNS):
        unit = units.setdefault(row[0], WallUnit(*row[:split]))
        wearers.setdefault(unit.pk, []).append(Wearer(*row[split:]))
    checked = MicCheckService.get_checked_unit_ids(group) if wearers else set()
    show_end = group.show_ends_at.timestamp() if group.show_ends_at is not None else None
    projection = battery_projection()
    return [
        _tile(units[pk], rows, photo_url, unit_url, show_end, projection, checked=pk in checked)
        for pk, rows in wearers.items()
    ]


def _tile(
    unit: WallUnit,
    wearers: list[Wearer],
    photo_url: PhotoUrl,
    unit_url: IdUrl | None,
    show_end: float | None,
    projection: BatteryProjection,
    *,
    checked: bool,
) -> Tile:
    wearers.sort(key=lambda w: (-PRIORITY_RANK.get(Priority(w.priority), 0), w.name))
    with_photo = next((w for w in wearers if w.photo), None)
    status = normalise_status(unit.status)
    priority = wearers[0].priority
    bars = BATTERY.bars(unit.battery_bars, unit.battery_percent)
    return Tile(
        unit=unit,
        key=str(unit.pk),
        slot=unit.slot or str(unit.pk),
        performer_names=" / ".join(w.name for w in wearers),
        names=tuple(w.name for w in wearers),
        titles=" / ".join(w.title for w in wearers if w.title),
        priority=priority,
        priority_label=Priority(priority).label,
        priority_stars=PRIORITY_STARS.get(priority, ""),
        photo_url=photo_url(_photo_owner(with_photo)) if with_photo is not None else "",
        link=unit_url(unit.pk) if unit_url is not None else "",
        status=status,
        glyph=STATUSES[status].glyph,
        label=STATUSES[status].label,
        bars="" if bars is None else str(bars),
        battery=BATTERY.spoken(bars),
        runtime=runtime(unit.battery_minutes),
        tx_offset=decibels(unit.tx_offset_db),
        frequency=mhz(unit.frequency_khz),
        **_turns(wearers),
        checked="true" if checked else "false",
        show_ends="" if show_end is None else f"{show_end:.0f}",
        projection=projection.warning(
            unit.battery_minutes,
            unit.last_seen.timestamp() if unit.last_seen is not None else None,
            show_end,
        ),
        rf_paths=rf_paths(unit.rf_a_dbm, unit.rf_b_dbm),
        monitored=unit.chassis_name is not None,
    )


def _turns(wearers: list[Wearer]) -> dict[str, str]:
    """Return who has a shared unit now and next, from the wearers that have a turn."""
    turns = sorted(
        (w for w in wearers if w.turn_position is not None),
        key=lambda w: (w.turn_position, w.assignment_id),
    )
    if not turns:
        return {"now": "", "next": "", "now_assignment": ""}
    current = now_index([bool(w.turn_current) for w in turns])
    following = next_index(current, len(turns))
    return {
        "now": turns[current].name,
        "next": turns[following].name if following is not None else "",
        "now_assignment": str(turns[current].assignment_id),
    }


def rf_paths(rf_a: float | None, rf_b: float | None) -> str:
    """Return how many RF levels the receiver gives, as live.js does: ULX-D and SLX-D report
    one level and the active antenna, Axient two; two meters until one is known."""
    return "1" if rf_a is not None and rf_b is None else "2"


def _photo_owner(wearer: Wearer) -> Performer:
    """Stand in for the performer whose photo the tile shows: a photo URL needs only its
    id and photo, so the wall need not load whole performers."""
    return Performer(pk=wearer.performer_id, name=wearer.name, photo=wearer.photo)


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
