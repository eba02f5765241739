"""The show report: per performer of a group, over a range, what went wrong and when.

Callers pass a group that micboard/access.py has let the reader see, and that reader's
visible alerts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from micboard.models import Alert, MonitoringGroup, PerformerAssignment
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
    dropouts: list[float] = field(default_factory=list)  # durations, s
    clips: int = 0
    swaps: int = 0
    lowest_battery: float | None = None
    battery_at_end: float | None = None
    minutes_left: int | None = None  # the receiver's estimate, when the range ends now
    acknowledged_after: list[float | None] = field(default_factory=list)  # s, per alert

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
    """Return one row per performer assigned in the group (by slot, then name)."""
    assignments = (
        PerformerAssignment.objects.active()
        .filter(monitoring_group=group)
        .select_related("performer", "wireless_unit")
        .order_by("wireless_unit__slot", "performer__name")
    )
    rows = [
        PerformerReport(a.performer.name, a.wireless_unit.slot, a.wireless_unit_id)
        for a in assignments
    ]
    by_unit: dict[int, list[PerformerReport]] = {}
    for row in rows:
        by_unit.setdefault(row.unit_id, []).append(row)
    _add_events(by_unit, start, end)
    _add_battery(by_unit, start, end)
    _add_alerts(by_unit, visible_alerts.filter(monitoring_group=group), start, end)
    if ends_now:
        for assignment in assignments:
            for row in by_unit[assignment.wireless_unit_id]:
                row.minutes_left = assignment.wireless_unit.battery_minutes
    return rows


def _add_events(by_unit: dict[int, list[PerformerReport]], start: datetime, end: datetime) -> None:
    overlapping = Q(started_at__lt=end) & (Q(ended_at__isnull=True) | Q(ended_at__gte=start))
    for event in UnitEvent.objects.filter(overlapping, unit_id__in=by_unit):
        for row in by_unit[event.unit_id]:
            if event.kind == EventKind.DROPOUT:
                # Counted within the range: a dropout still going on lasts until its end.
                until = min(event.ended_at or end, end)
                row.dropouts.append((until - max(event.started_at, start)).total_seconds())
            elif event.kind == EventKind.CLIP:
                row.clips += 1
            elif event.kind == EventKind.BATTERY_SWAP:
                row.swaps += 1


def _add_battery(by_unit: dict[int, list[PerformerReport]], start: datetime, end: datetime) -> None:
    # From the 10 s point the range starts in: a show a few seconds old has one.
    first = int(start.timestamp()) - (Resolution.TEN_SECONDS - 1)
    last = int(end.timestamp())
    for unit_id, _second, point in store.read_points(
        by_unit, Resolution.TEN_SECONDS, first, last
    ):  # in time order per unit: the last one seen is the battery at the end
        span = point[BATTERY]
        if span is None:
            continue
        for row in by_unit[unit_id]:
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
            row.acknowledged_after.append(after)


CSV_COLUMNS = [
    "performer", "slot", "dropouts", "dropout_total_s", "dropout_longest_s", "clips",
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
                _cell(row.performer), _cell(row.slot), len(row.dropouts),
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
