"""Parse every SSCv2 resource and SSE encoding into Reading fields, and survive garbage."""

from __future__ import annotations

import dataclasses
import logging

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime.protocols.base import Reading
from realtime.protocols.sennheiser_ssc.parse import (
    ChannelState,
    CloseEvent,
    MessageEvent,
    OpenEvent,
    SseDecoder,
    SseEvent,
    battery_bars,
    channel_info,
    decode_events,
    parse_device_state,
    parse_firmware,
    parse_identity,
    parse_message,
    parse_resource,
    parse_site_name,
    parse_sse_event,
    parse_subscription_error,
    session_uuid_from_location,
)
from realtime.protocols.sennheiser_ssc.wire import Resource, locate

UUID = "31875a94-29e6-4fb0-ab4d-7f0bbd6e1bc8"
READING_FIELDS = {f.name for f in dataclasses.fields(Reading)}
TX_GONE = {"path": "/api/transmitters/0/battery", "error": 422}


def reading_after(path: str, body: object) -> Reading:
    """Apply one resource value to a blank channel and return the merged Reading."""
    updates = parse_resource(path, body)
    index = next(iter(updates), 0)
    state = ChannelState(Reading(channel=index + 1))
    return state.merged(updates.get(index, {})).reading


def fields_of(reading: Reading, names: dict[str, object]) -> dict[str, object]:
    """Pick the named fields off a Reading, for comparing against a table row."""
    return {name: getattr(reading, name) for name in names}


RESOURCE_TABLE = [
    # (path, body, channel (1-based), expected Reading fields)
    (
        "/api/channel/0",
        {"name": "LEAD VOX", "mute": False, "gain": 0},
        1,
        {"channel_name": "LEAD VOX"},
    ),
    ("/api/channel/3/signalStrengthIndicator", {"value": -63.44}, 4, {"rf_a_dbm": -63.4}),
    ("/channel/1/signalStrengthIndicator", {"value": -107}, 2, {"rf_a_dbm": -107.0}),
    ("/api/channel/0/signalQualityIndicator", {"value": 87.6}, 1, {"rf_quality": 88}),
    ("/api/channel/0/signalQualityIndicator", {"value": 140}, 1, {"rf_quality": 100}),
    ("/api/channel/0/diversityIndicator", {"value": 0}, 1, {"antenna": None}),
    ("/api/channel/0/diversityIndicator", {"value": 1}, 1, {"antenna": "A"}),
    ("/api/channel/2/diversityIndicator", {"value": 2.0}, 3, {"antenna": "B"}),
    ("/api/channel/1/level", {"value": -23.44}, 2, {"audio_rms_dbfs": -23.4}),
    ("/api/channel/1/level", {"value": -138.5}, 2, {"audio_rms_dbfs": -138.5}),
    (
        "/api/rf/channels/1",
        {"frequency": 606200, "presets": {"type": "Factory", "bank": 0, "channel": 3}},
        2,
        {"frequency_khz": 606200},
    ),
    (
        "/api/transmitters/0",
        {"type": "EW_DX_SKM", "mute": True, "trim": -3, "capsule": "MMD_835"},
        1,
        {"tx_on": True, "tx_model": "EW_DX_SKM", "tx_muted": True, "tx_offset_db": -3.0},
    ),
    (
        "/api/transmitters/0",
        TX_GONE,
        1,
        {"tx_on": False, "tx_model": None, "tx_muted": None, "tx_offset_db": None},
    ),
    (
        "/api/transmitters/2/battery",
        {"type": "Battery", "gauge": 37, "lifetime": 250},
        3,
        {
            "tx_on": True,
            "battery_percent": 37,
            "battery_bars": 2,
            "battery_minutes": 250,
            "battery_type": "LION",
        },
    ),
    (
        "/api/transmitters/0/battery",
        {"type": "PrimaryCell", "gauge": 100, "lifetime": 480},
        1,
        # Only a Sennheiser pack measures its runtime; on AA cells `lifetime` is a guess.
        {"battery_percent": 100, "battery_type": "ALKA", "battery_minutes": None},
    ),
    (
        "/api/transmitters/0/battery",
        {"type": "Battery", "gauge": 12, "lifetime": 0},
        1,
        {"battery_percent": 12, "battery_minutes": None},  # 0 means "not known", not empty
    ),
    (
        "/api/transmitters/0/battery",
        {"type": "Battery", "gauge": 90, "lifetime": 65534},
        1,
        {"battery_percent": 90, "battery_minutes": None},
    ),
    (
        "/api/transmitters/0/battery",
        {"type": "NoBattery", "gauge": 0, "lifetime": 0},
        1,
        {"battery_type": None, "battery_bars": 0, "battery_minutes": None},
    ),
    *[
        (
            "/api/transmitters/0/battery",
            gone,
            1,
            {
                "tx_on": False,
                "battery_percent": None,
                "battery_bars": None,
                "battery_minutes": None,
            },
        )
        for gone in (TX_GONE, None, {})
    ],
    (
        "/api/channel/0/warnings",
        ["NoLink"],
        1,
        {"tx_on": False, "interference": False, "audio_clipped": False},
    ),
    (
        "/api/channel/0/warnings",
        ["LowSignal", "RfPeak", "AfPeak"],
        1,
        {"tx_on": True, "interference": True, "audio_clipped": True},
    ),
    ("/api/channel/0/warnings", [], 1, {"tx_on": True, "interference": False}),
    ("/api/transmitters/0/warnings", ["LowBattery", "AfPeak"], 1, {"audio_clipped": True}),
    ("/api/transmitters/0/warnings", ["LowBattery"], 1, {"audio_clipped": False}),
    ("/api/transmitters/0/warnings", TX_GONE, 1, {"audio_clipped": False}),
]


@pytest.mark.parametrize(("path", "body", "channel", "expected"), RESOURCE_TABLE)
def test_it_maps_each_resource_onto_reading_fields(path, body, channel, expected):
    reading = reading_after(path, body)

    assert reading.channel == channel
    assert fields_of(reading, expected) == expected


GARBAGE_BODIES = ["loud", 5, True, [1, 2], {"value": "loud"}, {"value": None}, {"value": True}]
METER_PATHS = [
    "/api/channel/0",
    "/api/channel/0/signalStrengthIndicator",
    "/api/channel/0/signalQualityIndicator",
    "/api/channel/0/diversityIndicator",
    "/api/channel/0/level",
    "/api/rf/channels/0",
    "/api/channel/0/warnings",
]


@pytest.mark.parametrize("path", METER_PATHS)
@pytest.mark.parametrize("body", GARBAGE_BODIES)
def test_it_logs_and_skips_garbage_values(path, body, caplog):
    with caplog.at_level(logging.WARNING):
        updates = parse_resource(path, body)

    assert updates == {}
    assert "SSCv2" in caplog.text


def test_it_skips_out_of_range_diversity_and_unknown_paths(caplog):
    with caplog.at_level(logging.WARNING):
        assert parse_resource("/api/channel/0/diversityIndicator", {"value": 7}) == {}
        assert parse_resource("/api/channel/0/unheardOf", {"value": 1}) == {}
        assert parse_resource("/api/device/site", {"deviceName": "X"}) == {}

    assert "out of range" in caplog.text
    assert "unknown resource" in caplog.text


def test_it_maps_the_transmitters_collection_per_linked_id():
    body = [
        {"id": 0, "transmitter": {"type": "EW_DX_SK", "mute": False, "trim": 6}},
        {"id": 3, "transmitter": {"type": "EW_DX_SKM_S"}},
        {"id": "x"},
        "junk",
    ]

    updates = parse_resource("/api/transmitters", body)

    assert sorted(updates) == [0, 3]
    assert updates[0]["tx_model"] == "EW_DX_SK"
    assert updates[0]["tx_offset_db"] == 6.0
    assert updates[3]["tx_on"] is True


def test_it_merges_one_message_across_paths_and_channels():
    values = {
        "/api/channel/0/level": {"value": -20.0},
        "/api/channel/0/signalStrengthIndicator": {"value": -55.0},
        "/api/channel/1/diversityIndicator": {"value": 2},
        "/api/bogus": {"value": 1},
    }

    updates = parse_message(values)

    assert updates == {
        0: {"audio_rms_dbfs": -20.0, "rf_a_dbm": -55.0},
        1: {"antenna": "B"},
    }


def test_it_keeps_the_clip_flag_while_either_side_reports_af_peak():
    state = ChannelState(Reading(channel=1))

    state = state.merged(parse_resource("/api/channel/0/warnings", ["AfPeak"])[0])
    state = state.merged(parse_resource("/api/transmitters/0/warnings", ["AfPeak"])[0])
    state = state.merged(parse_resource("/api/channel/0/warnings", [])[0])
    still_clipped = state.reading.audio_clipped
    state = state.merged(parse_resource("/api/transmitters/0/warnings", [])[0])

    assert still_clipped is True
    assert state.reading.audio_clipped is False


@pytest.mark.parametrize(
    ("percent", "bars"), [(0, 0), (1, 1), (20, 1), (21, 2), (40, 2), (60, 3), (80, 4), (81, 5)]
)
def test_it_steps_percent_into_bars_every_twenty_percent(percent, bars):
    assert battery_bars(percent) == bars


@pytest.mark.parametrize(
    ("product", "model", "channels"),
    [
        ("EWDX2CHS", "EW-DX EM 2", 2),
        ("EWDX2CHDS", "EW-DX EM 2 DANTE", 2),
        ("EWDX4CHDS", "EW-DX EM 4 DANTE", 4),
    ],
)
def test_it_identifies_each_model_from_its_product_code(product, model, channels):
    body = {"product": product, "serial": "1023456789", "hardwareRevision": "0596715-06"}

    identity = parse_identity(body)

    assert identity is not None
    assert (identity.model.name, identity.model.channels) == (model, channels)
    assert identity.serial == "1023456789"


@pytest.mark.parametrize("body", [None, [], {"product": "SLXD4"}, {"product": 4}, "EWDX2CHS"])
def test_it_refuses_to_identify_anything_else(body):
    assert parse_identity(body) is None


def test_it_reads_the_device_level_resources():
    assert parse_site_name({"deviceName": "STAGELEFT", "location": ""}) == "STAGELEFT"
    assert parse_site_name(["x"]) == ""
    assert parse_firmware({"deviceVersion": "4.1.0", "state": "Idle"}) == "4.1.0"
    assert parse_device_state({"state": "Busy", "warnings": ["X"]}) == ("Busy", frozenset({"X"}))
    assert parse_device_state({"state": 3}) is None
    info = channel_info(1, {"name": "GTR "}, {"frequency": 606200})
    assert (info.number, info.name, info.frequency_khz) == (2, "GTR", 606200)
    assert channel_info(0, "junk", None).frequency_khz is None


def test_it_reads_the_subscription_error_shape():
    assert parse_subscription_error({"path": "/api/nope", "error": 404}) == ("/api/nope", 404)
    assert parse_subscription_error({"path": "/api/nope"}) is None
    assert parse_subscription_error(None) is None


@pytest.mark.parametrize(
    "location",
    [
        UUID,
        f"/api/ssc/state/subscriptions/{UUID}",
        f"https://h/api/ssc/state/subscriptions/{UUID}/",
    ],
)
def test_it_takes_the_session_uuid_from_content_location(location):
    assert session_uuid_from_location(location) == UUID


@pytest.mark.parametrize(
    ("path", "resource", "index"),
    [
        ("/api/channel/3/level", Resource.LEVEL, 3),
        ("/channel/3/level", Resource.LEVEL, 3),
        ("/api/rf", Resource.RF, None),
        ("/device/site", Resource.SITE, None),
        ("/api/transmitters/1/battery", Resource.BATTERY, 1),
    ],
)
def test_it_locates_paths_with_and_without_the_api_prefix(path, resource, index):
    located = locate(path)

    assert located is not None
    assert (located.resource, located.index) == (resource, index)


# --- server-sent events ----------------------------------------------------------------

OPEN_DATA = orjson.dumps({"path": f"/api/ssc/state/subscriptions/{UUID}", "sessionUUID": UUID})

SSE_TABLE = [
    (
        b"event:open\ndata:" + OPEN_DATA + b"\n\n",
        [OpenEvent(UUID, f"/api/ssc/state/subscriptions/{UUID}")],
    ),
    (
        b'event: message\r\ndata: {"/api/channel/0/level": {"value": -20.5}}\r\n\r\n',
        [MessageEvent({"/api/channel/0/level": {"value": -20.5}})],
    ),
    (b'data:{"/a":\rdata:1}\r\r\n', [MessageEvent({"/a": 1})]),
    (b": keep-alive comment\n\n", []),
    (b"event:close\ndata:{}\n\n", [CloseEvent()]),
    (b"event:close\n\n", []),
    (b"event:mystery\ndata:{}\n\n", []),
    (b"event:message\ndata:not json\n\n", []),
    (b"event:message\ndata:[1,2]\n\n", []),
    (b'event:open\ndata:{"path":"/x"}\n\n', []),
    (b"event:message\ndata:{}\n\n" + b"event:close\ndata:{}\n", [MessageEvent({})]),
]


@pytest.mark.parametrize(("raw", "expected"), SSE_TABLE)
def test_it_decodes_every_sse_encoding(raw, expected):
    assert decode_events(SseDecoder(), [raw]) == expected


@pytest.mark.parametrize("raw", [raw for raw, _ in SSE_TABLE])
def test_it_decodes_the_same_events_at_every_split_point(raw):
    whole = decode_events(SseDecoder(), [raw])

    for cut in range(len(raw) + 1):
        assert decode_events(SseDecoder(), [raw[:cut], raw[cut:]]) == whole


def test_it_reassembles_multibyte_characters_split_across_chunks():
    raw = 'event:message\ndata:{"/api/channel/0":{"name":"BÜHNE"}}\n\n'.encode()
    cut = raw.index("Ü".encode()) + 1

    events = decode_events(SseDecoder(), [raw[:cut], raw[cut:]])

    assert events == [MessageEvent({"/api/channel/0": {"name": "BÜHNE"}})]


def test_it_joins_multiple_data_lines_with_newlines():
    assert SseDecoder().feed(b"data:a\ndata:b\n\n") == [SseEvent("message", "a\nb")]


# --- property tests: garbage never raises ----------------------------------------------


def json_like(integers: st.SearchStrategy[int]) -> st.SearchStrategy[object]:
    """Generate JSON-shaped values (what orjson could hand the parser, and then some)."""
    return st.recursive(
        st.none() | st.booleans() | integers | st.floats() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=12), children, max_size=4)
        ),
        max_leaves=12,
    )


json_values = json_like(st.integers())
encodable_values = json_like(st.integers(min_value=-(2**63), max_value=2**63 - 1))
paths = st.sampled_from([r.path(0) if r.indexed else r.path() for r in Resource]) | st.text(
    max_size=30
)


@given(path=paths, body=json_values)
def test_it_never_raises_on_any_json_value_for_any_path(path, body):
    updates = parse_resource(path, body)

    for changes in updates.values():
        assert set(changes) <= READING_FIELDS | {"rx_af_peak", "tx_af_peak"}
        ChannelState(Reading(channel=1)).merged(changes)


@given(values=st.dictionaries(paths, json_values, max_size=6))
def test_it_never_raises_on_any_message(values):
    parse_message(values)


@given(chunks=st.lists(st.binary(max_size=40), max_size=12))
def test_it_never_raises_on_random_bytes_and_ignores_how_they_are_chunked(chunks):
    chunked = SseDecoder()
    events = [event for chunk in chunks for event in chunked.feed(chunk)]

    assert events == SseDecoder().feed(b"".join(chunks))
    for event in events:
        parse_sse_event(event)


@given(values=st.dictionaries(paths, encodable_values, max_size=4), data=st.data())
def test_it_survives_truncated_json_in_an_sse_message(values, data):
    payload = orjson.dumps(values)
    cut = data.draw(st.integers(min_value=0, max_value=len(payload)))
    raw = b"event:message\ndata:" + payload[:cut] + b"\n\n"

    events = decode_events(SseDecoder(), [raw])

    # No proper prefix of a serialised object is itself an object, so only the whole survives.
    assert events == ([MessageEvent(orjson.loads(payload))] if cut == len(payload) else [])
