"""The ew G3/G4 parser: documented examples decode to what a tile shows; junk never raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime.protocols.sennheiser_ew.parse import (
    af_dbfs,
    decode_datagram,
    decode_line,
    rf_dbm,
)

# The EM example of cyclic attributes in TI 1254 p. 9, as one datagram.
DOCUMENTED_PUSH = (
    b"RF1 25 65 1\rRF2 28 78 0\rStates 3 2\rRF 50 1 1\rAF 40 65 3\rBat 70\r"
    b"Msg Low_RF_Signal Low_Battery\rConfig 234\r"
)


def _merged(datagram: bytes) -> dict[str, object]:
    merged: dict[str, object] = {}
    for line in decode_datagram(datagram):
        merged.update(line.changes)
    return merged


def test_the_documented_push_gives_rf_audio_battery_and_tx_mute():
    merged = _merged(DOCUMENTED_PUSH)
    assert merged == {
        "rf_a_dbm": -81.0,  # 65 % of 40 dBµV = 26 dBµV
        "rf_b_dbm": -75.8,
        "antenna": "A",
        "tx_on": True,
        "tx_muted": True,  # mute bits 3: bit 1 is TX-Mute
        "audio_rms_dbfs": -30.0,
        "audio_peak_dbfs": -17.5,
        "battery_percent": 70,
        "battery_bars": 4,
        "audio_clipped": False,
    }
    assert decode_datagram(DOCUMENTED_PUSH)[-1].config_index == 234


def test_rf_mute_means_no_transmitter_and_clears_its_live_values():
    merged = _merged(b"RF1 2 3 1\rRF2 1 2 0\rRF 3 1 0\rAF 37 42 13\rBat ?\rMsg RF_Mute\r")
    assert merged["tx_on"] is False
    assert merged["rf_a_dbm"] is None
    assert merged["audio_rms_dbfs"] is None
    assert merged["battery_percent"] is None


@pytest.mark.parametrize(
    ("line", "changes"),
    [
        ("Name LEAD VOX", {"channel_name": "LEAD VOX"}),
        ("Frequency 822000 2 10", {"frequency_khz": 822000}),
        ("Frequency 821000 0 0", {"frequency_khz": 821000}),
        ("Bat 0", {"battery_percent": 0, "battery_bars": 1}),
        ("Bat 100", {"battery_percent": 100, "battery_bars": 5}),
        ("Msg AF_Peak Low_Battery", {"audio_clipped": True}),
        ("Msg OK", {"audio_clipped": False}),
        (
            "AF 100 100 0",
            {"tx_on": True, "tx_muted": False, "audio_rms_dbfs": 0.0, "audio_peak_dbfs": 0.0},
        ),
        ("Push 60 100 7", {}),
        ("Mute 1", {}),
    ],
)
def test_it_decodes_each_documented_line(line, changes):
    decoded = decode_line(line)
    assert decoded is not None
    assert decoded.changes == changes


@pytest.mark.parametrize(
    "line",
    [
        "1020: Value out of range [ Frequency 56 2 9 ]",
        "Bat 50",
        "AF 40 65",
        "RF 50 3 1",
        "RF1 x 2 1",
        "Config 1000",
        "Frequency abc",
        "Nonsense 1 2 3",
    ],
)
def test_it_skips_error_replies_and_broken_values(line):
    assert decode_line(line) is None


def test_levels_scale_as_documented():
    assert rf_dbm(0) == -107.0
    assert rf_dbm(100) == -67.0
    assert af_dbfs(0) == -50.0
    assert af_dbfs(100) == 0.0
    assert af_dbfs(140) == 0.0


PERCENT = st.integers(min_value=0, max_value=999)


@given(data=st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    for line in decode_datagram(data):
        assert line.keyword


@given(text=st.text(max_size=200))
def test_random_text_never_raises(text):
    decode_datagram(text.encode("utf-8", errors="replace"))


@given(level=PERCENT, hold=PERCENT, bits=st.integers(min_value=0, max_value=15))
def test_audio_is_never_above_full_scale_and_rf_mute_always_means_off(level, hold, bits):
    decoded = decode_line(f"AF {level} {hold} {bits}")
    assert decoded is not None
    if bits & 0b100:
        assert decoded.changes["tx_on"] is False
    else:
        rms, peak = decoded.changes["audio_rms_dbfs"], decoded.changes["audio_peak_dbfs"]
        assert -50.0 <= rms <= peak <= 0.0  # type: ignore[operator]
        assert decoded.changes["tx_muted"] is bool(bits & 0b10)


@given(low=PERCENT, high=PERCENT, antenna=st.sampled_from(["RF1", "RF2"]))
def test_antenna_levels_rise_with_the_percentage(low, high, antenna):
    decoded = decode_line(f"{antenna} {low} {high} 1")
    assert decoded is not None
    (value,) = decoded.changes.values()
    assert value == rf_dbm(high)
    assert value >= -107.0


@given(lines=st.lists(st.sampled_from(DOCUMENTED_PUSH.split(b"\r")[:-1]), max_size=12))
def test_any_order_of_documented_lines_decodes_every_line(lines):
    assert len(decode_datagram(b"\r".join(lines))) == len(lines)
