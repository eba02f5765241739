"""Events on a unit's timeline, seen in its stream of states (in the event loop; cheap).

Each lane watches one thing and reports a span when it starts (open) and again when it
ends; the writer thread saves both to the same row (micboard/timeline/models.UnitEvent):

- rf: the transmitter unheard, or heard below the RF threshold on both antennas. When it
  ends, a span that was never heard and lasted TX_OFF_AFTER or more is the transmitter
  switched off and on; anything else is an RF dropout.
- audio: the receiver's clip flag.
- rx: the receiver unreachable.
- battery: a charge that rises by SWAP_RISE or more, or two bars, between two heard
  readings (usually across a short power-off): a battery swap, an instant.
"""

from __future__ import annotations

from dataclasses import dataclass

from micboard.timeline.models import EventKind
from micboard.timeline.store import DetectedEvent
from realtime.units.state import UnitState

TX_OFF_AFTER = 10.0  # s unheard: switched off rather than dropped out
SWAP_RISE = 15  # % of charge
SWAP_BARS = 2


@dataclass(slots=True)
class _Open:
    started: float
    heard: bool = False  # rf lane: heard at all (below the threshold) during the span
    lowest: float | None = None


class UnitDetector:
    """One unit's lanes."""

    __slots__ = ("_battery", "_heard_once", "_open", "rf_threshold", "unit_id")

    def __init__(self, unit_id: int, rf_threshold: float) -> None:
        self.unit_id = unit_id
        self.rf_threshold = rf_threshold
        self._open: dict[str, _Open] = {}
        self._battery: tuple[int | None, int | None] | None = None  # (percent, bars) heard
        # A pack not yet heard since the poller started is off, not dropping out.
        self._heard_once = False

    def observe(self, state: UnitState) -> list[DetectedEvent]:
        found: list[DetectedEvent] = []
        self._lane(found, "rx", EventKind.RX_OFFLINE, not state.online, state)
        self._lane(found, "audio", EventKind.CLIP, state.online and state.clip, state)
        if state.online:
            self._rf(found, state)
            self._swap(found, state)
        return found

    def _lane(
        self, found: list[DetectedEvent], lane: str, kind: str, on: bool, state: UnitState
    ) -> None:
        span = self._open.get(lane)
        if on and span is None:
            self._open[lane] = _Open(state.ts)
            found.append(DetectedEvent(self.unit_id, lane, kind, state.ts, None))
        elif not on and span is not None:
            del self._open[lane]
            found.append(DetectedEvent(self.unit_id, lane, kind, span.started, state.ts))

    def _rf(self, found: list[DetectedEvent], state: UnitState) -> None:
        heard = bool(state.tx_on)
        levels = [v for v in (state.rf_a, state.rf_b) if v is not None]
        strongest = max(levels) if heard and levels else None
        bad = not heard or (strongest is not None and strongest < self.rf_threshold)
        self._heard_once = self._heard_once or heard
        span = self._open.get("rf")
        if bad and span is None and self._heard_once:
            self._open["rf"] = span = _Open(state.ts)
            found.append(DetectedEvent(self.unit_id, "rf", EventKind.DROPOUT, state.ts, None))
        if bad and span is not None and heard:
            span.heard = True
            span.lowest = strongest if span.lowest is None else min(span.lowest, strongest or 0)
        if not bad and span is not None:
            del self._open["rf"]
            off = not span.heard and state.ts - span.started >= TX_OFF_AFTER
            detail = {} if span.lowest is None else {"lowest_dbm": span.lowest}
            kind = EventKind.TX_OFF if off else EventKind.DROPOUT
            found.append(DetectedEvent(self.unit_id, "rf", kind, span.started, state.ts, detail))

    def _swap(self, found: list[DetectedEvent], state: UnitState) -> None:
        if not state.tx_on or (state.percent is None and state.bars is None):
            return
        now = (state.percent, state.bars)
        before, self._battery = self._battery, now
        if before is None:
            return
        if _rose(before[0], now[0], SWAP_RISE) or _rose(before[1], now[1], SWAP_BARS):
            detail = {"from": _charge(before), "to": _charge(now)}
            found.append(
                DetectedEvent(
                    self.unit_id, "battery", EventKind.BATTERY_SWAP, state.ts, state.ts, detail
                )
            )


def _rose(before: int | None, now: int | None, by: int) -> bool:
    return before is not None and now is not None and now - before >= by


def _charge(battery: tuple[int | None, int | None]) -> dict[str, int]:
    percent, bars = battery
    return {k: v for k, v in (("percent", percent), ("bars", bars)) if v is not None}
