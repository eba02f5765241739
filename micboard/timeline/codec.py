"""Packing a window of per-second (or per-10 s) aggregates into one compressed blob.

One database row holds POINTS consecutive points of one unit: a row per point would cost
about ten times the disk (bench/bench_timeline.py measures both). Each point keeps the
minimum, maximum and mean of every lane as a signed 16-bit number of tenths (dBm, dBFS,
percent); MISSING marks a lane with no value (transmitter unheard, or no reading).
"""

from __future__ import annotations

import zlib
from array import array
from dataclasses import dataclass

LANES = ("rf_a", "rf_b", "audio", "battery")
POINTS = 60  # per row: a minute of seconds, or ten minutes of 10 s points
MISSING = -32768
PER_POINT = 3 * len(LANES)  # min, max, mean of each lane


@dataclass(frozen=True, slots=True)
class Span:
    """One lane over one point: what the lane did during that second (or 10 s)."""

    low: float
    high: float
    mean: float


# One point: a Span or None (no value) per lane, in LANES order.
Point = tuple[Span | None, ...]


def encode(points: list[Point | None]) -> bytes:
    """Pack up to POINTS points (None: nothing recorded in that slot)."""
    flat = [MISSING] * (POINTS * PER_POINT)
    for slot, point in enumerate(points[:POINTS]):
        if point is None:
            continue
        at = slot * PER_POINT
        for span in point:
            if span is not None:
                flat[at : at + 3] = _tenths(span.low), _tenths(span.high), _tenths(span.mean)
            at += 3
    return zlib.compress(array("h", flat).tobytes(), 6)


def decode_values(blob: bytes) -> array[int]:
    """Unpack a blob into its flat tenths: PER_POINT per slot (each lane's min, max, mean)."""
    values = array("h")
    values.frombytes(zlib.decompress(blob))
    return values


def decode(blob: bytes) -> list[Point | None]:
    """Unpack a blob into POINTS slots."""
    return to_points(decode_values(blob))


def to_points(values: array[int]) -> list[Point | None]:
    """Turn a row's flat tenths into POINTS slots."""
    points: list[Point | None] = []
    for at in range(0, POINTS * PER_POINT, PER_POINT):
        lanes = tuple(
            None
            if values[lane] == MISSING
            else Span(values[lane] / 10, values[lane + 1] / 10, values[lane + 2] / 10)
            for lane in range(at, at + PER_POINT, 3)
        )
        points.append(None if lanes.count(None) == len(LANES) else lanes)
    return points


# A reading at full rate: its time (Unix s) and each lane's value (None: unknown).
Reading = tuple[float, tuple[float | None, ...]]
MINUTE = 60  # s of readings per row


class ReadingsRow:
    """A minute of one unit's readings, packed as they come: each one's milliseconds since
    `start` (unsigned 16-bit), and its lanes as 16-bit tenths (MISSING when unknown), so
    a minute at 10 Hz holds 6 KB in memory before compression."""

    __slots__ = ("offsets", "start", "values")

    def __init__(self, start: int) -> None:
        self.start = start
        self.offsets = array("H")
        self.values = array("h")

    def add(self, reading: Reading) -> None:
        at, lanes = reading
        self.offsets.append(max(0, min(65535, round((at - self.start) * 1000))))
        self.values.extend(MISSING if v is None else _tenths(v) for v in lanes)

    def encode(self) -> bytes:
        return zlib.compress(self.offsets.tobytes() + self.values.tobytes(), 6)


def decode_readings(start: int, blob: bytes) -> tuple[list[float], array[int]]:
    """Unpack a minute's readings: their times, and len(LANES) tenths per reading."""
    raw = zlib.decompress(blob)
    count = len(raw) // (2 + 2 * len(LANES))
    offsets, values = array("H"), array("h")
    offsets.frombytes(raw[: 2 * count])
    values.frombytes(raw[2 * count :])
    return [start + offset / 1000 for offset in offsets], values


def merge(points: list[Point | None]) -> Point | None:
    """Return one point summarising several (the 10 s tier from ten seconds)."""
    heard = [point for point in points if point is not None]
    if not heard:
        return None
    merged: list[Span | None] = []
    for lane in range(len(LANES)):
        spans = [point[lane] for point in heard if point[lane] is not None]
        merged.append(
            Span(
                low=min(s.low for s in spans if s),
                high=max(s.high for s in spans if s),
                mean=sum(s.mean for s in spans if s) / len(spans),
            )
            if spans
            else None
        )
    return tuple(merged)


def _tenths(value: float) -> int:
    return max(-32767, min(32767, round(value * 10)))
