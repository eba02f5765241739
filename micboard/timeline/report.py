"""The show report: per performer of a group, over a range, what went wrong and when.

A row is one performer wearing one unit: who wore it is read from the assignments' audit
history (django-simple-history), so a pack handed to someone else mid-show gives two rows,
each counting only what happened while that performer wore it.

Callers pass a group that micboard/access.py has let the reader see, and that reader's
visible alerts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

from micboard.models import Alert, MonitoringGroup, Performer, PerformerAssignment, WirelessUnit
from micboard.services.performer_csv import FORMULA_PREFIXES
from micboard.timeline import store
from micboard.timeline.models import EventKind, Marker, Resolution, UnitEvent

SHOW_START = "show start"  # the marker label that starts the default range
WITHOUT_SHOW_START = timedelta(hours=3)  # the default range when no marker says so
BATTERY = 3  # codec.LANES index


@dataclass
class PerformerReport:
    performer: str
    slot: str
    unit_id: int
    worn_from: datetime  # within the range
    worn_until: datetime
    dropouts: list[float] = field(default_factory=list)  # durations, s
    clips: int = 0
    swaps: int = 0
    lowest_battery: float | None = None
    battery_at_end: float | None = None
    minutes_left: int | None = None  # the receiver's estimate, when the range ends now
    acknowledged_after: list[float | None] = field(default_factory=list)  # s, per alert

    def wore(self, moment: datetime) -> bool:
        return self.worn_from <= moment < self.worn_until

    @property
    def dropout_total(self) -> float:
        return sum(self.dropouts)

    @property
    def dropout_longest(self) -> float:
        return max(self.dropouts, default=0.0)

    @property
    def alerts(self) -> int:
        return len(self.acknowledged_after)

    @property
    def slowest_acknowledgement(self) -> float | None:
        times = [t for t in self.acknowledged_after if t is not None]
        return max(times) if times else None

    @property
    def unacknowledged(self) -> int:
        return self.acknowledged_after.count(None)


def default_start(group: MonitoringGroup, end: datetime) -> datetime:
    """Return the last "show start" marker before `end`, else WITHOUT_SHOW_START before."""
    marker = (
        Marker.objects.filter(monitoring_group=group, at__lt=end, label__iexact=SHOW_START)
        .order_by("-at")
        .first()
    )
    return marker.at if marker is not None else end - WITHOUT_SHOW_START


def build(
    group: MonitoringGroup,
    visible_alerts: QuerySet[Alert],
    start: datetime,
    end: datetime,
    *,
    ends_now: bool,
) -> list[PerformerReport]:
    """Return one row per performer and unit worn in the group during the range (by slot,
    then when it was put on)."""
    rows = _wearers(group, start, end)
    by_unit: dict[int, list[PerformerReport]] = {}
    for row in rows:
        by_unit.setdefault(row.unit_id, []).append(row)
    _add_events(by_unit, start, end)
    _add_battery(by_unit, start, end)
    _add_alerts(by_unit, visible_alerts.filter(monitoring_group=group), start, end)
    if ends_now:
        minutes = dict(
            WirelessUnit.objects.filter(pk__in=by_unit).values_list("pk", "battery_minutes")
        )
        for row in rows:
            if row.worn_until == end:  # still worn: the receiver's estimate is theirs
                row.minutes_left = minutes.get(row.unit_id)
    return rows


def _wearers(group: MonitoringGroup, start: datetime, end: datetime) -> list[PerformerReport]:
    """Return who wore which unit in the group, and when, from the assignments' history."""
    history = PerformerAssignment.history.model
    ever_here = history.objects.filter(monitoring_group_id=group.pk).values("id")
    records = (
        history.objects.filter(id__in=ever_here, history_date__lt=end)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_date", "history_type", "is_active", "monitoring_group_id",
                     "performer_id", "wireless_unit_id")
    )  # fmt: skip
    spans: list[tuple[int, int, datetime, datetime]] = []  # performer, unit, from, until
    worn: dict[int, tuple[int, int, datetime]] = {}  # assignment id → its open span
    for key, at, kind, active, group_id, performer_id, unit_id in records:
        wearing = kind != "-" and active and group_id == group.pk
        opened = worn.get(key)
        if opened is not None and (not wearing or opened[:2] != (performer_id, unit_id)):
            spans.append((*worn.pop(key), at))
            opened = None
        if wearing and opened is None:  # an edit that keeps it worn keeps its span open
            worn[key] = (performer_id, unit_id, at)
    spans += [(*opened, end) for opened in worn.values()]
    kept = [(p, u, max(f, start), min(t, end)) for p, u, f, t in spans if f < end and t > start]
    names = dict(Performer.objects.filter(pk__in={p for p, *_ in kept}).values_list("pk", "name"))
    slots = dict(
        WirelessUnit.objects.filter(pk__in={u for _, u, *_ in kept}).values_list("pk", "slot")
    )
    rows = [
        PerformerReport(names[p], slots[u], u, since, until)
        for p, u, since, until in kept
        if p in names and u in slots
    ]
    return sorted(rows, key=lambda row: (row.slot, row.worn_from, row.performer))


def _add_events(by_unit: dict[int, list[PerformerReport]], start: datetime, end: datetime) -> None:
    overlapping = Q(started_at__lt=end) & (Q(ended_at__isnull=True) | Q(ended_at__gte=start))
    for event in UnitEvent.objects.filter(overlapping, unit_id__in=by_unit):
        for row in by_unit[event.unit_id]:
            # Counted while this performer wore it: a dropout still going on lasts until then.
            since = max(event.started_at, row.worn_from)
            until = min(event.ended_at or row.worn_until, row.worn_until)
            if since >= row.worn_until or until < since:
                continue
            if event.kind == EventKind.DROPOUT:
                row.dropouts.append((until - since).total_seconds())
            elif event.kind == EventKind.CLIP:
                row.clips += 1
            elif event.kind == EventKind.BATTERY_SWAP and row.wore(event.started_at):
                row.swaps += 1


def _add_battery(by_unit: dict[int, list[PerformerReport]], start: datetime, end: datetime) -> None:
    # From the 10 s point the range starts in: a show a few seconds old has one.
    step = Resolution.TEN_SECONDS
    first = int(start.timestamp()) - (step - 1)
    last = int(end.timestamp())
    for unit_id, second, point in store.read_points(by_unit, step, first, last):
        # In time order per unit: the last one seen is the battery at the end.
        span = point[BATTERY]
        if span is None:
            continue
        covers = (_when(second), _when(second + step))
        for row in by_unit[unit_id]:
            if covers[0] >= row.worn_until or covers[1] <= row.worn_from:
                continue
            lowest = row.lowest_battery
            row.lowest_battery = span.low if lowest is None else min(lowest, span.low)
            row.battery_at_end = span.mean


def _add_alerts(
    by_unit: dict[int, list[PerformerReport]],
    alerts: QuerySet[Alert],
    start: datetime,
    end: datetime,
) -> None:
    in_range = alerts.filter(
        wireless_unit_id__in=by_unit, created_at__gte=start, created_at__lt=end
    )
    for alert in in_range.order_by("created_at"):
        after = (
            None
            if alert.acknowledged_at is None
            else (alert.acknowledged_at - alert.created_at).total_seconds()
        )
        for row in by_unit[alert.wireless_unit_id]:
            if row.wore(alert.created_at):
                row.acknowledged_after.append(after)


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


CSV_COLUMNS = [
    "performer", "slot", "worn_from", "worn_until", "dropouts", "dropout_total_s",
    "dropout_longest_s", "clips",
    "battery_swaps", "lowest_battery_percent", "battery_at_end_percent", "minutes_left",
    "alerts", "unacknowledged_alerts", "slowest_acknowledgement_s",
]  # fmt: skip


def to_csv(rows: list[PerformerReport]) -> str:
    """Return the report as CSV, safe to open in a spreadsheet (no formulas)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                _cell(row.performer), _cell(row.slot), row.worn_from.isoformat(),
                row.worn_until.isoformat(), len(row.dropouts),
                f"{row.dropout_total:.1f}", f"{row.dropout_longest:.1f}", row.clips, row.swaps,
                _number(row.lowest_battery), _number(row.battery_at_end),
                _number(row.minutes_left), row.alerts, row.unacknowledged,
                _number(row.slowest_acknowledgement),
            ]
        )  # fmt: skip
    return out.getvalue()


def _cell(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
