"""Writing, reading and pruning the timeline's chunks (the only code that touches them)."""

from __future__ import annotations

import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from micboard.timeline.codec import (
    MINUTE,
    POINTS,
    Point,
    ReadingsRow,
    decode_readings,
    decode_values,
    encode,
    to_points,
)
from micboard.timeline.models import Marker, ReadingChunk, Resolution, SampleChunk, UnitEvent


@dataclass(frozen=True, slots=True)
class Chunk:
    """A window of one unit's points, ready to be saved."""

    unit_id: int
    resolution: int
    start: int
    points: list[Point | None]


@dataclass(frozen=True, slots=True)
class DetectedEvent:
    """An event a poller saw (realtime/poller/detector.py), at its start or its end."""

    unit_id: int
    lane: str
    kind: str
    started: float
    ended: float | None  # None while it lasts
    detail: dict[str, Any] = field(default_factory=dict)


def window_start(second: int, resolution: int) -> int:
    """Return the first second of the window (row) that `second` falls in."""
    span = resolution * POINTS
    return second - second % span


def save_chunks(chunks: Iterable[Chunk]) -> int:
    """Save chunks, replacing any saved before for the same window; return how many."""
    rows = [
        SampleChunk(
            unit_id=c.unit_id, resolution=c.resolution, start=c.start, data=encode(c.points)
        )
        for c in chunks
    ]
    if rows:
        with transaction.atomic():
            SampleChunk.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["unit", "resolution", "start"],
                update_fields=["data"],
            )
    return len(rows)


def save_readings(minutes: Iterable[tuple[int, ReadingsRow]]) -> int:
    """Save (unit id, minute of readings) rows, replacing any saved before."""
    rows = [
        ReadingChunk(unit_id=unit_id, start=row.start, data=row.encode())
        for unit_id, row in minutes
    ]
    if rows:
        with transaction.atomic():
            ReadingChunk.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["unit", "start"],
                update_fields=["data"],
            )
    return len(rows)


def read_readings(
    unit_ids: Iterable[int], start: int, end: int
) -> Iterator[tuple[int, list[float], array[int]]]:
    """Yield (unit id, times, tenths: codec.decode_readings) of the minutes holding the
    units' readings in [start, end), in time order per unit."""
    rows = (
        ReadingChunk.objects.filter(
            unit_id__in=list(unit_ids), start__gte=start - start % MINUTE, start__lt=end
        )
        .order_by("unit_id", "start")
        .values_list("unit_id", "start", "data")
    )
    for unit_id, first, blob in rows:
        yield unit_id, *decode_readings(first, bytes(blob))


def save_events(events: Iterable[DetectedEvent]) -> None:
    """Save events; an event's end (and final kind) updates the row of its start."""
    rows: dict[tuple[int, str, float], UnitEvent] = {}
    for event in events:  # in order: a span's end replaces its start in the same batch
        rows[(event.unit_id, event.lane, event.started)] = UnitEvent(
            unit_id=event.unit_id,
            lane=event.lane,
            kind=event.kind,
            started_at=_when(event.started),
            ended_at=None if event.ended is None else _when(event.ended),
            detail=event.detail,
        )
    if rows:
        UnitEvent.objects.bulk_create(
            rows.values(),
            update_conflicts=True,
            unique_fields=["unit", "lane", "started_at"],
            update_fields=["kind", "ended_at", "detail"],
        )


def read_rows(
    unit_ids: Iterable[int], resolution: int, start: int, end: int
) -> Iterator[tuple[int, int, array[int]]]:
    """Yield (unit id, first second, flat tenths: codec.decode_values) of the rows that
    hold the units' points in [start, end), in time order per unit."""
    rows = (
        SampleChunk.objects.filter(
            unit_id__in=list(unit_ids),
            resolution=resolution,
            start__gte=window_start(start, resolution),
            start__lt=end,
        )
        .order_by("unit_id", "start")
        .values_list("unit_id", "start", "data")
    )
    for unit_id, first, blob in rows:
        yield unit_id, first, decode_values(bytes(blob))


def read_points(
    unit_ids: Iterable[int], resolution: int, start: int, end: int
) -> Iterator[tuple[int, int, Point]]:
    """Yield (unit id, second, point) of the units' points in [start, end), in time order
    per unit."""
    for unit_id, first, values in read_rows(unit_ids, resolution, start, end):
        for slot, point in enumerate(to_points(values)):
            second = first + slot * resolution
            if point is not None and start <= second < end:
                yield unit_id, second, point


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def prune_readings(now: float) -> int:
    """Delete the full-rate minutes older than MICBOARD_TIMELINE_FULL_RATE_MINUTES."""
    oldest = int(now) - int(settings.MICBOARD_TIMELINE_FULL_RATE_MINUTES) * 60 - MINUTE
    return ReadingChunk.objects.filter(start__lt=oldest).delete()[0]


def prune(now: float | None = None) -> int:
    """Delete what is older than the retention settings; return the rows deleted."""
    now = time.time() if now is None else now
    keep_days = int(settings.MICBOARD_TIMELINE_DAYS)
    keep_seconds_hours = int(settings.MICBOARD_TIMELINE_SECOND_HOURS)
    deleted = 0
    for resolution, kept in (
        (Resolution.TEN_SECONDS, keep_days * 86400),
        (Resolution.SECOND, keep_seconds_hours * 3600),
    ):
        # A window is deleted once its last point is older than what is kept.
        oldest = int(now) - kept - resolution * POINTS
        deleted += SampleChunk.objects.filter(resolution=resolution, start__lt=oldest).delete()[0]
    deleted += prune_readings(now)
    cutoff = _when(now) - timedelta(days=keep_days)
    deleted += UnitEvent.objects.filter(started_at__lt=cutoff).delete()[0]
    deleted += Marker.unscoped.filter(at__lt=cutoff).delete()[0]
    return deleted
