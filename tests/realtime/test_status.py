"""Status derivation (original Micboard §2.7, battery split out) and hysteresis, table-style."""

from __future__ import annotations

import pytest

from realtime.protocols.base import Reading
from realtime.units.hysteresis import Hysteresis
from realtime.units.state import (
    BATTERY_HOLD,
    RESTATE_EVERY,
    RF_LOSS_HOLD,
    SignalLossHolds,
    UnitTracker,
    level_hold,
)
from realtime.units.status import (
    PEAK_HOLD,
    PREV_WINDOW,
    UnitFacts,
    alert_conditions,
    battery_level,
    derive_battery_status,
    derive_status,
)

NOW = 10_000.0
HOLDS = SignalLossHolds(lost=3.0, back=30.0)


@pytest.mark.parametrize(
    ("facts", "status", "battery"),
    [
        (UnitFacts(rx_reachable=False, level=5), "RX_COM_ERROR", "off"),
        (UnitFacts(rx_reachable=True, level=5, last_peak_at=NOW - 1), "AUDIO_PEAK", "good"),
        (UnitFacts(rx_reachable=True, level=2, last_peak_at=NOW - 9.9), "AUDIO_PEAK", "critical"),
        (UnitFacts(rx_reachable=True, level=4, last_peak_at=NOW - PEAK_HOLD), "GOOD", "good"),
        (UnitFacts(rx_reachable=True, level=5), "GOOD", "good"),
        (UnitFacts(rx_reachable=True, level=4), "GOOD", "good"),
        (UnitFacts(rx_reachable=True, level=3), "REPLACE", "replace"),
        (UnitFacts(rx_reachable=True, level=2), "CRITICAL", "critical"),
        (UnitFacts(rx_reachable=True, level=0), "CRITICAL", "critical"),
        (UnitFacts(True, None, last_level=5, last_heard_at=NOW - 60), "PREV_GOOD", "off"),
        (UnitFacts(True, None, last_level=3, last_heard_at=NOW - 60), "PREV_REPLACE", "off"),
        (UnitFacts(True, None, last_level=1, last_heard_at=NOW - 60), "PREV_CRITICAL", "off"),
        (
            UnitFacts(True, None, last_level=5, last_heard_at=NOW - PREV_WINDOW),
            "TX_COM_ERROR",
            "off",
        ),
        (UnitFacts(rx_reachable=True, level=None), "TX_COM_ERROR", "off"),
        (UnitFacts(rx_reachable=True, level=None, streaming=True), "UNASSIGNED", "off"),
        (UnitFacts(False, None, last_level=5, last_heard_at=NOW - 1), "RX_COM_ERROR", "off"),
    ],
)
def test_status_follows_the_original_rules(facts, status, battery):
    assert derive_status(facts, NOW) == status
    assert derive_battery_status(facts) == battery


@pytest.mark.parametrize(
    ("bars", "percent", "level"),
    [
        (5, None, 5),
        (0, 80, 0),  # bars win over percent
        (None, 100, 5),
        (None, 50, 4),
        (None, 21, 4),
        (None, 20, 3),
        (None, 11, 3),
        (None, 10, 1),
        (None, 0, 0),
        (None, None, None),
    ],
)
def test_battery_level_comes_from_bars_or_percent(bars, percent, level):
    assert battery_level(bars, percent) == level


@pytest.mark.parametrize(
    ("facts", "audio_low", "conditions"),
    [
        (UnitFacts(rx_reachable=True, level=5), False, set()),
        (UnitFacts(rx_reachable=True, level=3), False, {"battery_low"}),
        (UnitFacts(rx_reachable=True, level=1), False, {"battery_critical"}),
        (UnitFacts(rx_reachable=True, level=4), True, {"audio_low"}),
        (UnitFacts(rx_reachable=False, level=1), True, {"device_offline"}),
        (
            UnitFacts(True, None, last_level=3, last_heard_at=NOW - 5),
            False,
            {"battery_low", "signal_loss"},
        ),
        (
            UnitFacts(True, None, last_level=5, last_heard_at=NOW - PREV_WINDOW),
            False,
            {"signal_loss"},
        ),
        (UnitFacts(rx_reachable=True, level=None), True, set()),  # never heard: not "lost"
    ],
)
def test_alert_conditions(facts, audio_low, conditions):
    lost = facts.level is None
    assert alert_conditions(facts, NOW, audio_low=audio_low, signal_lost=lost) == conditions


@pytest.mark.parametrize(
    ("observations", "accepted"),
    [
        # (value, time) pairs from an accepted 4, with BATTERY_HOLD = 0.3 s for bar changes.
        ([(3, 0.0)], 4),
        ([(3, 0.0), (3, 0.29)], 4),
        ([(3, 0.0), (3, 0.3)], 3),
        ([(3, 0.0), (4, 0.1), (3, 0.2), (3, 0.45)], 4),  # a flicker restarts the hold
        ([(3, 0.0), (4, 0.1), (3, 0.2), (3, 0.5)], 3),
        ([(3, 0.0), (2, 0.2), (2, 0.49)], 4),  # a different candidate restarts it too
        ([(None, 0.0), (None, RF_LOSS_HOLD - 0.01)], 4),  # RF loss waits longer
        ([(None, 0.0), (None, RF_LOSS_HOLD)], None),
    ],
)
def test_hysteresis_holds_a_new_value_before_accepting_it(observations, accepted):
    value: Hysteresis[int | None] = Hysteresis(None, level_hold)
    value.observe(4, -10.0)
    for observed, at in observations:
        value.observe(observed, at)
    assert value.accepted == accepted


def test_hysteresis_accepts_the_first_value_and_a_returning_transmitter_at_once():
    value: Hysteresis[int | None] = Hysteresis(None, level_hold)
    assert value.observe(5, 0.0)
    value.observe(None, 1.0)
    assert value.settle(1.0 + RF_LOSS_HOLD)
    assert value.observe(2, 5.0)
    assert value.accepted == 2


def test_hysteresis_settles_on_a_tick_without_new_readings():
    value: Hysteresis[int | None] = Hysteresis(None, level_hold)
    value.observe(5, 0.0)
    value.observe(3, 1.0)
    assert value.pending
    assert not value.settle(1.0 + BATTERY_HOLD / 2)
    assert value.settle(1.0 + BATTERY_HOLD)
    assert not value.pending


def reading(**fields) -> Reading:
    return Reading(channel=1, timestamp=fields.pop("at", 0.0), **fields)


def test_tracker_shows_a_flickering_bar_but_raises_no_alert_for_it():
    tracker = UnitTracker(7, signal_loss=HOLDS)
    bars = []
    for step in range(20):
        at = step * 0.1
        tracker.observe(reading(battery_bars=3 if step % 2 else 4, at=at), at)
        bars.append(tracker.state.bars)
        assert not tracker.take_conditions()
    assert bars == [4, 3] * 10


def test_tracker_shows_a_battery_drop_at_once_and_alerts_once_it_holds():
    tracker = UnitTracker(7, signal_loss=HOLDS)
    assert tracker.observe(reading(battery_bars=5), 0.0)
    assert tracker.take_conditions() == frozenset()
    assert tracker.observe(reading(battery_bars=2, at=1.0), 1.0)
    assert (tracker.state.status, tracker.state.battery_status, tracker.state.bars) == (
        "CRITICAL",
        "critical",
        2,
    )
    assert tracker.take_conditions() is None
    assert tracker.pending
    assert not tracker.tick(1.0 + BATTERY_HOLD)  # the tile already shows it
    assert tracker.take_conditions() == {"battery_critical"}
    assert tracker.take_conditions() is None  # reported once, not per reading


def test_tracker_restates_an_unchanged_state_every_few_seconds():
    """A quiet unit is published again with a new time, so walls can tell it from a
    stalled poller; readings alone do not restate it, the poller's ticks do."""
    tracker = UnitTracker(7, signal_loss=HOLDS)
    tracker.observe(reading(battery_bars=5, at=0.0), 0.0)
    assert not tracker.observe(reading(battery_bars=5, at=RESTATE_EVERY), RESTATE_EVERY)
    assert not tracker.tick(RESTATE_EVERY - 0.1)
    assert tracker.tick(RESTATE_EVERY)
    assert tracker.state.ts == RESTATE_EVERY
    assert not tracker.tick(RESTATE_EVERY + 1.0)


def test_tracker_ignores_a_reading_that_only_changes_the_time():
    tracker = UnitTracker(7, signal_loss=HOLDS)
    assert tracker.observe(reading(battery_bars=5, rf_a_dbm=-60.0, at=0.0), 0.0)
    assert not tracker.observe(reading(battery_bars=5, rf_a_dbm=-60.0, at=0.1), 0.1)
    assert tracker.observe(reading(battery_bars=5, rf_a_dbm=-61.0, at=0.2), 0.2)
    assert tracker.state.ts == 0.2


def test_tracker_shows_a_lost_transmitter_at_once_and_alerts_after_the_loss_holds():
    tracker = UnitTracker(7, signal_loss=HOLDS)
    tracker.observe(reading(battery_bars=3, tx_on=True), 0.0)
    assert tracker.take_conditions() == {"battery_low"}
    assert tracker.observe(reading(battery_bars=None, tx_on=False, at=1.0), 1.0)
    assert (tracker.state.status, tracker.state.tx_on, tracker.state.battery_status) == (
        "PREV_REPLACE",
        False,
        "off",
    )
    assert tracker.take_conditions() is None  # the alerts wait for their holds
    tracker.tick(1.0 + RF_LOSS_HOLD)
    assert tracker.take_conditions() is None  # still "battery low": the pack's last level
    tracker.tick(1.0 + HOLDS.lost)
    assert tracker.take_conditions() == {"battery_low", "signal_loss"}


def test_tracker_marks_a_clip_as_audio_peak_for_ten_seconds():
    tracker = UnitTracker(7, signal_loss=HOLDS)
    tracker.observe(reading(battery_bars=5, audio_clipped=True, at=0.0), 0.0)
    assert tracker.state.status == "AUDIO_PEAK"
    tracker.tick(PEAK_HOLD - 0.1)
    assert tracker.state.status == "AUDIO_PEAK"
    assert tracker.tick(PEAK_HOLD)
    assert tracker.state.status == "GOOD"


def test_tracker_shows_a_sending_iem_as_on_with_unknown_status_and_no_alert():
    tracker = UnitTracker(7, signal_loss=HOLDS)
    assert tracker.observe(reading(tx_on=True, rf_power_mw=50, audio_rms_dbfs=-18.0), 0.0)
    state = tracker.state
    assert (state.status, state.tx_on, state.rf_out, state.bars) == ("UNASSIGNED", True, 50, None)
    tracker.observe(reading(tx_on=False, rf_power_mw=50, at=1.0), 1.0)  # RF muted
    assert (tracker.state.status, tracker.state.tx_on) == ("TX_COM_ERROR", False)
    tracker.tick(60.0)
    assert not tracker.conditions  # an IEM never "loses" a pack it does not have


def test_tracker_reports_an_unreachable_receiver_at_once():
    tracker = UnitTracker(7, signal_loss=HOLDS)
    tracker.observe(reading(battery_bars=5), 0.0)
    tracker.take_conditions()
    assert tracker.observe(reading(rx_reachable=False, at=0.5), 0.5)
    assert (tracker.state.status, tracker.state.online, tracker.state.tx_on) == (
        "RX_COM_ERROR",
        False,
        None,
    )
    assert tracker.take_conditions() == {"device_offline"}


def test_a_transmitter_dropping_in_and_out_raises_signal_loss_once_and_keeps_it():
    """A pack at its last bar drops out for 5 s every 20 s: the tile shows each drop,
    the alert is raised once and clears only once the pack stays heard."""
    tracker = UnitTracker(7, signal_loss=HOLDS)
    changes, lost = [], False
    tracker.observe(reading(battery_bars=0), 0.0)
    for second in range(1, 121):
        heard = second % 20 >= 5 or second > 80  # out at 1-4, 20-24, ... 80; then back
        bars = 0 if heard else None
        tracker.observe(reading(battery_bars=bars, tx_on=heard, at=second), float(second))
        assert tracker.state.tx_on is heard
        tracker.tick(second + 0.5)
        if ("signal_loss" in tracker.conditions) != lost:
            lost = not lost
            changes.append((second, lost))
    assert changes == [(4, True), (111, False)]
