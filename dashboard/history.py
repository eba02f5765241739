"""A unit's last hour, read from its Redis history stream and drawn as inline SVG.

The stream (`{p}:hist:{unit_id}`, docs/live-protocol.md) gets an entry in each second the
unit's state changed, with `b` bars, `p` percent, `a`/`bb` RF A/B dBm, `au` audio dBFS and
`s` status (an unknown value is left out). A value holds until the next entry, so the
charts are steps, and the entry before the hour is read too, to know where the hour
began. They are plain SVG paths built here: the unit page needs no script, no library.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import cast

import redis

from realtime import keys, redis_client

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 3600
MAX_POINTS = 3600
CHART_WIDTH = 600
CHART_HEIGHT = 120
Entries = list[tuple[bytes, dict[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class Point:
    t: float  # seconds since the epoch
    battery: float | None  # percent
    rf_a: float | None
    rf_b: float | None
    audio: float | None


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    css_class: str
    path: str  # an SVG path `d` attribute; empty when nothing is known


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    unit: str
    low: float
    high: float
    series: list[Series]

    @property
    def has_data(self) -> bool:
        return any(s.path for s in self.series)


def read_history(unit_id: int, *, now: float | None = None) -> list[Point] | None:
    """Return the last hour of a unit, oldest first; None when Redis cannot be read."""
    end = time.time() if now is None else now
    start_id = f"{int((end - WINDOW_SECONDS) * 1000)}-0"
    key = keys.unit_history(unit_id)
    client = redis_client.sync_client()
    try:
        before = cast(Entries, client.xrevrange(key, max=start_id, min="-", count=1))
        during = cast(Entries, client.xrange(key, min=start_id, max="+", count=MAX_POINTS))
        entries = [*before, *during]  # `before` holds at most one entry
    except redis.RedisError:
        logger.warning("Could not read the history of unit %s", unit_id, exc_info=True)
        return None
    return [_point(entry_id, fields) for entry_id, fields in entries]


def charts(points: list[Point], *, now: float | None = None) -> list[Chart]:
    """Return the battery, RF and audio charts of an hour of points."""
    end = time.time() if now is None else now
    start = end - WINDOW_SECONDS

    def series(name: str, css: str, values: list[float | None], low: float, high: float) -> Series:
        return Series(name, css, _path(points, values, start, low, high))

    return [
        Chart("Battery", "%", 0, 100, [
            series("Battery", "battery", [p.battery for p in points], 0, 100),
        ]),
        Chart("RF level", "dBm", -100, -20, [
            series("Antenna A", "rf-a", [p.rf_a for p in points], -100, -20),
            series("Antenna B", "rf-b", [p.rf_b for p in points], -100, -20),
        ]),
        Chart("Audio", "dBFS", -60, 0, [
            series("Audio", "audio", [p.audio for p in points], -60, 0),
        ]),
    ]  # fmt: skip


def _point(entry_id: bytes, fields: dict[bytes, bytes]) -> Point:
    millis = entry_id.decode().split("-")[0]
    values = {key.decode(): value.decode() for key, value in fields.items()}
    battery = _number(values.get("p"))
    if battery is None and (bars := _number(values.get("b"))) is not None:
        battery = bars * 20  # bars only (Shure): five bars are a full battery
    return Point(
        t=int(millis) / 1000,
        battery=battery,
        rf_a=_number(values.get("a")),
        rf_b=_number(values.get("bb")),
        audio=_number(values.get("au")),
    )


def _number(raw: str | None) -> float | None:
    if raw is None or raw in ("", "null", "None"):
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def _path(
    points: list[Point], values: list[float | None], start: float, low: float, high: float
) -> str:
    """Scale (time, value) pairs into the chart box as an SVG path of steps.

    Each value holds until the next entry (to now, for the last one); an unknown value
    ends the line until a value is known again, so nothing is drawn where nothing was.
    """
    commands = []
    holding: float | None = None  # the y of the value being held, if one is
    for point, value in zip(points, values, strict=True):
        x = max(0.0, (point.t - start) / WINDOW_SECONDS * CHART_WIDTH)
        if holding is not None:
            commands.append(f"L{x:.1f},{holding:.1f}")
        if value is None:
            holding = None
            continue
        y = CHART_HEIGHT - (min(max(value, low), high) - low) / (high - low) * CHART_HEIGHT
        commands.append(f"{'M' if holding is None else 'L'}{x:.1f},{y:.1f}")
        holding = y
    if holding is not None:
        commands.append(f"L{CHART_WIDTH:.1f},{holding:.1f}")
    return " ".join(commands)
