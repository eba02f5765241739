"""The timeline recorder: every unit's states become per-second points in the database.

In the event loop, each state only updates its unit's running min/max/sum for the current
second (a few additions). Once a second the closed seconds are handed, without waiting, to
a bounded queue; a writer thread drains it, builds each unit's windows (codec.POINTS
points a row) and saves the open ones every few seconds, so a timeline page is at most
SAVE_EVERY behind. When the database falls behind far enough to fill the queue, seconds
are dropped and counted (the heartbeat shows `timeline_dropped`): the walls come first.
The thread also prunes old data every PRUNE_EVERY.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections, connection

from micboard.tenancy import system_context
from micboard.timeline import store
from micboard.timeline.codec import (
    LANES,
    MINUTE,
    POINTS,
    Point,
    Reading,
    ReadingsRow,
    Span,
    merge,
)
from micboard.timeline.models import Resolution
from realtime.poller.detector import DetectedEvent, UnitDetector
from realtime.units.state import UnitState

logger = logging.getLogger(__name__)

QUEUE_SECONDS = 300  # seconds of points waiting for the database before dropping
SAVE_EVERY = 10.0  # s between saves of the open windows (MICBOARD_TIMELINE_SAVE_SECONDS)
PRUNE_EVERY = 3600.0
PRUNE_READINGS_EVERY = 60.0  # the full-rate minutes are kept for an hour, not days

# A closed second of one unit: (unit id, unix second, point)
Second = tuple[int, int, Point]
# A reading at full rate, of one unit: (unit id, (time, lane values))
UnitReading = tuple[int, Reading]
# What the loop hands the writer once a second: closed seconds, events seen, readings.
Batch = tuple[list[Second], list[DetectedEvent], list[UnitReading]]


def lane_values(state: UnitState) -> tuple[float | None, ...]:
    """The state's value of each lane (codec.LANES order); None when unheard."""
    heard = bool(state.online and state.tx_on)
    values = (state.rf_a, state.rf_b, state.audio, state.percent)
    return tuple(v if heard else None for v in values)


@dataclass(slots=True)
class _Running:
    """One unit's lanes over the second in progress."""

    second: int
    low: list[float | None] = field(default_factory=lambda: [None] * len(LANES))
    high: list[float | None] = field(default_factory=lambda: [None] * len(LANES))
    total: list[float] = field(default_factory=lambda: [0.0] * len(LANES))
    count: list[int] = field(default_factory=lambda: [0] * len(LANES))

    def add(self, values: tuple[float | None, ...]) -> None:
        for lane, value in enumerate(values):
            if value is None:
                continue
            low, high = self.low[lane], self.high[lane]
            self.low[lane] = value if low is None else min(low, value)
            self.high[lane] = value if high is None else max(high, value)
            self.total[lane] += value
            self.count[lane] += 1

    def point(self) -> Point:
        return tuple(
            Span(low, high, self.total[lane] / self.count[lane])
            if low is not None and high is not None
            else None
            for lane, (low, high) in enumerate(zip(self.low, self.high, strict=True))
        )


class SecondAggregator:
    """Folds states into per-second points (event loop side; never blocks)."""

    def __init__(self) -> None:
        self._running: dict[int, _Running] = {}
        self._last: dict[int, tuple[float | None, ...]] = {}
        self._emitted: dict[int, int] = {}  # the last second handed over, per unit
        self._closed: list[Second] = []

    def observe(self, state: UnitState) -> None:
        second = int(state.ts)
        values = lane_values(state)
        running = self._running.get(state.id)
        if running is None or running.second != second:
            if running is not None and running.second < second:
                self._closed.append((state.id, running.second, running.point()))
            running = _Running(second)
            self._running[state.id] = running
        running.add(values)
        self._last[state.id] = values

    def close(self, now: float) -> list[Second]:
        """Return every second before `now`'s; a unit with no state in the last second
        gets its last values again (a steady unit is only restated every 2 s)."""
        current = int(now)
        closed, self._closed = self._closed, []
        for unit_id, running in list(self._running.items()):
            if running.second < current:
                closed.append((unit_id, running.second, running.point()))
                del self._running[unit_id]
        for unit_id, second, _point in closed:
            self._emitted[unit_id] = max(second, self._emitted.get(unit_id, second))
        for unit_id in self._last:
            if self._emitted.get(unit_id, 0) < current - 1:
                closed.append((unit_id, current - 1, self._steady(unit_id)))
                self._emitted[unit_id] = current - 1
        return closed

    def forget(self, unit_id: int) -> None:
        self._running.pop(unit_id, None)
        self._last.pop(unit_id, None)
        self._emitted.pop(unit_id, None)

    def _steady(self, unit_id: int) -> Point:
        running = _Running(0)
        running.add(self._last[unit_id])
        return running.point()


class WindowBuilder:
    """The writer thread's open windows: 1 s rows and the 10 s rows merged from them."""

    def __init__(self) -> None:
        self._seconds: dict[tuple[int, int], list[Point | None]] = {}
        self._tens: dict[tuple[int, int], list[Point | None]] = {}
        self._minutes: dict[tuple[int, int], ReadingsRow] = {}  # full rate, per unit
        self.events: list[DetectedEvent] = []  # not saved yet
        self.latest = 0

    def add(self, seconds: list[Second]) -> None:
        for unit_id, second, point in seconds:
            start = store.window_start(second, Resolution.SECOND)
            window = self._seconds.setdefault((unit_id, start), [None] * POINTS)
            window[second - start] = point
            self.latest = max(self.latest, second)

    def add_readings(self, readings: list[UnitReading]) -> None:
        for unit_id, reading in readings:
            second = int(reading[0])
            start = second - second % MINUTE
            row = self._minutes.get((unit_id, start))
            if row is None:
                row = self._minutes[(unit_id, start)] = ReadingsRow(start)
            row.add(reading)

    def reading_rows(self) -> list[tuple[int, ReadingsRow]]:
        """Return every open minute of full-rate readings, as store.save_readings takes."""
        return [(unit_id, row) for (unit_id, _start), row in self._minutes.items()]

    def chunks(self) -> list[store.Chunk]:
        """Return every open window as chunks (the 10 s rows refreshed from the 1 s)."""
        for (unit_id, start), points in self._seconds.items():
            ten_start = store.window_start(start, Resolution.TEN_SECONDS)
            tens = self._tens.setdefault((unit_id, ten_start), [None] * POINTS)
            first = (start - ten_start) // Resolution.TEN_SECONDS
            for offset in range(POINTS // Resolution.TEN_SECONDS):
                at = offset * Resolution.TEN_SECONDS
                tens[first + offset] = merge(points[at : at + Resolution.TEN_SECONDS])
        return [
            *(store.Chunk(u, Resolution.SECOND, s, p) for (u, s), p in self._seconds.items()),
            *(store.Chunk(u, Resolution.TEN_SECONDS, s, p) for (u, s), p in self._tens.items()),
        ]

    def drop_finished(self) -> None:
        """Forget the windows saved for the last time (ended a while before the latest)."""
        grace = 5
        for windows, span in (
            (self._seconds, POINTS),
            (self._tens, Resolution.TEN_SECONDS * POINTS),
            (self._minutes, MINUTE),
        ):
            for key in [k for k in windows if k[1] + span + grace < self.latest]:
                del windows[key]


class Recorder:
    """The poller's side: aggregate in the loop, hand seconds to the writer thread."""

    def __init__(self, *, rf_threshold: float = -90.0, save_every: float = SAVE_EVERY) -> None:
        self.aggregator = SecondAggregator()
        self.dropped = 0  # seconds lost because the database did not keep up
        self.rf_threshold = rf_threshold
        self._detectors: dict[int, UnitDetector] = {}
        self._events: list[DetectedEvent] = []
        self._readings: list[UnitReading] = []
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=QUEUE_SECONDS)
        self._save_every = save_every
        self._thread = threading.Thread(target=self._write, name="timeline-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def observe(self, state: UnitState) -> None:
        self.aggregator.observe(state)
        self._readings.append((state.id, (state.ts, lane_values(state))))  # kept at full rate
        detector = self._detectors.get(state.id)
        if detector is None:
            detector = self._detectors[state.id] = UnitDetector(state.id, self.rf_threshold)
        self._events.extend(detector.observe(state))

    def forget(self, unit_id: int) -> None:
        """Stop recording a unit (no longer read by this poller)."""
        self.aggregator.forget(unit_id)
        self._detectors.pop(unit_id, None)

    def hand_over(self, now: float) -> None:
        """Pass the closed seconds and the events to the writer (once a second; never
        waits). Events are kept for the next try when the queue is full."""
        seconds = self.aggregator.close(now)
        if not seconds and not self._events:
            return
        readings, self._readings = self._readings, []  # on a full queue they are dropped too
        try:
            self._queue.put_nowait((seconds, self._events, readings))
        except queue.Full:
            self.dropped += len(seconds)
            return
        self._events = []

    def stop(self, timeout: float = 5.0) -> None:
        """Save what is open and end the thread (waits at most `timeout`)."""
        if not self._thread.is_alive():
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _write(self) -> None:
        builder = WindowBuilder()
        saved_at, pruned_at, readings_pruned_at = time.monotonic(), 0.0, 0.0
        try:
            while True:
                try:
                    batch = self._queue.get(timeout=self._save_every)
                except queue.Empty:
                    batch = ([], [], [])
                if batch is None:
                    self._save(builder)
                    return
                builder.add(batch[0])
                builder.events.extend(batch[1])
                builder.add_readings(batch[2])
                if time.monotonic() - saved_at >= self._save_every:
                    saved_at = time.monotonic()
                    self._save(builder)
                if time.monotonic() - pruned_at >= PRUNE_EVERY:
                    pruned_at = readings_pruned_at = time.monotonic()
                    self._prune(store.prune)
                elif time.monotonic() - readings_pruned_at >= PRUNE_READINGS_EVERY:
                    readings_pruned_at = time.monotonic()
                    self._prune(store.prune_readings)
        finally:
            connection.close()

    def _save(self, builder: WindowBuilder) -> None:
        try:
            with system_context():
                store.save_chunks(builder.chunks())
                store.save_readings(builder.reading_rows())
                store.save_events(builder.events)
        except Exception:
            logger.warning("timeline not saved; keeping it for the next try", exc_info=True)
            close_old_connections()
            return
        builder.drop_finished()
        builder.events = []

    def _prune(self, prune: Callable[[float], int]) -> None:
        try:
            with system_context():
                logger.info("timeline: pruned %d rows", prune(time.time()))
        except Exception:
            logger.warning("timeline prune failed; trying again later", exc_info=True)
            close_old_connections()
