"""Parsing of every System API shape and encoding the protocol notes list, and its merging."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.protocols.shure_api.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitedError,
    ShureApiError,
    UnprocessableError,
)
from realtime.protocols.shure_api.parse import (
    ActivityLevel,
    AudioChannel,
    BatteryLevel,
    DeviceState,
    PushEvent,
    TransportOpened,
    api_error,
    channel_index,
    decode_channel_id,
    parse_activity,
    parse_audio_channels,
    parse_battery_health,
    parse_battery_level,
    parse_device_node,
    parse_device_page,
    parse_duration_minutes,
    parse_frame,
    parse_name,
)
from realtime.protocols.shure_api.state import ChannelSnapshot, DeviceSnapshot, LiveDevice

ULXD4D_ID = "dd4c009a-0000-11dd-a000-000eddcccccc"
PACK_ID = "dd55ec36-0000-11dd-a000-000eddcccccc"

# The shape of the real ULXD4D node captured in django-micboard's System API log (A.2).
ULXD4D_NODE = {
    "compatibility": "COMPATIBLE_LATEST",
    "deviceState": "ONLINE",
    "hardwareIdentity": {"deviceId": ULXD4D_ID, "serialNumber": "4192630196"},
    "softwareIdentity": {"firmwareVersion": "2.7.6.0", "firmwareValid": True, "model": "ULXD4D"},
    "communicationProtocol": {"name": "ESTA.DMP", "address": "192.168.10.20"},
    "capabilities": ["audio-channels", "identify", "name", "reboot", "uptime"],
}
DISCOVERED_NODE = {
    "deviceState": "DISCOVERED",
    "hardwareIdentity": {"deviceId": "dd000001-0000-11dd-a000-000eddcccccc"},
    "communicationProtocol": {"name": "ESTA.DMP", "address": "192.168.10.30"},
}
# The flat shape of jbeale's probe baseline.
FLAT_NODE = {
    "deviceId": "ddb03a46-0000-11dd-a000-000eddcccccc",
    "model": "ADTQ",
    "serial": "2EK24560748",
    "state": "OFFLINE",
    "address": "192.168.10.119",
    "capabilities": ["audio-channels", "name"],
}
PACK_NODE = {
    "deviceState": "ONLINE",
    "hardwareIdentity": {"deviceId": PACK_ID, "serialNumber": "3AB00000001"},
    "softwareIdentity": {"firmwareVersion": "2.4.1.0", "model": "ULXD6"},
    "capabilities": ["battery-level", "battery-health", "name"],
}


def channel_id(descriptor: dict[str, object], *, urlsafe: bool = False, pad: bool = True) -> str:
    raw = orjson.dumps(descriptor)
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()
    return encoded if pad else encoded.rstrip("=")


ADTQ_CH0 = channel_id({"t": "AudioChannel", "c": "ADTQ", "v": 131088, "s": "CH", "i": 0})
ADTQ_CH1 = channel_id({"t": "AudioChannel", "c": "ADTQ", "v": 131088, "s": "CH", "i": 1})


def event(name: str, body: object, *, device: str = ULXD4D_ID, channel: str | None = None):
    envelope: dict[str, object] = {"eventName": name, "deviceId": device}
    if channel is not None:
        envelope["audioChannelId"] = channel
    return orjson.dumps({"envelope": envelope, "body": body})


class TestDeviceList:
    def test_it_reads_a_relay_page_and_its_next_cursor(self):
        page = parse_device_page(
            {
                "pageInfo": {"hasNextPage": True, "hasPreviousPage": False, "endCursor": "c2"},
                "edges": [
                    {"cursor": "c1", "node": ULXD4D_NODE},
                    {"cursor": "c2", "node": FLAT_NODE},
                ],
            }
        )
        assert [node.model for node in page.nodes] == ["ULXD4D", "ADTQ"]
        assert page.next_cursor == "c2"

    @pytest.mark.parametrize(
        "page_info",
        [
            {"hasNextPage": False, "endCursor": "c9"},
            {"hasNextPage": True, "endCursor": None},
            {"hasNextPage": True, "endCursor": ""},
            {"hasNextPage": "yes", "endCursor": "c9"},
            None,
        ],
    )
    def test_it_stops_paging_without_a_usable_next_cursor(self, page_info):
        page = parse_device_page({"pageInfo": page_info, "edges": [{"node": ULXD4D_NODE}]})
        assert page.next_cursor is None
        assert len(page.nodes) == 1

    @pytest.mark.parametrize(
        "payload",
        [
            [ULXD4D_NODE, DISCOVERED_NODE],
            {"items": [ULXD4D_NODE, DISCOVERED_NODE]},
            {"pageInfo": {}, "edges": [{"node": ULXD4D_NODE}, {"node": DISCOVERED_NODE}]},
        ],
        ids=["bare-array", "items", "relay"],
    )
    def test_it_accepts_every_list_shape(self, payload):
        page = parse_device_page(payload)
        assert [node.state for node in page.nodes] == [DeviceState.ONLINE, DeviceState.DISCOVERED]

    @pytest.mark.parametrize("payload", [None, 42, "devices", {"data": []}, {"edges": "x"}])
    def test_it_reads_an_unknown_shape_as_an_empty_page(self, payload):
        assert parse_device_page(payload).nodes == ()

    def test_it_skips_unusable_entries_and_keeps_the_rest(self):
        edges = [
            None,
            7,
            {"node": None},
            {"node": {"deviceState": "ONLINE"}},
            {"node": ULXD4D_NODE},
        ]
        page = parse_device_page({"edges": edges})
        assert [node.device_id for node in page.nodes] == [ULXD4D_ID]


class TestDeviceNode:
    def test_it_reads_the_captured_ulxd4d_node(self):
        node = parse_device_node(ULXD4D_NODE)
        assert node is not None
        assert (node.device_id, node.model, node.serial) == (ULXD4D_ID, "ULXD4D", "4192630196")
        assert (node.firmware, node.address) == ("2.7.6.0", "192.168.10.20")
        assert node.state is DeviceState.ONLINE
        assert node.compatibility == "COMPATIBLE_LATEST"
        assert node.has_audio_channels
        assert not node.battery_powered

    def test_it_reads_a_reduced_discovered_node(self):
        node = parse_device_node(DISCOVERED_NODE)
        assert node is not None
        assert node.state is DeviceState.DISCOVERED
        assert (node.model, node.serial, node.firmware, node.capabilities) == (
            "",
            "",
            "",
            frozenset(),
        )

    def test_it_reads_the_flat_probe_shape(self):
        node = parse_device_node(FLAT_NODE)
        assert node is not None
        assert (node.model, node.serial, node.state) == ("ADTQ", "2EK24560748", DeviceState.OFFLINE)

    def test_it_knows_a_battery_powered_device(self):
        node = parse_device_node(PACK_NODE)
        assert node is not None
        assert node.battery_powered

    @pytest.mark.parametrize("payload", [None, [], {}, {"hardwareIdentity": {"deviceId": 5}}])
    def test_it_rejects_a_node_without_a_device_id(self, payload):
        assert parse_device_node(payload) is None

    def test_it_reads_an_unknown_state_as_unknown(self):
        node = parse_device_node({**ULXD4D_NODE, "deviceState": "SLEEPING"})
        assert node is not None
        assert node.state is DeviceState.UNKNOWN

    def test_it_keeps_only_string_capabilities(self):
        node = parse_device_node({**ULXD4D_NODE, "capabilities": ["name", 3, None, "reboot"]})
        assert node is not None
        assert node.capabilities == {"name", "reboot"}


class TestAudioChannels:
    @pytest.mark.parametrize(
        ("descriptor", "encoding", "index"),
        [
            ({"t": "AudioChannel", "c": "ADTQ", "v": 131088, "s": "CH", "i": 3}, {}, 3),
            ({"t": "AudioChannel", "c": "ULXD4D", "s": "CH", "index": 1}, {}, 1),
            ({"t": "AudioChannel", "i": 2}, {"urlsafe": True}, 2),
            ({"t": "AudioChannel", "i": 0}, {"pad": False}, 0),
            ({"t": "AudioChannel", "i": -1}, {}, None),
            ({"t": "AudioChannel", "i": True}, {}, None),
            ({"t": "AudioChannel"}, {}, None),
        ],
    )
    def test_it_decodes_the_index_from_base64_json_ids(self, descriptor, encoding, index):
        assert channel_index(channel_id(descriptor, **encoding)) == index

    @pytest.mark.parametrize("opaque", ["", "not base64!", "////", "WzEsMl0=", "aGVsbG8=", "é"])
    def test_it_treats_undecodable_ids_as_opaque(self, opaque):
        assert channel_index(opaque) is None

    def test_it_decodes_the_whole_descriptor(self):
        assert decode_channel_id(ADTQ_CH1) == {
            "t": "AudioChannel",
            "c": "ADTQ",
            "v": 131088,
            "s": "CH",
            "i": 1,
        }

    @pytest.mark.parametrize("wrap", [lambda items: items, lambda items: {"items": items}])
    def test_it_reads_channel_lists_bare_or_wrapped(self, wrap):
        items = [
            {"id": ADTQ_CH0, "role": "SOURCE", "group": "GENERIC", "capabilities": ["activity"]},
            {"id": ADTQ_CH1, "capabilities": ["activity", "gain", "name", "mute"]},
            {"role": "SOURCE"},
            "junk",
        ]
        assert parse_audio_channels(wrap(items)) == (
            AudioChannel(ADTQ_CH0, 0, frozenset({"activity"})),
            AudioChannel(ADTQ_CH1, 1, frozenset({"activity", "gain", "name", "mute"})),
        )


class TestValues:
    @pytest.mark.parametrize(
        ("payload", "level"),
        [
            ({"audioLevel": "LOW"}, ActivityLevel.LOW),
            ({"audioLevel": "GOOD"}, ActivityLevel.GOOD),
            ({"audioLevel": "CLIPPING"}, ActivityLevel.CLIPPING),
            ({"audioLevel": "clipping"}, ActivityLevel.CLIPPING),
            ({"audioLevel": "LOUD"}, None),
            ({"audioLevel": 3}, None),
            ({}, None),
            (None, None),
        ],
    )
    def test_it_reads_audio_activity(self, payload, level):
        assert parse_activity(payload) == level

    @pytest.mark.parametrize(
        ("payload", "name"),
        [({"name": "Lead Vox"}, "Lead Vox"), ({"name": ""}, ""), ({"name": 4}, None), ([], None)],
    )
    def test_it_reads_names(self, payload, name):
        assert parse_name(payload) == name

    @pytest.mark.parametrize(
        ("text", "minutes"),
        [
            ("PT385M", 385),
            ("PT0M", 0),
            ("PT6H25M", 385),
            ("P1DT1H", 1500),
            ("PT90S", 1),
            ("PT1H30M59.5S", 90),
            ("pt5m", 5),
            (None, None),
            ("385", None),
            ("PT", None),
            ("P", None),
            ("PT-5M", None),
            ("PT5X", None),
            ("PT" + "9" * 5000 + "M", None),
            ("PT٣M", None),
            (385, None),
        ],
    )
    def test_it_converts_iso_8601_durations_to_minutes(self, text, minutes):
        assert parse_duration_minutes(text) == minutes

    @pytest.mark.parametrize(
        ("payload", "expected", "runtime"),
        [
            (
                {
                    "percentage": 87,
                    "status": {
                        "currentState": "DISCHARGING",
                        "targetState": "EMPTY",
                        "timeToTargetState": "PT385M",
                    },
                },
                BatteryLevel(87, "DISCHARGING", "EMPTY", 385),
                385,
            ),
            (
                {
                    "percentage": 40,
                    "status": {
                        "currentState": "CHARGING",
                        "targetState": "FULL",
                        "timeToTargetState": "PT50M",
                    },
                },
                BatteryLevel(40, "CHARGING", "FULL", 50),
                None,  # time to full is not runtime
            ),
            (
                {
                    "percentage": 90,
                    "status": {"currentState": "CALCULATING", "timeToTargetState": None},
                },
                BatteryLevel(90, "CALCULATING", None, None),
                None,
            ),
            (
                {"percentage": 100, "status": {"currentState": "FULL"}},
                BatteryLevel(100, "FULL"),
                None,
            ),
            ({"percentage": 140}, BatteryLevel(None), None),
            ({"percentage": "50", "status": "x"}, BatteryLevel(None), None),
        ],
    )
    def test_it_reads_battery_levels(self, payload, expected, runtime):
        level = parse_battery_level(payload)
        assert level == expected
        assert level is not None
        assert level.runtime_minutes == runtime

    def test_it_rejects_a_battery_level_that_is_not_an_object(self):
        assert parse_battery_level([87]) is None

    @pytest.mark.parametrize(
        ("payload", "expected"),
        [
            ({"percentage": 96, "cycleCount": 42}, (96, 42)),
            ({"percentage": 96.0}, (96, None)),
            ({"percentage": -1, "cycleCount": "many"}, (None, None)),
        ],
    )
    def test_it_reads_battery_health(self, payload, expected):
        health = parse_battery_health(payload)
        assert health is not None
        assert (health.percentage, health.cycle_count) == expected


class TestFrames:
    def test_it_reads_the_transport_id_greeting(self):
        assert parse_frame(b'{"transportId": "5d4b1c9e"}') == TransportOpened("5d4b1c9e")

    @pytest.mark.parametrize(
        ("name", "body", "channel"),
        [
            ("DEVICE_NAME", {"name": "Stage Left"}, None),
            ("DEVICE_IDENTIFY", {"identifying": True}, None),
            ("DEVICE_AUDIO_MUTE", {"muted": False}, None),
            ("DEVICE_BATTERY_LEVEL", {"percentage": 50, "status": {}}, None),
            ("DEVICE_BATTERY_HEALTH", {"percentage": 96, "cycleCount": 42}, None),
            ("DEVICE_STATE_CHANGE", ULXD4D_NODE, None),
            ("AUDIO_CHANNEL_MUTE", {"muted": True}, ADTQ_CH0),
            ("AUDIO_CHANNEL_GAIN", {"gain": 6}, ADTQ_CH0),
            ("AUDIO_CHANNEL_NAME", {"name": "Vox"}, ADTQ_CH0),
            ("AUDIO_CHANNEL_ACTIVITY", {"audioLevel": "GOOD"}, ADTQ_CH0),
        ],
    )
    def test_it_reads_every_event_kind(self, name, body, channel):
        frame = parse_frame(event(name, body, channel=channel))
        assert frame == PushEvent(name, ULXD4D_ID, channel, body)

    def test_it_takes_a_state_change_device_id_from_the_node_body(self):
        raw = orjson.dumps({"envelope": {"eventName": "DEVICE_STATE_CHANGE"}, "body": ULXD4D_NODE})
        frame = parse_frame(raw)
        assert isinstance(frame, PushEvent)
        assert frame.device_id == ULXD4D_ID

    @pytest.mark.parametrize(
        "raw",
        [
            b"",
            b"not json",
            b"[]",
            b'{"transportId": 7}',
            b'{"transportId": ""}',
            b'{"envelope": 42, "body": {}}',
            b'{"envelope": {"eventName": "DEVICE_NAME", "deviceId": "x"}}',
            b'{"envelope": {"eventName": "DEVICE_NAME"}, "body": {"name": "x"}}',
            b'{"envelope": {"deviceId": "x"}, "body": {}}',
            b'{"envelope": {"eventName": "DEVICE_NAME", "deviceId": "x"}, "body": []}',
            b'{"status": "online"}',
            b"\xff\xfe",
        ],
    )
    def test_it_skips_malformed_frames(self, raw):
        assert parse_frame(raw) is None


class TestHttpErrors:
    @pytest.mark.parametrize("status", [200, 202, 204, 304])
    def test_it_maps_success_to_none(self, status):
        assert api_error(status, b"") is None

    @pytest.mark.parametrize(
        ("status", "error_class"),
        [
            (400, BadRequestError),
            (401, AuthenticationError),
            (403, AuthenticationError),
            (404, NotFoundError),
            (422, UnprocessableError),
            (429, RateLimitedError),
            (500, ShureApiError),
        ],
    )
    def test_it_maps_error_statuses_to_exceptions(self, status, error_class):
        error = api_error(status, b'{"title": "Nope", "detail": "device 7 unknown"}')
        assert type(error) is error_class
        assert error is not None
        assert error.status == status
        assert f"HTTP {status}" in str(error)
        assert "Nope - device 7 unknown" in str(error)

    def test_it_quotes_a_plain_text_body(self):
        assert "Body cannot be empty" in str(api_error(400, b"Body cannot be empty"))


def snapshot(node: Mapping[str, object], *channels: ChannelSnapshot, battery=None, name=None):
    parsed = parse_device_node(node)
    assert parsed is not None
    return DeviceSnapshot(node=parsed, name=name, channels=channels, battery=battery)


def receiver(*levels: ActivityLevel | None) -> LiveDevice:
    live = LiveDevice()
    ids = [ADTQ_CH0, ADTQ_CH1]
    channels = [
        ChannelSnapshot(AudioChannel(ids[n], n), name=f"Vox {n + 1}", activity=level)
        for n, level in enumerate(levels)
    ]
    live.load(snapshot(ULXD4D_NODE, *channels))
    return live


def push(live: LiveDevice, raw: bytes) -> list[int]:
    frame = parse_frame(raw)
    assert isinstance(frame, PushEvent)
    return live.apply(frame)


class TestMergedReadings:
    @pytest.mark.parametrize(
        ("level", "rms", "peak", "clipped"),
        [
            (ActivityLevel.LOW, -60.0, -50.0, False),
            (ActivityLevel.GOOD, -24.0, -12.0, False),
            (ActivityLevel.CLIPPING, -6.0, 0.0, True),
            (None, None, None, False),
        ],
    )
    def test_it_maps_activity_to_audio_fields(self, level, rms, peak, clipped):
        (reading,) = receiver(level).readings()
        assert (reading.audio_rms_dbfs, reading.audio_peak_dbfs, reading.audio_clipped) == (
            rms,
            peak,
            clipped,
        )
        assert reading.rx_reachable
        assert reading.channel_name == "Vox 1"
        assert reading.battery_percent is None
        assert reading.rf_a_dbm is None

    def test_an_activity_push_changes_only_its_channel(self):
        live = receiver(ActivityLevel.LOW, ActivityLevel.LOW)
        changed = push(
            live, event("AUDIO_CHANNEL_ACTIVITY", {"audioLevel": "CLIPPING"}, channel=ADTQ_CH1)
        )
        assert changed == [2]
        first, second = live.readings()
        assert not first.audio_clipped
        assert second.audio_clipped

    def test_a_clip_clears_on_the_next_activity(self):
        live = receiver(ActivityLevel.CLIPPING)
        push(live, event("AUDIO_CHANNEL_ACTIVITY", {"audioLevel": "GOOD"}, channel=ADTQ_CH0))
        assert not live.readings()[0].audio_clipped

    def test_going_offline_makes_every_channel_unreachable_with_no_live_values(self):
        live = receiver(ActivityLevel.GOOD, ActivityLevel.CLIPPING)
        changed = push(
            live, event("DEVICE_STATE_CHANGE", {**ULXD4D_NODE, "deviceState": "OFFLINE"})
        )
        assert changed == [1, 2]
        for reading in live.readings():
            assert not reading.rx_reachable
            assert reading.audio_rms_dbfs is None
            assert not reading.audio_clipped
            assert reading.channel_name is not None

    def test_a_channel_rename_is_merged(self):
        live = receiver(ActivityLevel.GOOD)
        push(live, event("AUDIO_CHANNEL_NAME", {"name": "Pastor"}, channel=ADTQ_CH0))
        assert live.readings()[0].channel_name == "Pastor"

    def test_unrelated_or_unknown_events_change_nothing(self):
        live = receiver(ActivityLevel.GOOD)
        assert push(live, event("AUDIO_CHANNEL_GAIN", {"gain": 3}, channel=ADTQ_CH0)) == []
        assert (
            push(live, event("AUDIO_CHANNEL_ACTIVITY", {"audioLevel": "GOOD"}, channel="x")) == []
        )
        assert push(live, event("SOMETHING_NEW", {})) == []

    def test_a_battery_pack_is_one_channel_with_battery_values(self):
        live = LiveDevice()
        battery = BatteryLevel(64, "DISCHARGING", "EMPTY", 440)
        live.load(snapshot(PACK_NODE, battery=battery, name="Pack 5"))
        (reading,) = live.readings()
        assert (reading.channel, reading.channel_name, reading.tx_model) == (1, "Pack 5", "ULXD6")
        assert (reading.battery_percent, reading.battery_minutes) == (64, 440)
        body = {
            "percentage": 63,
            "status": {"currentState": "DISCHARGING", "timeToTargetState": "PT433M"},
        }
        assert push(live, event("DEVICE_BATTERY_LEVEL", body, device=PACK_ID)) == [1]
        assert push(live, event("DEVICE_NAME", {"name": "Pack 6"}, device=PACK_ID)) == [1]
        (reading,) = live.readings()
        assert (reading.battery_percent, reading.battery_minutes, reading.channel_name) == (
            63,
            433,
            "Pack 6",
        )

    def test_channels_are_numbered_by_list_order_when_ids_are_opaque(self):
        live = LiveDevice()
        channels = [ChannelSnapshot(AudioChannel(cid, None), name=cid) for cid in ("b", "a")]
        live.load(snapshot(ULXD4D_NODE, *channels))
        assert [(r.channel, r.channel_name) for r in live.readings()] == [(1, "b"), (2, "a")]

    def test_an_unreachable_server_hides_every_live_value(self):
        live = receiver(ActivityLevel.GOOD)
        live.mark_server_unreachable()
        (reading,) = live.readings()
        assert not reading.rx_reachable
        assert reading.audio_rms_dbfs is None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "envelope",
                    "body",
                    "eventName",
                    "deviceId",
                    "audioChannelId",
                    "transportId",
                    "edges",
                    "node",
                    "pageInfo",
                    "items",
                    "hardwareIdentity",
                    "percentage",
                    "status",
                    "timeToTargetState",
                    "audioLevel",
                    "name",
                    "id",
                    "capabilities",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


class TestNeverRaises:
    @settings(max_examples=300, deadline=None)
    @given(json_values)
    def test_parsers_survive_any_json_value(self, value):
        parse_device_page(value)
        parse_device_node(value)
        parse_audio_channels(value)
        parse_battery_level(value)
        parse_battery_health(value)
        parse_activity(value)
        parse_name(value)
        parse_duration_minutes(value)

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
    def test_frames_survive_random_bytes(self, raw):
        frame = parse_frame(raw)
        assert frame is None or isinstance(frame, TransportOpened | PushEvent)

    @settings(max_examples=300, deadline=None)
    @given(st.data())
    def test_frames_survive_truncation(self, data):
        raw = event("AUDIO_CHANNEL_ACTIVITY", {"audioLevel": "CLIPPING"}, channel=ADTQ_CH0)
        cut = data.draw(st.integers(min_value=0, max_value=len(raw)))
        frame = parse_frame(raw[:cut])
        assert frame is None or cut == len(raw)

    @settings(max_examples=300, deadline=None)
    @given(
        json_values,
        st.sampled_from(
            [
                "DEVICE_STATE_CHANGE",
                "DEVICE_NAME",
                "DEVICE_BATTERY_LEVEL",
                "AUDIO_CHANNEL_ACTIVITY",
                "AUDIO_CHANNEL_NAME",
            ]
        ),
    )
    def test_merging_survives_any_event_body(self, body, name):
        live = receiver(ActivityLevel.GOOD, ActivityLevel.LOW)
        frame = parse_frame(event(name, body, channel=ADTQ_CH0))
        if isinstance(frame, PushEvent):
            live.apply(frame)
        assert len(live.readings()) == 2

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=60))
    def test_channel_ids_and_durations_survive_any_text(self, text):
        channel_index(text)
        parse_duration_minutes(text)
