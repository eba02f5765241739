"""Pure parsing of Shure System API payloads: JSON in, typed values out.

Nothing here raises on garbage: an unusable value is logged and skipped (None, an empty
tuple or an empty page), so one odd device or frame never stops the others.
"""

from __future__ import annotations

import base64
import binascii
import enum
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import orjson

from realtime.protocols.shure_api.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitedError,
    ShureApiError,
    UnprocessableError,
)

log = logging.getLogger(__name__)

JsonMap = Mapping[str, object]


class DeviceState(enum.StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    DISCOVERED = "DISCOVERED"
    UNKNOWN = "UNKNOWN"


class ActivityLevel(enum.StrEnum):
    LOW = "LOW"
    GOOD = "GOOD"
    CLIPPING = "CLIPPING"


@dataclass(frozen=True, slots=True)
class DeviceNode:
    """One device as the server's inventory describes it."""

    device_id: str
    state: DeviceState
    model: str = ""
    serial: str = ""
    firmware: str = ""
    address: str = ""
    compatibility: str = ""
    capabilities: frozenset[str] = frozenset()

    @property
    def battery_powered(self) -> bool:
        """Tell whether the device reports its own battery (packs, chargers)."""
        return "battery-level" in self.capabilities

    @property
    def has_audio_channels(self) -> bool:
        """Tell whether the device lists audio channels."""
        return "audio-channels" in self.capabilities


@dataclass(frozen=True, slots=True)
class DevicePage:
    """One page of the device inventory; `next_cursor` is None on the last page."""

    nodes: tuple[DeviceNode, ...] = ()
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class AudioChannel:
    """One audio channel of a device; `index` is the 0-based index decoded from the id."""

    channel_id: str
    index: int | None
    capabilities: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class BatteryLevel:
    """A battery-level answer or DEVICE_BATTERY_LEVEL push."""

    percentage: int | None
    current_state: str | None = None
    target_state: str | None = None
    minutes_to_target: int | None = None

    @property
    def runtime_minutes(self) -> int | None:
        """Return the runtime left; time to target is runtime only while draining."""
        draining = self.target_state == "EMPTY" or self.current_state == "DISCHARGING"
        return self.minutes_to_target if draining else None


@dataclass(frozen=True, slots=True)
class BatteryHealth:
    """A battery-health answer or DEVICE_BATTERY_HEALTH push."""

    percentage: int | None
    cycle_count: int | None


@dataclass(frozen=True, slots=True)
class AudioEstimate:
    """The meter values shown for one activity class (display levels, not measurements)."""

    rms_dbfs: float
    peak_dbfs: float
    clipped: bool = False


# The server only says which band the audio is in. These are representative levels inside
# each band (D.4: silence at -60 dBFS and below, speech -40..-15 with peaks to -6, clip
# near 0) so a meter shows the band; CLIPPING also raises the clip flag.
AUDIO_BY_ACTIVITY: Final[Mapping[ActivityLevel, AudioEstimate]] = {
    ActivityLevel.LOW: AudioEstimate(rms_dbfs=-60.0, peak_dbfs=-50.0),
    ActivityLevel.GOOD: AudioEstimate(rms_dbfs=-24.0, peak_dbfs=-12.0),
    ActivityLevel.CLIPPING: AudioEstimate(rms_dbfs=-6.0, peak_dbfs=0.0, clipped=True),
}


@dataclass(frozen=True, slots=True)
class TransportOpened:
    """The first WebSocket frame: the id that subscriptions are registered against."""

    transport_id: str


@dataclass(frozen=True, slots=True)
class PushEvent:
    """One envelope+body event from the WebSocket."""

    name: str
    device_id: str
    audio_channel_id: str | None
    body: JsonMap


PushFrame = TransportOpened | PushEvent

# Digit counts are bounded so a hostile value cannot build a huge number.
_DURATION = re.compile(
    r"P(?:(?P<days>\d{1,6})D)?(?:T(?:(?P<hours>\d{1,8})H)?(?:(?P<minutes>\d{1,9})M)?"
    r"(?:(?P<seconds>\d{1,10}(?:\.\d{1,9})?)S)?)?",
    re.IGNORECASE | re.ASCII,
)
_ERRORS_BY_STATUS: Final[Mapping[int, type[ShureApiError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    422: UnprocessableError,
    429: RateLimitedError,
}


def decode_json(data: bytes | str) -> object | None:
    """Decode JSON text, returning None (and logging) when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        log.warning("Shure API: ignoring non-JSON payload %.120r", data)
        return None


def parse_device_page(payload: object) -> DevicePage:
    """Parse a device list in any of its shapes: Relay page, bare array or `items`."""
    if isinstance(payload, list):
        return DevicePage(nodes=_parse_nodes(payload))
    mapping = _as_map(payload)
    if mapping is not None and isinstance(mapping.get("edges"), list):
        return _parse_relay_page(mapping)
    if mapping is not None and isinstance(mapping.get("items"), list):
        return DevicePage(nodes=_parse_nodes(_as_list(mapping["items"])))
    log.warning("Shure API: device list in an unknown shape: %.200r", payload)
    return DevicePage()


def parse_device_node(payload: object) -> DeviceNode | None:
    """Parse one DeviceNode (full, reduced DISCOVERED, or the flat probe shape)."""
    node = _as_map(payload)
    device_id = _pick_text(node, ("hardwareIdentity", "deviceId"), ("deviceId",))
    if node is None or not device_id:
        log.warning("Shure API: device node without a device id: %.200r", payload)
        return None
    return DeviceNode(
        device_id=device_id,
        state=_device_state(_pick_text(node, ("deviceState",), ("state",))),
        model=_pick_text(node, ("softwareIdentity", "model"), ("model",)),
        serial=_pick_text(node, ("hardwareIdentity", "serialNumber"), ("serial",)),
        firmware=_pick_text(node, ("softwareIdentity", "firmwareVersion"), ("firmware",)),
        address=_pick_text(node, ("communicationProtocol", "address"), ("address",)),
        compatibility=_pick_text(node, ("compatibility",)),
        capabilities=parse_capabilities(node.get("capabilities")),
    )


def parse_capabilities(payload: object) -> frozenset[str]:
    """Parse a capability list, keeping only the strings."""
    return frozenset(item for item in _as_list(payload) if isinstance(item, str))


def parse_audio_channels(payload: object) -> tuple[AudioChannel, ...]:
    """Parse an audio-channels answer (bare array or `items`)."""
    mapping = _as_map(payload)
    items = _as_list(mapping.get("items") if mapping is not None else payload)
    channels = (_parse_audio_channel(item) for item in items)
    return tuple(channel for channel in channels if channel is not None)


def decode_channel_id(channel_id: str) -> JsonMap | None:
    """Decode an audio-channel id (base64 of a JSON object), or None if it is opaque."""
    padded = channel_id + "=" * (-len(channel_id) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_" if "-" in padded or "_" in padded else None)
        decoded = orjson.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return _as_map(decoded)


def channel_index(channel_id: str) -> int | None:
    """Return the 0-based channel index carried in the id (`i`, or `index` on some models)."""
    decoded = decode_channel_id(channel_id)
    if decoded is None:
        return None
    index = _as_int(decoded.get("i", decoded.get("index")))
    return index if index is not None and index >= 0 else None


def parse_name(payload: object) -> str | None:
    """Parse a `{"name": ...}` answer or push body."""
    mapping = _as_map(payload)
    name = mapping.get("name") if mapping is not None else None
    return name if isinstance(name, str) else None


def parse_activity(payload: object) -> ActivityLevel | None:
    """Parse an `{"audioLevel": "LOW"|"GOOD"|"CLIPPING"}` answer or push body."""
    mapping = _as_map(payload)
    level = mapping.get("audioLevel") if mapping is not None else None
    if isinstance(level, str) and level.upper() in ActivityLevel.__members__:
        return ActivityLevel(level.upper())
    log.warning("Shure API: unknown audio activity %.120r", payload)
    return None


def parse_battery_level(payload: object) -> BatteryLevel | None:
    """Parse a battery-level answer: percentage plus charge state and time to target."""
    mapping = _as_map(payload)
    if mapping is None:
        log.warning("Shure API: battery level is not an object: %.120r", payload)
        return None
    status = _as_map(mapping.get("status")) or {}
    return BatteryLevel(
        percentage=_as_percent(mapping.get("percentage")),
        current_state=_text_or_none(status.get("currentState")),
        target_state=_text_or_none(status.get("targetState")),
        minutes_to_target=parse_duration_minutes(status.get("timeToTargetState")),
    )


def parse_battery_health(payload: object) -> BatteryHealth | None:
    """Parse a battery-health answer: health percentage and charge cycle count."""
    mapping = _as_map(payload)
    if mapping is None:
        log.warning("Shure API: battery health is not an object: %.120r", payload)
        return None
    return BatteryHealth(
        percentage=_as_percent(mapping.get("percentage")),
        cycle_count=_as_int(mapping.get("cycleCount")),
    )


def parse_duration_minutes(value: object) -> int | None:
    """Convert an ISO-8601 duration such as `PT385M` to whole minutes; None stays None."""
    if value is None:
        return None
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None or not any(match.groupdict().values()):
        log.warning("Shure API: not an ISO-8601 duration: %.60r", value)
        return None
    days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return int(days * 1440 + hours * 60 + minutes + seconds // 60)


def parse_frame(data: bytes | str) -> PushFrame | None:
    """Parse one WebSocket frame: the transportId greeting or an envelope+body event."""
    frame = _as_map(decode_json(data))
    if frame is None:
        return None
    transport_id = frame.get("transportId")
    if isinstance(transport_id, str) and transport_id:
        return TransportOpened(transport_id)
    if "envelope" in frame:
        return _parse_event(frame)
    log.warning("Shure API: ignoring unknown frame %.200r", data)
    return None


def api_error(status: int, body: bytes) -> ShureApiError | None:
    """Map an HTTP status (and its problem+json body) to an exception; None when it is OK."""
    if status < 400:
        return None
    error_class = _ERRORS_BY_STATUS.get(status, ShureApiError)
    return error_class(status, _problem_text(body))


def _parse_relay_page(page: JsonMap) -> DevicePage:
    edges = _as_list(page.get("edges"))
    nodes = _parse_nodes([edge.get("node") for edge in map(_as_map, edges) if edge is not None])
    info = _as_map(page.get("pageInfo")) or {}
    cursor = _text_or_none(info.get("endCursor"))
    return DevicePage(nodes=nodes, next_cursor=cursor if info.get("hasNextPage") is True else None)


def _parse_nodes(items: list[object]) -> tuple[DeviceNode, ...]:
    nodes = (parse_device_node(item) for item in items)
    return tuple(node for node in nodes if node is not None)


def _parse_audio_channel(item: object) -> AudioChannel | None:
    mapping = _as_map(item)
    channel_id = mapping.get("id") if mapping is not None else None
    if mapping is None or not isinstance(channel_id, str) or not channel_id:
        log.warning("Shure API: audio channel without an id: %.120r", item)
        return None
    return AudioChannel(
        channel_id=channel_id,
        index=channel_index(channel_id),
        capabilities=parse_capabilities(mapping.get("capabilities")),
    )


def _parse_event(frame: JsonMap) -> PushEvent | None:
    envelope = _as_map(frame.get("envelope")) or {}
    name = envelope.get("eventName")
    body = _as_map(frame.get("body"))
    device_id = _text_or_none(envelope.get("deviceId")) or _node_device_id(body)
    if not isinstance(name, str) or body is None or not device_id:
        log.warning("Shure API: ignoring incomplete event %.200r", frame)
        return None
    channel_id = _text_or_none(envelope.get("audioChannelId"))
    return PushEvent(name=name, device_id=device_id, audio_channel_id=channel_id, body=body)


def _node_device_id(body: JsonMap | None) -> str:
    # DEVICE_STATE_CHANGE carries a whole DeviceNode, so the id may only be in the body.
    return _pick_text(body, ("hardwareIdentity", "deviceId"), ("deviceId",))


def _problem_text(body: bytes) -> str:
    problem = _as_map(decode_json(body)) if body else None
    parts = [problem.get(key) for key in ("title", "detail")] if problem else []
    text = " - ".join(part for part in parts if isinstance(part, str) and part)
    return text or body[:200].decode("utf-8", errors="replace") or "no details"


def _device_state(value: str) -> DeviceState:
    if value.upper() in DeviceState.__members__:
        return DeviceState(value.upper())
    log.warning("Shure API: unknown device state %.40r", value)
    return DeviceState.UNKNOWN


def _pick_text(mapping: JsonMap | None, *paths: tuple[str, ...]) -> str:
    """Return the first string found along the given key paths, or ""."""
    for path in paths:
        value: object = mapping
        for key in path:
            inner = _as_map(value)
            value = inner.get(key) if inner is not None else None
        if isinstance(value, str) and value:
            return value
    return ""


def _as_map(value: object) -> JsonMap | None:
    return value if isinstance(value, Mapping) else None


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _as_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value == value and abs(value) < 2**53 else None  # drops NaN/inf


def _as_percent(value: object) -> int | None:
    number = _as_int(value)
    return number if number is not None and 0 <= number <= 100 else None


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
