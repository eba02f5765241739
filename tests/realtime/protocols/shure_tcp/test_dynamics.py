"""The simulator's physics on their own: battery drain, RF, speech and the fault clock."""

from __future__ import annotations

import itertools
import random

import pytest

from realtime.simulation.base import FaultRates
from realtime.simulation.shure_tcp.dynamics import (
    Battery,
    FaultClock,
    Rf,
    Speech,
    bars_for_percent,
    fresh_battery,
)


def test_a_lithium_pack_loses_about_one_percent_every_seven_minutes():
    battery = Battery(percent=100.0, minutes=660.0)
    battery.drain(7.0)
    assert battery.percent == pytest.approx(98.9, abs=0.1)
    assert battery.minutes == pytest.approx(653.0)


def test_bars_step_every_twenty_percent():
    assert [bars_for_percent(p) for p in (100, 81, 80, 61, 41, 21, 20, 1, 0)] == [
        5,
        5,
        4,
        4,
        3,
        2,
        1,
        1,
        0,
    ]


def test_runtime_is_calculating_for_the_first_minutes_after_power_on():
    battery = fresh_battery(random.Random(1))
    battery.drain(2.0)
    assert battery.calculating_minutes > 0
    battery.drain(1.5)
    assert battery.calculating_minutes == 0


def test_forcing_bars_alone_picks_a_charge_that_shows_them():
    battery = Battery()
    battery.force(bars=2)
    assert (battery.bars, battery.percent) == (2, 30.0)
    with pytest.raises(ValueError, match="bars"):
        battery.force(bars=5, percent=10)


def test_rf_jitters_dips_and_flips_antennas():
    rng = random.Random(3)
    rf = Rf(base_dbm=-55.0, level_dbm=-55.0)
    steps = [rf.step(t / 10, rng) for t in range(1200)]  # two minutes at 10 Hz
    active = [max(a, b) for a, b in steps]
    antennas = [a >= b for a, b in steps]
    flips = sum(x != y for x, y in itertools.pairwise(antennas))
    assert min(active) < -65.0  # body-shadow dips of 10-20 dB
    assert -62.0 < sum(active) / len(active) < -50.0
    assert flips >= 3


def test_speech_is_bursty_within_the_reference_levels():
    rng = random.Random(4)
    speech = Speech()
    levels = [speech.step(t / 10, rng) for t in range(3000)]
    talking = [rms for rms, _, _ in levels if rms >= -40.0]
    silent = [rms for rms, _, _ in levels if rms < -40.0]
    assert talking
    assert silent
    assert max(talking) <= -15.0
    assert max(silent) <= -60.0
    assert all(peak >= rms for rms, peak, _ in levels)
    assert any(clipped and peak == 0.0 for _, peak, clipped in levels)


def test_the_fault_clock_follows_its_rates_and_its_seed():
    rates = FaultRates(reboot=3600.0)  # one a second on average
    one, twin = FaultClock(rates, random.Random(5)), FaultClock(rates, random.Random(5))
    first = [one.due("reboot", t) for t in range(600)]
    assert [twin.due("reboot", t) for t in range(600)] == first
    assert 200 < sum(first) < 600
    assert not FaultClock(rates, random.Random(5)).due("split_frame", 10_000.0)
