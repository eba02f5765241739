"""The charger parser: a real SBC220 dump's frames decode to what a bay shows; junk never
raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime.protocols.shure_charger.parse import Bay, apply, decode_bay
from realtime.protocols.shure_tcp.parse import parse_frame

# A faulted bay as an open client quotes it verbatim from an SBC220 (FW 1.4.53).
FAULTED_BAY = [
    "REP 7 BATT_DETECTED YES",
    "REP 7 BATT_TIME_TO_FULL 65534",
    "REP 7 BATT_STATE ERROR",
    "REP 7 BATT_CHARGE 254",
    "REP 7 BATT_CYCLE 65534",
    "REP 7 BATT_TEMP_F 254",
    "REP 7 BATT_HEALTH 254",
    "REP 7 BATT_ERROR 007",
]


def _folded(bodies: list[str], bay: Bay) -> Bay:
    for body in bodies:
        frame = parse_frame(body)
        assert frame is not None
        changes = decode_bay(frame)
        if changes is not None:
            bay = apply(bay, changes)
    return bay


def test_a_faulted_pack_is_present_with_its_error_and_no_made_up_figures():
    bay = _folded(FAULTED_BAY, Bay(7))
    assert bay == Bay(7, present=True, state="ERROR", error="007")


def test_a_charging_pack_reads_every_figure():
    bay = _folded(
        [
            "REP 4 BATT_DETECTED YES",
            "REP 4 BATT_CHARGE 087",
            "REP 4 BATT_HEALTH 096",
            "REP 4 BATT_CYCLE 00123",
            "REP 4 BATT_TIME_TO_FULL 00042",
            "REP 4 BATT_TEMP_C 031",
            "REP 4 BATT_STATE CHARGING",
            "REP 4 BATT_ERROR 000",
        ],
        Bay(4),
    )
    assert bay == Bay(4, True, 87, 96, 123, 42, 31, "CHARGING", None)


def test_a_full_bay_has_no_time_to_full_rather_than_zero():
    assert _folded(["REP 1 BATT_TIME_TO_FULL 65529"], Bay(1)).minutes_to_full is None


def test_taking_the_pack_out_clears_its_figures_and_fault():
    bay = _folded([*FAULTED_BAY, "REP 7 BATT_DETECTED NO"], Bay(7))
    assert bay == Bay(7, present=False)


@pytest.mark.parametrize(
    "body",
    [
        "REP 1 BATT_CHARGE 1x0",
        "REP 1 BATT_HEALTH 150",
        "REP 1 BATT_DETECTED MAYBE",
        "REP 1 AUDIO_GAIN 030",
    ],
)
def test_it_skips_values_it_cannot_read(body):
    frame = parse_frame(body)
    assert frame is not None
    assert decode_bay(frame) is None


PARAMS = st.sampled_from(
    [
        "BATT_DETECTED",
        "BATT_CHARGE",
        "BATT_HEALTH",
        "BATT_CYCLE",
        "BATT_TIME_TO_FULL",
        "BATT_TEMP_C",
        "BATT_STATE",
        "BATT_ERROR",
        "BATT_TEMP_F",
    ]
)


@given(param=PARAMS, value=st.text(alphabet="0123456789YESNOABC ", min_size=1, max_size=6))
def test_any_value_of_a_bay_parameter_never_raises_and_percentages_stay_in_range(param, value):
    frame = parse_frame(f"REP 3 {param} {value}")
    if frame is None:
        return
    changes = decode_bay(frame)
    if changes is None:
        return
    bay = apply(Bay(3), changes)
    for percent in (bay.charge_percent, bay.health_percent):
        assert percent is None or 0 <= percent <= 100
    assert bay.minutes_to_full is None or bay.minutes_to_full <= 65528


@given(raw=st.integers(min_value=0, max_value=65535))
def test_time_to_full_is_minutes_or_unknown_never_a_marker(raw):
    frame = parse_frame(f"REP 2 BATT_TIME_TO_FULL {raw:05d}")
    assert frame is not None
    changes = decode_bay(frame)
    assert changes == {"minutes_to_full": raw if raw <= 65528 else None}
