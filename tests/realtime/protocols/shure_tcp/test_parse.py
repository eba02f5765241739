"""The pure side of Shure TCP 2202: framing, every parameter and encoding, merging."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.protocols.base import Reading
from realtime.protocols.shure_tcp.families import (
    AXIENT,
    PSM1000,
    SLXD,
    ULXD,
    Family,
    spec_for_model,
)
from realtime.protocols.shure_tcp.fields import psm_level_dbfs
from realtime.protocols.shure_tcp.parse import (
    MAX_FRAME_CHARS,
    ChannelUpdate,
    DeviceUpdate,
    FrameSplitter,
    apply_update,
    decode_body,
    parse_frame,
)
from realtime.protocols.shure_tcp.probe import DiscoveryError, ProbeReplies, identify

FAMILIES = (ULXD, AXIENT, SLXD, PSM1000)
TX_OFF: dict[str, object] = {
    "tx_on": False,
    "tx_model": None,
    "battery_bars": None,
    "battery_minutes": None,
    "rf_a_dbm": None,
    "audio_rms_dbfs": None,
}

# (family, frame body, the Reading fields it must set). `{}` = known but not shown.
PARAMETERS: list[tuple[Family, str, dict[str, object]]] = [
    # ULX-D / QLX-D
    (ULXD, "REP 1 BATT_BARS 004", {"battery_bars": 4}),
    (ULXD, "REP 1 BATT_BARS 000", {"battery_bars": 0}),
    (ULXD, "REP 1 BATT_BARS 255", {"battery_bars": None}),
    (ULXD, "REP 1 BATT_RUN_TIME 00312", {"battery_minutes": 312}),
    (ULXD, "REP 1 BATT_RUN_TIME 65532", {"battery_minutes": 65532}),
    (ULXD, "REP 1 BATT_RUN_TIME 65533", {"battery_minutes": None}),
    (ULXD, "REP 1 BATT_RUN_TIME 65534", {"battery_minutes": None}),
    (ULXD, "REP 1 BATT_RUN_TIME 65535", {"battery_minutes": None}),
    (ULXD, "REP 1 BATT_CHARGE 087", {"battery_percent": 87}),
    (ULXD, "REP 1 BATT_CHARGE 255", {"battery_percent": None}),
    # 252 off, 253 not rechargeable, 254 unknown: no percent, not garbage to skip.
    *[(ULXD, f"REP 1 BATT_CHARGE {raw}", {"battery_percent": None}) for raw in (252, 253, 254)],
    (ULXD, "REP 1 BATT_TYPE LION", {"battery_type": "LION"}),
    (ULXD, "REP 1 BATT_TYPE ALKA", {"battery_type": "ALKA"}),
    (ULXD, "REP 1 BATT_TYPE UNKN", {"battery_type": None}),
    (ULXD, "REP 1 TX_TYPE ULXD2", {"tx_on": True, "tx_model": "ULXD2"}),
    (ULXD, "REP 1 TX_TYPE QLXD1", {"tx_on": True, "tx_model": "QLXD1"}),
    (ULXD, "REP 1 TX_TYPE UNKN", TX_OFF),
    (ULXD, "REP 1 TX_MUTE_STATUS ON", {"tx_muted": True}),
    (ULXD, "REP 1 TX_MUTE_STATUS OFF", {"tx_muted": False}),
    (ULXD, "REP 1 TX_MUTE_STATUS UNKN", {"tx_muted": None}),
    (ULXD, "REP 1 TX_OFFSET 021", {"tx_offset_db": 21.0}),
    (ULXD, "REP 1 TX_OFFSET 255", {"tx_offset_db": None}),
    (ULXD, "REP 1 FREQUENCY 578350", {"frequency_khz": 578350}),
    (ULXD, "REP 1 FREQUENCY 000000", {"frequency_khz": None}),
    (ULXD, "REP 2 CHAN_NAME {HH02    }", {"channel_name": "HH02"}),
    (ULXD, "REP 2 CHAN_NAME {Lead Vox}", {"channel_name": "Lead Vox"}),
    (ULXD, "REP 1 RF_INT_DET CRITICAL", {"interference": True}),
    (ULXD, "REP 1 RF_INT_DET NONE", {"interference": False}),
    # Health and cycles recognise a pack (there is no serial): 255 / 65535 are unknown.
    (ULXD, "REP 1 BATT_HEALTH 095", {"battery_health": 95}),
    (ULXD, "REP 1 BATT_HEALTH 255", {"battery_health": None}),
    (ULXD, "REP 1 BATT_CYCLE 00121", {"battery_cycles": 121}),
    (ULXD, "REP 1 BATT_CYCLE 65535", {"battery_cycles": None}),
    *[
        (ULXD, f"REP 1 {body}", {})
        for body in (
            "BATT_TEMP_C 068",
            "BATT_TEMP_F 255",
            "TX_MUTE_BUTTON_STATUS PRESSED",
            "TX_RF_PWR HIGH",
            "TX_PWR_LOCK ON",
            "TX_MENU_LOCK UNKN",
            "TX_POWER_SOURCE EXTERNAL",
            "AUDIO_MUTE ON",
            "AUDIO_GAIN 030",
            "GROUP_CHAN --,--",
            "ENCRYPTION_WARNING OFF",
            "METER_RATE 00100",
            "RX_RF_LVL 080",
            "AUDIO_LVL 030",
            "RF_ANTENNA AX",
        )
    ],
    # Axient Digital
    (AXIENT, "REP 1 TX_BATT_BARS 003", {"battery_bars": 3}),
    (AXIENT, "REP 1 TX_BATT_BARS 255", {"battery_bars": None}),
    (AXIENT, "REP 1 TX_BATT_MINS 00420", {"battery_minutes": 420}),
    (AXIENT, "REP 1 TX_BATT_MINS 65534", {"battery_minutes": None}),
    (AXIENT, "REP 1 TX_BATT_MINS 65535", {"battery_minutes": None}),
    (AXIENT, "REP 1 TX_BATT_CHARGE_PERCENT 100", {"battery_percent": 100}),
    (AXIENT, "REP 1 TX_BATT_CHARGE_PERCENT 255", {"battery_percent": None}),
    (AXIENT, "REP 1 TX_BATT_CHARGE_PERCENT 253", {"battery_percent": None}),
    (AXIENT, "REP 1 TX_BATT_TYPE NIMH", {"battery_type": "NIMH"}),
    (AXIENT, "REP 1 TX_MODEL ADX2FD", {"tx_on": True, "tx_model": "ADX2FD"}),
    (AXIENT, "REP 1 TX_MODEL UNKNOWN", TX_OFF),
    (AXIENT, "REP 1 TX_MUTE_MODE_STATUS ON", {"tx_muted": False}),
    (AXIENT, "REP 1 TX_MUTE_MODE_STATUS MUTE", {"tx_muted": True}),
    (AXIENT, "REP 1 TX_MUTE_MODE_STATUS UNKNOWN", {"tx_muted": None}),
    (AXIENT, "REP 1 TX_OFFSET 000", {"tx_offset_db": -12.0}),
    (AXIENT, "REP 1 TX_OFFSET 012", {"tx_offset_db": 0.0}),
    (AXIENT, "REP 1 TX_OFFSET 032", {"tx_offset_db": 20.0}),
    (AXIENT, "REP 1 TX_OFFSET 255", {"tx_offset_db": None}),
    (AXIENT, "REP 1 FREQUENCY 0594075", {"frequency_khz": 594075}),
    (AXIENT, "REP 3 CHAN_NAME {Pastor" + " " * 25 + "}", {"channel_name": "Pastor"}),
    (AXIENT, "REP 1 INTERFERENCE_STATUS DETECTED", {"interference": True}),
    (AXIENT, "REP 1 INTERFERENCE_STATUS NONE", {"interference": False}),
    (AXIENT, "REP 1 CHAN_QUALITY 004", {"rf_quality": 80}),
    (AXIENT, "REP 1 CHAN_QUALITY 255", {"rf_quality": None}),
    (AXIENT, "REP 1 RSSI 1 086", {"rf_a_dbm": -34.0}),
    (AXIENT, "REP 1 RSSI 2 012", {"rf_b_dbm": -108.0}),
    (AXIENT, "REP 1 RSSI 3 050", {}),
    (AXIENT, "REP 1 AUDIO_LEVEL_RMS 102", {"audio_rms_dbfs": -18.0}),
    (AXIENT, "REP 1 AUDIO_LEVEL_PEAK 114", {"audio_peak_dbfs": -6.0}),
    (AXIENT, "REP 1 ANTENNA_STATUS BX", {"antenna": "A"}),
    (AXIENT, "REP 1 ANTENNA_STATUS XR", {"antenna": "B"}),
    (AXIENT, "REP 1 ANTENNA_STATUS XX", {"antenna": None}),
    (AXIENT, "REP 1 TX_BATT_HEALTH_PERCENT 097", {"battery_health": 97}),
    (AXIENT, "REP 1 TX_BATT_CYCLE_COUNT 00042", {"battery_cycles": 42}),
    *[
        (AXIENT, f"REP 1 {body}", {})
        for body in (
            "TX_BATT_TEMP_C 255",
            "TX_BATT_TEMP_F 100",
            "TX_TALK_SWITCH PRESSED",
            "TX_POWER_LEVEL 010",
            "TX_LOCK ALL",
            "AUDIO_MUTE OFF",
            "AUDIO_GAIN 018",
            "GROUP_CHANNEL 01,05",
            "ENCRYPTION_STATUS ERROR",
            "SLOT_STATUS 8 LINKED.INACTIVE",
            "SLOT_BATT_BARS 3 004",
            "SLOT_TX_MODEL 1 AD2",
            "SLOT_RF_OUTPUT 2 RF_MUTE",
        )
    ],
    # SLX-D / SLX-D+
    (SLXD, "REP 1 TX_BATT_BARS 002", {"battery_bars": 2}),
    (SLXD, "REP 1 TX_BATT_MINS 00095", {"battery_minutes": 95}),
    (SLXD, "REP 1 TX_BATT_MINS 65533", {"battery_minutes": None}),
    (SLXD, "REP 1 LINK_TX_BATT_MINS 1 00200", {"battery_minutes": 200}),
    (SLXD, "REP 1 TX_TYPE SLXD2", {"tx_on": True, "tx_model": "SLXD2"}),
    (SLXD, "REP 1 TX_MODEL SLXD1", {"tx_on": True, "tx_model": "SLXD1"}),
    (SLXD, "REP 1 LINK_TX_MODEL 1 SLXD3+", {"tx_model": "SLXD3+"}),
    (SLXD, "REP 1 LINK_TX_MODEL 1 UNKNOWN", TX_OFF),
    (SLXD, "REP 1 TX_TYPE UNKN", TX_OFF),
    (SLXD, "REP 1 FREQUENCY 0578350", {"frequency_khz": 578350}),
    (SLXD, "REP 1 FREQUENCY 578350", {"frequency_khz": 578350}),
    (SLXD, "REP 1 INTERFERENCE_STATUS DETECTED", {"interference": True}),
    (SLXD, "REP 1 RSSI 1 086", {"rf_a_dbm": -34.0}),
    (SLXD, "REP 1 AUDIO_LEVEL_RMS 090", {"audio_rms_dbfs": -30.0}),
    (SLXD, "REP 1 LINK_STATUS 1 LINKED.ACTIVE", {"tx_on": True}),
    (SLXD, "REP 2 LINK_STATUS 1 LINKED.INACTIVE", TX_OFF),  # SLX-D+: the TX is powered off
    (SLXD, "REP 1 LINK_STATUS 1 EMPTY", TX_OFF),
    (SLXD, "REP 1 AUDIO_GAIN 018", {}),
    # PSM1000: REPORT, bare values
    (PSM1000, "REPORT 1 CHAN_NAME Stage Left", {"channel_name": "Stage Left"}),
    (PSM1000, "REPORT 2 FREQUENCY 518000", {"frequency_khz": 518000}),
    (PSM1000, "REPORT 1 RF_MUTE 0", {"tx_on": True}),
    (PSM1000, "REPORT 1 RF_MUTE 1", TX_OFF),
    (PSM1000, "REPORT 1 RF_TX_LVL 100", {"rf_power_mw": 100}),
    (PSM1000, "REPORT 1 AUDIO_IN_LVL_L 00002502970", {"audio_rms_dbfs": -10.5}),
    (PSM1000, "REPORT 1 AUDIO_IN_LVL_L 00000000000", {"audio_rms_dbfs": -120.0}),
    *[
        (PSM1000, f"REPORT 1 {body}", {})
        for body in (
            "AUDIO_IN_LVL_R 00000010272",
            "AUDIO_IN_LVL -12",
            "AUDIO_TX_MODE 3",
            "AUDIO_IN_LINE_LVL 1",
            "GROUP_CHAN 01,02",
        )
    ],
]

SAMPLES: list[tuple[Family, str, dict[str, object]]] = [
    (ULXD, "XB 035 010", {"antenna": "B", "rf_a_dbm": -93.0, "audio_rms_dbfs": -40.0}),
    (ULXD, "AX 115 050", {"antenna": "A", "rf_a_dbm": -13.0, "audio_clipped": True}),
    (ULXD, "AX 070 039", {"audio_rms_dbfs": -11.0, "audio_clipped": False}),
    (ULXD, "XX 020 000", {"antenna": None, "rf_a_dbm": -108.0, "audio_rms_dbfs": -50.0}),
    (
        AXIENT,
        "005 031 102 102 BB 31 086 31 065",
        {
            "rf_quality": 100,
            "audio_peak_dbfs": -18.0,
            "audio_rms_dbfs": -18.0,
            "antenna": "A",
            "rf_a_dbm": -34.0,
            "rf_b_dbm": -55.0,
            "audio_clipped": False,
        },
    ),
    (  # the real capture of a channel with no transmitter
        AXIENT,
        "255 000 005 033 XX 00 011 00 012",
        {"rf_quality": None, "antenna": None, "rf_a_dbm": -109.0, "rf_b_dbm": -108.0},
    ),
    (  # Quadversity: four antennas, overload bit set
        AXIENT,
        "003 191 118 100 XBXX 00 010 31 080 00 010 00 011",
        {"antenna": "B", "audio_clipped": True, "rf_a_dbm": -110.0, "rf_b_dbm": -40.0},
    ),
    (  # FD-C appends a second antenna section: read only the first
        AXIENT,
        "004 015 100 090 RX 07 030 00 011 BX 15 060 00 010",
        {"antenna": "A", "rf_quality": 80, "rf_a_dbm": -90.0},
    ),
    (SLXD, "102 102 086", {"audio_peak_dbfs": -18.0, "rf_a_dbm": -34.0, "audio_clipped": False}),
    (SLXD, "120 110 090", {"audio_clipped": True, "audio_rms_dbfs": -10.0}),
]

MALFORMED: list[tuple[Family, str]] = [
    (ULXD, "REP 1 BATT_BARS 007"),
    (ULXD, "REP 1 BATT_BARS abc"),
    (ULXD, "REP 1 BATT_RUN_TIME 99999"),
    (ULXD, "REP 1 TX_OFFSET 022"),
    (ULXD, "REP 1 TX_MUTE_STATUS MAYBE"),
    (ULXD, "REP 1 FREQUENCY 57835O"),
    (ULXD, "REP 1 NO_SUCH_PARAM 1"),
    (ULXD, "SAMPLE 1 ALL XB 035 098"),  # Micboard's doc example: audio beyond 0..50
    (ULXD, "SAMPLE 1 ALL ZZ 035 010"),
    (ULXD, "SAMPLE 1 ALL XB 035"),
    (AXIENT, "SAMPLE 1 ALL 005 031 102 102 BB 31 086"),
    (AXIENT, "SAMPLE 1 ALL 009 031 102 102 BX 31 086 31 065"),
    (AXIENT, "SAMPLE 1 ALL 005 031 102 102 QQ 31 086 31 065"),
    (AXIENT, "REP 1 ANTENNA_STATUS BQ"),
    (SLXD, "SAMPLE 1 ALL 121 102 086"),
    (PSM1000, "SAMPLE 1 ALL 102 102 086"),
    (PSM1000, "REPORT 1 RF_MUTE 2"),
    (ULXD, "REP ERR"),
    (ULXD, "GET 1 ALL"),
    (ULXD, "REP 0 BATT_BARS 004"),
    (ULXD, "REP 12 BATT_BARS 004"),
    (ULXD, "HELLO 1 BATT_BARS 004"),
    (ULXD, "REP"),
    (ULXD, ""),
]


def _channel_update(body: str, family: Family) -> ChannelUpdate:
    update = decode_body(body, family)
    assert isinstance(update, ChannelUpdate), f"{body!r} decoded to {update!r}"
    return update


@pytest.mark.parametrize(("family", "body", "expected"), PARAMETERS)
def test_it_decodes_every_parameter_of_every_family(family, body, expected):
    update = _channel_update(body, family)
    assert {name: update.changes.get(name) for name in expected} == expected
    assert set(update.changes) >= set(expected)


@pytest.mark.parametrize(("family", "fields", "expected"), SAMPLES)
def test_it_decodes_every_sample_layout(family, fields, expected):
    update = _channel_update(f"SAMPLE 2 ALL {fields}", family)
    assert update.channel == 2
    assert update.meter
    assert {name: update.changes[name] for name in expected} == expected


@pytest.mark.parametrize(("family", "body"), MALFORMED)
def test_it_skips_malformed_frames_without_raising(family, body):
    assert decode_body(body, family) is None


def test_it_reports_device_level_values_with_braces_stripped():
    update = decode_body("REP FW_VER {2.7.6.0           }", ULXD)
    assert update == DeviceUpdate("FW_VER", "2.7.6.0")
    assert decode_body("REP MODEL {AD4Q-A" + " " * 26 + "}", AXIENT) == DeviceUpdate(
        "MODEL", "AD4Q-A"
    )


@pytest.mark.parametrize(
    ("written", "model"),
    [("AD4Q-A", "AD4Q"), ("slxd4d", "SLXD4D"), ("SLXD4", "SLXD4"), ("ULXD4D=-G50", "ULXD4D")],
)
def test_it_knows_a_model_by_the_name_people_and_devices_write(written, model):
    spec = spec_for_model(written)
    assert spec is not None
    assert spec.name == model


@pytest.mark.parametrize(
    ("written", "channels"),
    [
        ("SLXD4+", 1),
        ("SLXD4D+", 2),
        ("SLXD4Q+", 4),
        ("SLXD4DAN+", 2),
        ("slxd4qdan+", 4),
        ("SLXD4Q+=-G58", 4),
    ],
)
def test_it_knows_every_slxd_plus_model_and_its_channels(written, channels):
    spec = spec_for_model(written)
    assert spec is not None
    assert (spec.name, spec.channels) == (written.upper().split("=")[0], channels)


@pytest.mark.parametrize("written", ["EW-DX EM 4", "SLXD4X", "SLXD4Q", "AD4QX", "ULXD"])
def test_it_knows_no_model_for_other_names(written):
    assert spec_for_model(written) is None


def test_it_names_an_unknown_model_instead_of_guessing_one():
    replies = ProbeReplies()
    replies.add("REP MODEL {SLXD4X" + " " * 26 + "}")
    with pytest.raises(DiscoveryError, match="'SLXD4X'"):
        identify(replies)


def test_it_reads_psm_levels_on_a_24_bit_scale():
    assert psm_level_dbfs(1 << 23) == 0.0
    assert psm_level_dbfs(10272) == pytest.approx(-58.2, abs=0.1)
    assert psm_level_dbfs(-5) == -120.0


def test_it_keeps_a_split_frame_until_the_rest_arrives():
    splitter = FrameSplitter()
    assert splitter.feed(b"< REP 1 BATT_BA") == []
    assert splitter.pending == "< REP 1 BATT_BA"
    assert splitter.feed(b"RS 004 >< SAMPLE 1 ALL XB 035 010 >") == [
        "REP 1 BATT_BARS 004",
        "SAMPLE 1 ALL XB 035 010",
    ]
    assert splitter.pending == ""


def test_it_returns_every_frame_of_one_read_in_order():
    data = b"< REP 1 CHAN_NAME {Vox 1   } >< REP 2 BATT_BARS 003 >\r\n< REP ERR >"
    assert FrameSplitter().feed(data) == [
        "REP 1 CHAN_NAME {Vox 1   }",
        "REP 2 BATT_BARS 003",
        "REP ERR",
    ]


def test_it_drops_garbage_between_frames():
    data = b"\x00\xff junk >< REP 1 BATT_BARS 003 >noise< REP 1 BATT_BARS 002 >"
    assert FrameSplitter().feed(data) == ["REP 1 BATT_BARS 003", "REP 1 BATT_BARS 002"]


def test_it_bounds_an_unterminated_run_of_junk():
    splitter = FrameSplitter()
    splitter.feed(b"<" + b"X" * (MAX_FRAME_CHARS * 5))
    assert len(splitter.pending) <= MAX_FRAME_CHARS
    assert splitter.feed(b"< REP 1 BATT_BARS 001 >") == ["REP 1 BATT_BARS 001"]


def test_it_parses_braced_strings_as_one_token():
    frame = parse_frame("REP 2 CHAN_NAME {HH02 Marsh                    }")
    assert frame is not None
    assert (frame.kind, frame.channel, frame.param, frame.value) == (
        "REP",
        2,
        "CHAN_NAME",
        "HH02 Marsh",
    )


@pytest.mark.parametrize(
    ("family", "body"),
    [(ULXD, "REP 1 BATT_CHARGE 253"), (AXIENT, "REP 1 TX_BATT_CHARGE_PERCENT 252")],
)
def test_a_charge_reported_as_off_or_not_rechargeable_replaces_the_kept_percent(family, body):
    reading = Reading(channel=1, tx_on=True, battery_percent=80)
    assert apply_update(reading, _channel_update(body, family)).battery_percent is None


def test_an_slxd_plus_transmitter_linked_but_powered_off_stays_off():
    reading = Reading(channel=1, tx_on=True, tx_model="SLXD2+", battery_bars=4)
    for body in ("REP 1 LINK_STATUS 1 LINKED.INACTIVE", "REP 1 LINK_TX_MODEL 1 SLXD2+"):
        reading = apply_update(reading, _channel_update(body, SLXD))
    assert (reading.tx_on, reading.tx_model, reading.battery_bars) == (False, "SLXD2+", None)


def test_a_transmitter_switched_off_clears_and_keeps_clear_its_live_values():
    reading = Reading(channel=1)
    for body in ("REP 1 TX_TYPE ULXD2", "REP 1 BATT_BARS 004", "SAMPLE 1 ALL AX 080 030"):
        reading = apply_update(reading, _channel_update(body, ULXD))
    assert (reading.tx_on, reading.battery_bars, reading.rf_a_dbm) == (True, 4, -48.0)
    reading = apply_update(reading, _channel_update("REP 1 TX_TYPE UNKN", ULXD))
    reading = apply_update(reading, _channel_update("SAMPLE 1 ALL XX 020 000", ULXD))
    assert reading.tx_on is False
    assert (reading.battery_bars, reading.rf_a_dbm, reading.audio_rms_dbfs) == (None, None, None)


def test_it_returns_the_same_reading_when_a_rep_changes_nothing():
    reading = apply_update(Reading(channel=1), _channel_update("REP 1 BATT_BARS 004", ULXD))
    assert apply_update(reading, _channel_update("REP 1 BATT_BARS 004", ULXD)) is reading
    meter = _channel_update("SAMPLE 1 ALL AX 080 030", ULXD)
    assert apply_update(reading, meter) is not reading


# ------------------------------------------------------------------ properties

FRAMES = st.sampled_from(
    [body for _, body, _ in PARAMETERS] + [f"SAMPLE 1 ALL {f}" for _, f, _ in SAMPLES]
)


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=300), max_size=8))
def test_random_bytes_never_raise_and_never_grow_the_buffer(chunks):
    splitter = FrameSplitter()
    for chunk in chunks:
        for body in splitter.feed(chunk):
            for family in FAMILIES:
                decode_body(body, family)
        assert len(splitter.pending) <= MAX_FRAME_CHARS


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120), family=st.sampled_from(FAMILIES))
def test_random_frame_text_never_raises(text, family):
    decode_body(text, family)


@settings(max_examples=300, deadline=None)
@given(body=FRAMES, cut=st.integers(min_value=0, max_value=200), family=st.sampled_from(FAMILIES))
def test_truncated_frames_never_raise(body, cut, family):
    decode_body(body[:cut], family)
    FrameSplitter().feed(f"< {body}"[:cut].encode() + b">")


@settings(max_examples=200, deadline=None)
@given(
    bodies=st.lists(FRAMES, min_size=1, max_size=6), cuts=st.lists(st.integers(0, 400), max_size=5)
)
def test_frames_split_anywhere_come_out_whole_and_in_order(bodies, cuts):
    stream = "".join(f"< {body} >" for body in bodies).encode("latin-1")
    points = sorted({min(cut, len(stream)) for cut in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    splitter = FrameSplitter()
    out = [body for piece in pieces for body in splitter.feed(piece)]
    assert out == [body.strip() for body in bodies]
