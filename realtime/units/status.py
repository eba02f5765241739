"""Unit status as the original Micboard derives it (§2.7), with battery status split out.

Pure functions of what is known about a unit at a moment; `now` is always passed in, so
every rule can be checked table-style. The hysteresis that keeps tiles steady lives in
`realtime.units.hysteresis`; this module only says what a settled observation means.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

PEAK_HOLD = 10.0  # seconds AUDIO_PEAK stays after a clip
PREV_WINDOW = 30 * 60.0  # seconds a lost transmitter shows PREV_* before TX_COM_ERROR
AUDIO_LOW_DBFS = -60.0  # RMS below this, with the transmitter heard, counts as "audio low"

GOOD_LEVEL = 4  # bars 4-5 good, 3 replace, 0-2 critical (the original Micboard's scale)
REPLACE_LEVEL = 3


class Status(enum.StrEnum):
    GOOD = "GOOD"
    REPLACE = "REPLACE"
    CRITICAL = "CRITICAL"
    PREV_GOOD = "PREV_GOOD"
    PREV_REPLACE = "PREV_REPLACE"
    PREV_CRITICAL = "PREV_CRITICAL"
    UNASSIGNED = "UNASSIGNED"
    TX_COM_ERROR = "TX_COM_ERROR"
    RX_COM_ERROR = "RX_COM_ERROR"
    AUDIO_PEAK = "AUDIO_PEAK"


class BatteryStatus(enum.StrEnum):
    GOOD = "good"
    REPLACE = "replace"
    CRITICAL = "critical"
    OFF = "off"


_PREV = {
    BatteryStatus.GOOD: Status.PREV_GOOD,
    BatteryStatus.REPLACE: Status.PREV_REPLACE,
    BatteryStatus.CRITICAL: Status.PREV_CRITICAL,
}
_NOW = {
    BatteryStatus.GOOD: Status.GOOD,
    BatteryStatus.REPLACE: Status.REPLACE,
    BatteryStatus.CRITICAL: Status.CRITICAL,
}


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """What the tracker knows about a unit once hysteresis has settled the noisy parts.

    `level` is the battery level (0-5) of a transmitter heard now, None when none is heard;
    `last_level`/`last_heard_at` remember the most recent one heard. `streaming`: an IEM
    transmitter is sending; it has no battery, so no battery status either.
    """

    rx_reachable: bool
    level: int | None
    last_level: int | None = None
    last_heard_at: float | None = None
    last_peak_at: float | None = None
    streaming: bool = False


def battery_level(bars: int | None, percent: int | None) -> int | None:
    """Return a 0-5 level from bars, or from percent where a device reports only that."""
    if bars is not None:
        return max(0, min(5, bars))
    if percent is None:
        return None
    # Same thresholds as WirelessUnit.battery_low/critical: <=20% replace, <=10% critical.
    if percent > 60:
        return 5
    if percent > 20:
        return GOOD_LEVEL
    if percent > 10:
        return REPLACE_LEVEL
    return 1 if percent > 0 else 0


def battery_class(level: int) -> BatteryStatus:
    if level >= GOOD_LEVEL:
        return BatteryStatus.GOOD
    if level == REPLACE_LEVEL:
        return BatteryStatus.REPLACE
    return BatteryStatus.CRITICAL


def derive_battery_status(facts: UnitFacts) -> BatteryStatus:
    """Return the battery status of a transmitter heard now; `off` when none is heard."""
    if not facts.rx_reachable or facts.level is None:
        return BatteryStatus.OFF
    return battery_class(facts.level)


def remembered_battery(facts: UnitFacts, now: float) -> BatteryStatus | None:
    """Return the battery class shown now: current, or the last one within PREV_WINDOW."""
    if facts.level is not None:
        return battery_class(facts.level)
    if facts.last_level is None or facts.last_heard_at is None:
        return None
    if now - facts.last_heard_at >= PREV_WINDOW:
        return None
    return battery_class(facts.last_level)


def derive_status(facts: UnitFacts, now: float) -> Status:
    """Apply the original Micboard's rules, in its order of precedence."""
    if not facts.rx_reachable:
        return Status.RX_COM_ERROR
    if facts.last_peak_at is not None and now - facts.last_peak_at < PEAK_HOLD:
        return Status.AUDIO_PEAK
    if facts.level is not None:
        return _NOW[battery_class(facts.level)]
    if facts.streaming:
        return Status.UNASSIGNED  # the legend's UNKNOWN: on, with no battery to rate
    remembered = remembered_battery(facts, now)
    if remembered is None:
        return Status.TX_COM_ERROR
    return _PREV[remembered]


def alert_conditions(
    facts: UnitFacts,
    now: float,
    *,
    audio_low: bool,
    signal_lost: bool,
    pack_worn: bool = False,
) -> frozenset[str]:
    """Return the alertable conditions (Alert.Kind values) that hold for a unit now.

    Battery conditions follow the remembered level, so a pack that drops out keeps its
    battery alert; signal loss (`signal_lost`: unheard for its hold time) needs a
    transmitter heard earlier (a pack never switched on is not "lost"). `pack_worn`: the
    transmitter reports its pack's health below MICBOARD_PACK_HEALTH_MIN.
    """
    if not facts.rx_reachable:
        return frozenset({"device_offline"})
    conditions: set[str] = set()
    remembered = remembered_battery(facts, now)
    if remembered is BatteryStatus.REPLACE:
        conditions.add("battery_low")
    elif remembered is BatteryStatus.CRITICAL:
        conditions.add("battery_critical")
    if signal_lost and facts.last_heard_at is not None:
        conditions.add("signal_loss")
    if audio_low and facts.level is not None:
        conditions.add("audio_low")
    if pack_worn:
        conditions.add("pack_worn")
    return frozenset(conditions)


def is_audio_low(rms_dbfs: float | None) -> bool:
    return rms_dbfs is not None and rms_dbfs < AUDIO_LOW_DBFS
