"""Reading a timeline for a page: lanes at a resolution that suits the range, and events.

Callers pass only units and groups that micboard/access.py has let the reader see.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from micboard.models import Alert, MonitoringGroup
from micboard.timeline import store
from micboard.timeline.codec import LANES, MISSING, PER_POINT, POINTS, Point, merge
from micboard.timeline.models import Marker, Resolution, UnitEvent

MAX_POINTS = 1500  # per unit and range: about one per pixel of a wide screen
SECOND_TIER_UP_TO = 3600  # ranges up to an hour are drawn from 1 s points
AHEAD = 3  # a page may fetch up to this many views' worth at a view's step (pan ahead)
FULL_RATE_UP_TO = 150  # s: views this short draw every reading (10 Hz: 1,500 of them)
FULL_RATE = 0  # the "tier" and step of every reading


def resolution_for(start: int, end: int, now: float) -> int:
    """Return the stored tier to read: 1 s for short ranges still within its retention."""
    kept_since = now - int(settings.MICBOARD_TIMELINE_SECOND_HOURS) * 3600
    if end - start <= SECOND_TIER_UP_TO and start >= kept_since:
        return Resolution.SECOND
    return Resolution.TEN_SECONDS


def step_rules(now: float) -> dict[str, Any]:
    """What step_for decides by, for a page that wants to know whether it already holds
    a range's points (static/js/timeline.js)."""
    kept_since = now - int(settings.MICBOARD_TIMELINE_SECOND_HOURS) * 3600
    return {"second_up_to": SECOND_TIER_UP_TO, "second_since": kept_since,
            "full_rate_up_to": FULL_RATE_UP_TO, "full_rate_since": _full_rate_since(now),
            "max_points": MAX_POINTS, "ahead": AHEAD}  # fmt: skip


def _full_rate_since(now: float) -> float:
    return now - int(settings.MICBOARD_TIMELINE_FULL_RATE_MINUTES) * 60


def step_for(view_start: int, end: int, now: float) -> tuple[int, int]:
    """Return the stored tier and the step (s per point) of a view [view_start, end);
    FULL_RATE for both when it draws every reading."""
    span = end - view_start
    if span <= FULL_RATE_UP_TO and view_start >= _full_rate_since(now):
        return FULL_RATE, FULL_RATE
    resolution = resolution_for(view_start, end, now)
    return resolution, max(resolution, math.ceil(span / MAX_POINTS / resolution) * resolution)


def lanes(
    unit_ids: Iterable[int], start: int, end: int, now: float, *, view: int | None = None
) -> dict[str, Any]:
    """Return each unit's lanes over [start, end): times, and per lane mean/min/max lists
    (None where nothing was heard, so a chart draws a gap). With `view` (s, at most
    AHEAD times shorter than the range), the points are those of a view that long
    ending at `end`: a page fetches around what it shows, to pan without waiting."""
    resolution, step = step_for(end - (view or end - start), end, now)
    if step == FULL_RATE:
        units = _every_reading(store.read_readings(unit_ids, start, end), start, end)
        return {"start": start, "end": end, "step": step, "units": units}
    if step == resolution:  # one point per stored point: no merging, straight from the rows
        units = _unmerged(store.read_rows(unit_ids, resolution, start, end), step, start, end)
        return {"start": start, "end": end, "step": step, "units": units}
    if POINTS % (step // resolution) == 0:  # a row holds whole steps: merged within it
        rows = store.read_rows(unit_ids, resolution, start, end)
        units = _merged(rows, resolution, step, start, end)
        return {"start": start, "end": end, "step": step, "units": units}
    buckets: dict[int, dict[int, list[Point | None]]] = defaultdict(lambda: defaultdict(list))
    for unit_id, second, point in store.read_points(unit_ids, resolution, start, end):
        buckets[unit_id][second - second % step].append(point)
    return {
        "start": start,
        "end": end,
        "step": step,
        "units": {str(unit_id): _series(by_time, step) for unit_id, by_time in buckets.items()},
    }


def _series(by_time: dict[int, list[Point | None]], step: int) -> dict[str, list[Any]]:
    series: dict[str, list[Any]] = {"t": []}
    for lane in LANES:
        series.update({lane: [], f"{lane}_min": [], f"{lane}_max": []})
    previous: int | None = None
    for at in sorted(by_time):
        if previous is not None and at - previous > step:
            _append(series, previous + step, None)  # nothing heard in between: a gap
        points = by_time[at]
        _append(series, at, points[0] if len(points) == 1 else merge(points))
        previous = at
    return series


# A row's flat tenths hold, per point, each lane's min, max and mean (codec.py).
COLUMNS = [name for lane in LANES for name in (f"{lane}_min", f"{lane}_max", lane)]


def _unmerged(
    rows: Iterable[tuple[int, int, array[int]]], step: int, start: int, end: int
) -> dict[str, dict[str, list[Any]]]:
    """Return each unit's series from its rows' tenths, as _series does for single points
    but without building a Span per value: most of a long range's answer time."""
    units: dict[str, dict[str, list[Any]]] = {}
    last: dict[str, int | None] = {}
    for unit_id, first, values in rows:
        key = str(unit_id)
        series = units.get(key)
        if series is None:
            series = units[key] = {"t": [], **{name: [] for name in COLUMNS}}
        times, columns = series["t"], [series[name] for name in COLUMNS]
        previous = last.get(key)
        whole = first >= start and first + POINTS * step <= end and MISSING not in values
        if whole and (previous is None or first - previous <= step):
            # Every lane heard all through the row (most of a show): a column at a time.
            times.extend(range(first, first + POINTS * step, step))
            for index, column in enumerate(columns):
                column.extend([tenths / 10 for tenths in values[index::PER_POINT]])
            last[key] = first + (POINTS - 1) * step
            continue
        for slot in range(POINTS):
            second = first + slot * step
            point = values[slot * PER_POINT : (slot + 1) * PER_POINT]
            if not start <= second < end or point.count(MISSING) == PER_POINT:
                continue
            if previous is not None and second - previous > step:
                times.append(previous + step)  # nothing heard in between: a gap
                for column in columns:
                    column.append(None)
            times.append(second)
            for column, tenths in zip(columns, point, strict=True):
                column.append(None if tenths == MISSING else tenths / 10)
            previous = second
        last[key] = previous
    return units


def _merged(
    rows: Iterable[tuple[int, int, array[int]]], resolution: int, step: int, start: int, end: int
) -> dict[str, dict[str, list[Any]]]:
    """Return each unit's series with `step // resolution` stored points merged into one
    (lowest low, highest high, mean of means), as _series does, from the rows' tenths."""
    per = step // resolution
    units: dict[str, dict[str, list[Any]]] = {}
    last: dict[str, int | None] = {}
    for unit_id, first, values in rows:
        key = str(unit_id)
        series = units.get(key)
        if series is None:
            series = units[key] = {"t": [], **{name: [] for name in COLUMNS}}
        times, columns = series["t"], [series[name] for name in COLUMNS]
        in_range = (max(0, -(-(start - first) // resolution)), -(-(end - first) // resolution))
        previous = last.get(key)
        for bucket in range(0, POINTS, per):
            low, high = max(bucket, in_range[0]), min(bucket + per, in_range[1])
            chunk = values[low * PER_POINT : high * PER_POINT]
            if low >= high or chunk.count(MISSING) == len(chunk):
                continue
            second = first + bucket * resolution
            if previous is not None and second - previous > step:
                times.append(previous + step)  # nothing heard in between: a gap
                for column in columns:
                    column.append(None)
            times.append(second)
            for index, column in enumerate(columns):
                column.append(
                    _combine(index % 3, [v for v in chunk[index::PER_POINT] if v != MISSING])
                )
            previous = second
        last[key] = previous
    return units


def _combine(kind: int, tenths: list[int]) -> float | None:
    """Merge one lane's min (kind 0), max (1) or mean (2) tenths over a step."""
    if not tenths:
        return None
    if kind == 0:
        return min(tenths) / 10
    if kind == 1:
        return max(tenths) / 10
    return round(sum(v / 10 for v in tenths) / len(tenths), 1)


def _every_reading(
    minutes: Iterable[tuple[int, list[float], array[int]]], start: int, end: int
) -> dict[str, dict[str, list[Any]]]:
    """Return each unit's readings in [start, end): a reading is its own min and max."""
    units: dict[str, dict[str, list[Any]]] = {}
    for unit_id, times, values in minutes:
        series = units.get(str(unit_id))
        if series is None:
            series = units[str(unit_id)] = {"t": [], **{name: [] for name in COLUMNS}}
        kept = [index for index, at in enumerate(times) if start <= at < end]
        series["t"].extend(round(times[index], 3) for index in kept)
        for lane, name in enumerate(LANES):
            column = values[lane :: len(LANES)]
            lane_values = [None if column[i] == MISSING else column[i] / 10 for i in kept]
            for suffix in ("_min", "_max", ""):
                series[name + suffix].extend(lane_values)
    return units


def _append(series: dict[str, list[Any]], at: int, point: Point | None) -> None:
    series["t"].append(at)
    for index, lane in enumerate(LANES):
        span = point[index] if point is not None else None
        series[lane].append(None if span is None else round(span.mean, 1))
        series[f"{lane}_min"].append(None if span is None else span.low)
        series[f"{lane}_max"].append(None if span is None else span.high)


def events(
    visible_alerts: QuerySet[Alert],
    group: MonitoringGroup | None,
    unit_ids: list[int],
    start: int,
    end: int,
) -> list[dict[str, Any]]:
    """Return the units' events, their alerts (of those the reader sees; of the group, with
    one) and the group's markers overlapping the range."""
    since, until = _when(start), _when(end)
    overlapping = Q(started_at__lt=until) & (Q(ended_at__isnull=True) | Q(ended_at__gte=since))
    found: list[dict[str, Any]] = [
        {
            "kind": event.kind,
            "label": event.get_kind_display(),
            "unit": event.unit_id,
            "start": event.started_at.timestamp(),
            "end": None if event.ended_at is None else event.ended_at.timestamp(),
            "detail": event.detail,
        }
        for event in UnitEvent.objects.filter(overlapping, unit_id__in=unit_ids).order_by(
            "started_at"
        )
    ]
    alerts = visible_alerts.filter(wireless_unit_id__in=unit_ids, created_at__lt=until).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=since)
    )
    if group is not None:
        alerts = alerts.filter(monitoring_group=group)
    found += [_alert(alert) for alert in alerts.order_by("created_at")]
    if group is not None:
        markers = Marker.objects.filter(monitoring_group=group, at__gte=since, at__lt=until)
        found += [
            {"kind": "marker", "label": m.label, "unit": None, "start": m.at.timestamp(),
             "end": None, "detail": {}}
            for m in markers
        ]  # fmt: skip
    return found


def _alert(alert: Alert) -> dict[str, Any]:
    def at(moment: datetime | None) -> float | None:
        return None if moment is None else moment.timestamp()

    return {
        "kind": "alert",
        "label": alert.message,
        "unit": alert.wireless_unit_id,
        "start": alert.created_at.timestamp(),
        "end": at(alert.resolved_at),
        "detail": {"severity": alert.severity, "acknowledged": at(alert.acknowledged_at)},
    }


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
