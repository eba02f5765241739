"""A unit's live state (the contract's UnitState) and the tracker that derives it.

The tracker turns a unit's stream of normalised readings into states and alert
conditions. A tile shows what the receiver reports at once (status follows the original
Micboard's rules); only the alert conditions pass through hysteresis, so a flickering bar
never raises an alert, yet a real change reaches the walls in the next delta. A new state
is produced only when something a wall shows has changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from realtime.protocols.base import Reading
from realtime.units.hysteresis import Hysteresis
from realtime.units.status import (
    UnitFacts,
    alert_conditions,
    battery_level,
    derive_battery_status,
    derive_status,
    is_audio_low,
)

BATTERY_HOLD = 0.3  # a changed battery bar must hold this long (s) before alerts follow
RF_LOSS_HOLD = 1.0  # a transmitter must stay unheard this long before alerts count it lost
AUDIO_LOW_HOLD = 30.0  # sustained near-silence before "audio low" (a muted or dead mic)
AUDIO_BACK_HOLD = 1.0
# An unchanged state is published again, with a new `ts`, at least this often (s), so a
# wall can tell a quiet unit from a stalled poller: it greys out a state older than
# STALE_AFTER (a few missed restatements).
RESTATE_EVERY = 2.0
STALE_AFTER = 5.0


@dataclass(frozen=True, slots=True)
class SignalLossHolds:
    """How long (s) a transmitter must stay unheard before a signal-loss alert, and heard
    again before it clears: a pack at its last bar drops in and out, and each drop would
    otherwise raise and clear a banner (settings MICBOARD_SIGNAL_LOSS_AFTER / _BACK_AFTER).
    """

    lost: float
    back: float

    def hold(self, accepted: bool, candidate: bool) -> float:
        return self.lost if candidate else self.back


@dataclass(slots=True)
class UnitState:
    """What a wall tile shows for one unit; field names and order are the contract's.

    `ts` (when the reading was taken, or when the poller last restated an unchanged
    state) does not take part in equality: a reading that changes nothing but the time
    is not a change. Treat instances as immutable; the
    dataclass is not frozen only because frozen ones are slower to build, and one is
    built per reading.
    """

    id: int
    status: str
    battery_status: str
    online: bool
    tx_on: bool | None
    bars: int | None
    percent: int | None
    minutes: int | None
    rf_a: float | None
    rf_b: float | None
    antenna: str | None
    quality: int | None
    audio: float | None
    peak: float | None
    clip: bool
    tx_offset: float | None
    freq: int | None
    name: str | None  # the channel name set on the receiver (front panel or software)
    ts: float = field(compare=False)
    rf_out: int | None = None  # an IEM transmitter's RF output, mW


def level_hold(accepted: int | None, candidate: int | None) -> float:
    if accepted is None:
        return 0.0  # a first value, or a transmitter coming back: show it at once
    if candidate is None:
        return RF_LOSS_HOLD
    return BATTERY_HOLD


def audio_low_hold(accepted: bool, candidate: bool) -> float:
    return AUDIO_LOW_HOLD if candidate else AUDIO_BACK_HOLD


class UnitTracker:
    """Derives one unit's UnitState and alert conditions from its readings."""

    __slots__ = (
        "_audio_low",
        "_conditions",
        "_conditions_key",
        "_last_heard_at",
        "_last_level",
        "_last_peak_at",
        "_level",
        "_lost",
        "_pack_health_min",
        "_reading",
        "_reported_conditions",
        "_shown_level",
        "_uses_bars",
        "state",
        "unit_id",
    )

    def __init__(
        self, unit_id: int, *, signal_loss: SignalLossHolds, pack_health_min: int | None = None
    ) -> None:
        self.unit_id = unit_id
        self._pack_health_min = pack_health_min
        self.state: UnitState | None = None
        self._level: Hysteresis[int | None] = Hysteresis(None, level_hold)
        self._audio_low: Hysteresis[bool] = Hysteresis(False, audio_low_hold)
        self._lost: Hysteresis[bool] = Hysteresis(False, signal_loss.hold)
        self._reading: Reading | None = None
        self._shown_level: int | None = None
        self._uses_bars = False
        self._last_level: int | None = None
        self._last_heard_at: float | None = None
        self._last_peak_at: float | None = None
        self._conditions: frozenset[str] = frozenset()
        self._conditions_key: tuple[bool, int | None, bool, bool, bool] | None = None
        self._reported_conditions: frozenset[str] | None = None

    @property
    def pending(self) -> bool:
        """True while a battery or RF-loss candidate waits for its (sub-second) hold time
        before the alert conditions follow it: tick me soon. Audio-low and signal loss
        hold for long enough that the one-second tick settles them."""
        return self._level.pending

    def observe(self, reading: Reading, now: float) -> bool:
        """Take one reading; return True when the unit's state changed."""
        self._reading = reading
        if reading.audio_clipped:
            self._last_peak_at = reading.timestamp
        if reading.rx_reachable:
            self._uses_bars = self._uses_bars or reading.battery_bars is not None
            self._shown_level = battery_level(reading.battery_bars, reading.battery_percent)
            self._level.observe(self._shown_level, now)
            self._audio_low.observe(is_audio_low(reading.audio_rms_dbfs), now)
            self._lost.observe(self._shown_level is None, now)
        return self._refresh(now, timed=False)

    def tick(self, now: float) -> bool:
        """Let time pass (hold times, peak and PREV windows); return True on a change."""
        if self._reading is None:
            return False
        self._level.settle(now)
        self._audio_low.settle(now)
        self._lost.settle(now)
        return self._refresh(now, timed=True)

    @property
    def conditions(self) -> frozenset[str]:
        """The alert conditions holding now."""
        return self._conditions

    def take_conditions(self) -> frozenset[str] | None:
        """Return the alert conditions if they changed since the last call, else None."""
        if self._conditions == self._reported_conditions:
            return None
        self._reported_conditions = self._conditions
        return self._conditions

    def _refresh(self, now: float, *, timed: bool) -> bool:
        assert self._reading is not None
        shown = self._facts(self._shown_level, now)
        settled = self._facts(self._level.accepted, now)
        audio_low, lost = self._audio_low.accepted, self._lost.accepted
        # Between ticks only these inputs can change the conditions (the PREV window is
        # a matter of time, seen on ticks), so most readings skip the evaluation.
        worn = self._pack_worn()
        key = (settled.rx_reachable, settled.level, audio_low, lost, worn)
        if timed or key != self._conditions_key:
            self._conditions_key = key
            self._conditions = alert_conditions(
                settled, now, audio_low=audio_low, signal_lost=lost, pack_worn=worn
            )
        state = self._build(self._reading, shown, now)
        if state == self.state:
            assert self.state is not None
            if not timed or now - self.state.ts < RESTATE_EVERY:
                return False
            state = replace(self.state, ts=now)  # unchanged, and the poller says so
        self.state = state
        return True

    def _pack_worn(self) -> bool:
        health = self._reading.battery_health if self._reading is not None else None
        limit = self._pack_health_min
        return health is not None and limit is not None and health < limit

    def _facts(self, level: int | None, now: float) -> UnitFacts:
        """Return the facts with `level` heard now: the reported one for the tile, the
        settled one for alerts. Both remember the last level reported."""
        reading = self._reading
        reachable = reading is not None and reading.rx_reachable
        if reachable and self._shown_level is not None:
            self._last_level, self._last_heard_at = self._shown_level, now
        return UnitFacts(
            rx_reachable=reachable,
            level=level,
            last_level=self._last_level,
            last_heard_at=self._last_heard_at,
            last_peak_at=self._last_peak_at,
            streaming=reachable and _streams(reading),
        )

    def _build(self, reading: Reading, facts: UnitFacts, now: float) -> UnitState:
        heard = facts.level is not None or facts.streaming
        return UnitState(
            id=self.unit_id,
            status=derive_status(facts, now),  # a StrEnum: a str, encoded as its value
            battery_status=derive_battery_status(facts),
            online=reading.rx_reachable,
            tx_on=heard if reading.rx_reachable else None,
            bars=facts.level if self._uses_bars and heard else None,
            percent=reading.battery_percent,
            minutes=reading.battery_minutes,
            rf_a=reading.rf_a_dbm,
            rf_b=reading.rf_b_dbm,
            antenna=reading.antenna,
            quality=reading.rf_quality,
            audio=reading.audio_rms_dbfs,
            peak=reading.audio_peak_dbfs,
            clip=reading.audio_clipped,
            tx_offset=reading.tx_offset_db,
            freq=reading.frequency_khz,
            name=reading.channel_name or None,
            ts=reading.timestamp,
            rf_out=reading.rf_power_mw,
        )


def _streams(reading: Reading | None) -> bool:
    """An IEM transmitter (one that reports its RF output) that says it is sending."""
    return reading is not None and reading.rf_power_mw is not None and reading.tx_on is True
