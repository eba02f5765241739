"""Counters of one poller, turned into the rates its heartbeat publishes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class Stats:
    started: float = field(default_factory=time.time)
    readings: int = 0
    frames: int = 0
    reading_lag_total: float = 0.0  # seconds from a reading's timestamp to its handling
    loop_lag: float = 0.0  # the latest a frame tick woke up since the last heartbeat
    published_at: float = 0.0  # Unix time of the last frame tick that went through
    ticks: int = 0  # frame ticks run, and how long they took in all (s): a summary's parts
    tick_total: float = 0.0
    tick_max: float = 0.0  # the longest frame tick since the last heartbeat (s)
    _last_at: float = field(default_factory=time.monotonic)
    _last_readings: int = 0
    _last_frames: int = 0
    _last_lag_total: float = 0.0

    def reading(self, lag: float) -> None:
        self.readings += 1
        self.reading_lag_total += lag

    def tick(self, duration: float) -> None:
        self.ticks += 1
        self.tick_total += duration
        self.tick_max = max(self.tick_max, duration)

    def rates(self) -> dict[str, float]:
        """Return readings/s, frames/s, mean reading lag, the latest wake-up and the longest
        frame tick (ms) since the last call."""
        now = time.monotonic()
        elapsed = max(now - self._last_at, 1e-6)
        readings = self.readings - self._last_readings
        lag_total = self.reading_lag_total - self._last_lag_total
        rates = {
            "readings_per_s": readings / elapsed,
            "frames_per_s": (self.frames - self._last_frames) / elapsed,
            "reading_lag_ms": 1000 * lag_total / readings if readings else 0.0,
            "loop_lag_ms": 1000 * self.loop_lag,
            "tick_max_ms": 1000 * self.tick_max,
        }
        self._last_at, self._last_readings = now, self.readings
        self._last_frames, self._last_lag_total = self.frames, self.reading_lag_total
        self.loop_lag = self.tick_max = 0.0
        return rates
