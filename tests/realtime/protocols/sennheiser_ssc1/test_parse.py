"""The SSCv1 parser: the vendor's EM 6000 examples decode to what a tile shows; junk never
raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime.protocols.sennheiser_ssc1.parse import EWDX, af_dbfs, decode_message, rf_dbm

# TI 1109 §8.100's example: channel 1 has no link, channel 2 is live.
DOCUMENTED_METERS = b'{"mm":[[0,0,0,0,0,0,0,0,0],[83,0,53,0,1,1,128,165,0]]}'


def test_the_documented_meters_decode_to_dbm_dbfs_and_link_quality():
    message = decode_message(DOCUMENTED_METERS)
    assert message is not None
    assert message.meters[2] == {
        "rf_a_dbm": -86.0,
        "rf_b_dbm": -101.0,
        "antenna": "A",
        "rf_quality": 50,
        "audio_rms_dbfs": -45.0,
        "audio_clipped": False,
    }
    assert message.channels == {}


@pytest.mark.parametrize(
    ("battery", "changes"),
    [
        (["70%", "5:12"], {"battery_percent": 70, "battery_bars": 4, "battery_minutes": 312}),
        (["low", "-:--"], {"battery_percent": 0, "battery_bars": 1, "battery_minutes": None}),
        (["100%", "7:00"], {"battery_percent": 100, "battery_bars": 5, "battery_minutes": 420}),
    ],
)
def test_the_documented_battery_states_decode(battery, changes):
    message = decode_message(json.dumps({"rx1": {"skx": {"battery": battery}}}).encode())
    assert message is not None
    assert message.channels[1] == {"tx_on": True, **changes}


def test_no_transmitter_is_an_empty_battery_or_nolink_and_clears_live_values():
    for body in ({"rx2": {"skx": {"battery": []}}}, {"rx2": {"active_warnings": ["NoLink"]}}):
        message = decode_message(json.dumps(body).encode())
        assert message is not None
        assert message.channels[2]["tx_on"] is False
        assert message.channels[2]["rf_a_dbm"] is None


def test_names_carriers_warnings_and_identity_decode():
    body = {
        "rx1": {"name": "LEAD  VOX", "carrier": 606200, "active_warnings": ["AFPeak"]},
        "device": {"name": "EM6000-1", "identity": {"product": "EM6000-Dante", "version": "2.6"}},
    }
    message = decode_message(json.dumps(body).encode())
    assert message is not None
    assert message.channels[1] == {
        "channel_name": "LEAD VOX",
        "frequency_khz": 606200,
        "tx_on": True,
        "audio_clipped": True,
    }
    assert message.identity == {"product": "EM6000-Dante", "version": "2.6"}
    assert message.device_name == "EM6000-1"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"mm": [[1, 2, 3]]}',
        b'{"mm": [[300, 0, 0, 0, 0, 0, 0, 0, 0]]}',
        b'{"rx1": {"skx": {"battery": ["50%", "1:00"]}}}',
        b'{"rx1": {"carrier": "fast"}}',
        b'{"rx1": {"active_warnings": "NoLink"}}',
    ],
)
def test_broken_leaves_are_skipped(body):
    message = decode_message(body)
    assert message is None or (not message.channels and not message.meters)


def test_scales_match_the_guide():
    assert rf_dbm(255) == 0.0
    assert rf_dbm(0) == -127.5
    assert af_dbfs(255) == 0.0
    assert af_dbfs(1) == -127.0


BYTE = st.integers(min_value=0, max_value=255)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=9) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(data=st.binary(max_size=300))
def test_random_bytes_never_raise(data):
    decode_message(data)


@given(
    tree=st.dictionaries(
        st.sampled_from(["mm", "rx1", "rx2", "device", "osc", "rx3"]), JSONISH, max_size=5
    )
)
def test_random_trees_of_the_right_names_never_raise(tree):
    decode_message(json.dumps(tree).encode())


@given(row=st.lists(BYTE, min_size=9, max_size=9))
def test_every_valid_meter_row_decodes_within_the_scales(row):
    message = decode_message(json.dumps({"mm": [row]}).encode())
    assert message is not None
    meters = message.meters[1]
    assert -127.5 <= meters["rf_a_dbm"] <= 0.0  # type: ignore[operator]
    assert -128.0 <= meters["audio_rms_dbfs"] <= 0.0  # type: ignore[operator]
    assert 0 <= meters["rf_quality"] <= 100  # type: ignore[operator]


EWDX_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-200, 200), st.text(max_size=5))


@given(
    tree=st.fixed_dictionaries(
        {
            "m": st.dictionaries(
                st.sampled_from(["rx1", "rx2", "rx5"]),
                st.dictionaries(st.sampled_from(["rssi", "rsqi", "divi", "af"]), EWDX_LEAF),
            ),
            "mates": st.dictionaries(
                st.sampled_from(["tx1", "tx2", "tx5"]),
                st.fixed_dictionaries(
                    {
                        "battery": st.dictionaries(
                            st.sampled_from(["gauge", "lifetime", "type"]), EWDX_LEAF
                        )
                    }
                ),
            ),
            "osc": JSONISH,
        }
    )
)
def test_ewdx_legacy_trees_never_raise_and_stay_within_the_device_and_scales(tree):
    message = decode_message(json.dumps(tree).encode(), 2, EWDX)
    assert message is not None
    assert set(message.meters) | set(message.channels) <= {1, 2}
    for meters in message.meters.values():
        assert 0 <= meters.get("rf_quality", 0) <= 100  # type: ignore[operator]
        assert meters.get("antenna") in (None, "A", "B")
    for state in message.channels.values():
        percent = state.get("battery_percent")
        assert percent is None or 0 <= percent <= 100  # type: ignore[operator]


def test_an_ewdx_424_for_a_battery_reads_as_no_transmitter():
    error = {"osc": {"error": [{"mates": {"tx2": {"battery": [424, {"desc": "absent"}]}}}]}}
    message = decode_message(json.dumps(error).encode(), 2, EWDX)
    assert message is not None
    assert message.channels[2]["tx_on"] is False
    assert message.channels[2]["battery_percent"] is None
