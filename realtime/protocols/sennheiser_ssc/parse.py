"""Turn SSCv2 JSON bodies and SSE bytes into Reading changes, without ever raising.

Every function here is pure: garbage is logged and skipped, so one bad frame from a device
can never take the poller down. Field changes are plain dicts keyed by `Reading` field name,
plus two private keys (`rx_af_peak`, `tx_af_peak`) that `ChannelState` folds into
`audio_clipped`, because the receiver and the transmitter each report their own AfPeak.
"""

from __future__ import annotations

import codecs
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson

from micboard.devices import ChannelInfo
from realtime.protocols.base import Reading
from realtime.protocols.sennheiser_ssc.wire import (
    CALCULATING_MINUTES,
    Located,
    Model,
    Resource,
    locate,
    model_by_product,
)

logger = logging.getLogger(__name__)

Changes = dict[str, object]

BATTERY_TYPES = {"Battery": "LION", "PrimaryCell": "ALKA", "NoBattery": None}
ANTENNAS = {0: None, 1: "A", 2: "B"}
_MAX_SSE_BUFFER = 1 << 20


def _number(value: object) -> float | None:
    """Return a finite JSON number as float; None for bools, strings, NaN and the rest."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        return None
    return number if math.isfinite(number) else None


def _value_of(body: object, what: str) -> float | None:
    """Read the `{"value": number}` wrapper the meter resources use; log garbage."""
    number = _number(body.get("value")) if isinstance(body, dict) else None
    if number is None:
        logger.warning("SSCv2 %s: expected {'value': number}, got %.200r", what, body)
    return number


def _is_unavailable(body: object) -> bool:
    """Tell whether a body means "no transmitter linked" (a 422 body, null or empty)."""
    return body is None or body == {} or (isinstance(body, dict) and "error" in body)


def parse_rssi(body: object) -> Changes:
    """Map `signalStrengthIndicator` (one post-diversity RSSI in dBm) onto rf_a_dbm."""
    value = _value_of(body, "signalStrengthIndicator")
    return {} if value is None else {"rf_a_dbm": round(value, 1)}


def parse_rsqi(body: object) -> Changes:
    """Map `signalQualityIndicator` (RSQI, percent) onto rf_quality 0..100."""
    value = _value_of(body, "signalQualityIndicator")
    return {} if value is None else {"rf_quality": max(0, min(100, round(value)))}


def parse_diversity(body: object) -> Changes:
    """Map `diversityIndicator` 0/1/2 onto antenna None/"A"/"B"."""
    value = _value_of(body, "diversityIndicator")
    if value is None or value not in ANTENNAS:
        if value is not None:
            logger.warning("SSCv2 diversityIndicator out of range: %r", value)
        return {}
    return {"antenna": ANTENNAS[int(value)]}


def parse_level(body: object) -> Changes:
    """Map the AF meter (`level`, dBFS) onto audio_rms_dbfs."""
    value = _value_of(body, "level")
    return {} if value is None else {"audio_rms_dbfs": round(value, 1)}


def parse_channel(body: object) -> Changes:
    """Take the user-set channel name from `/api/channel/{id}`."""
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        logger.warning("SSCv2 channel: no name in %.200r", body)
        return {}
    return {"channel_name": name.strip()}


def parse_rf_channel(body: object) -> Changes:
    """Take the carrier frequency (already in kHz on the wire) from `/api/rf/channels/{id}`."""
    frequency = _number(body.get("frequency")) if isinstance(body, dict) else None
    if frequency is None or frequency <= 0:
        logger.warning("SSCv2 rf channel: no frequency in %.200r", body)
        return {}
    return {"frequency_khz": int(frequency)}


def parse_transmitter(body: object) -> Changes:
    """Map `/api/transmitters/{id}` onto model, mute and trim; a 422 body means TX off."""
    if _is_unavailable(body):
        return {"tx_on": False, "tx_model": None, "tx_muted": None, "tx_offset_db": None}
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        logger.warning("SSCv2 transmitter: no type in %.200r", body)
        return {}
    changes: Changes = {"tx_on": True, "tx_model": body["type"]}
    if isinstance(body.get("mute"), bool):
        changes["tx_muted"] = body["mute"]
    trim = _number(body.get("trim"))
    if trim is not None:
        changes["tx_offset_db"] = trim
    return changes


def parse_transmitters(body: object) -> dict[int, Changes]:
    """Map the `/api/transmitters` collection to changes per linked 0-based id."""
    if not isinstance(body, list):
        logger.warning("SSCv2 transmitters: expected a list, got %.200r", body)
        return {}
    linked: dict[int, Changes] = {}
    for entry in body:
        index = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
            linked[index] = parse_transmitter(entry.get("transmitter"))
        else:
            logger.warning("SSCv2 transmitters: skipping entry %.200r", entry)
    return linked


def battery_bars(percent: int) -> int:
    """Step a charge percentage into the 0..5 bars micboard shows (a bar per 20 %)."""
    return max(0, min(5, (percent + 19) // 20))


def _battery_minutes(body: dict[str, object]) -> int | None:
    """Read `lifetime` minutes; None when unknown: calculating, 0, garbage or AA cells.

    A receiver reports 0 when it has no runtime to give, and on a PrimaryCell (AA) the
    number is no measurement, so neither may show as "0 min" or a confident runtime.
    """
    if body.get("type") == "PrimaryCell":
        return None
    lifetime = _number(body.get("lifetime"))
    if lifetime is None or not 0 < lifetime < CALCULATING_MINUTES:
        return None
    return int(lifetime)


def parse_battery(body: object) -> Changes:
    """Map `/api/transmitters/{id}/battery`; a 422 body means TX off and battery unknown."""
    unknown: Changes = {"battery_percent": None, "battery_bars": None, "battery_minutes": None}
    if _is_unavailable(body):
        return {**unknown, "battery_type": None, "tx_on": False}
    if not isinstance(body, dict):
        logger.warning("SSCv2 battery: expected an object, got %.200r", body)
        return {}
    changes: Changes = {**unknown, "tx_on": True, "battery_minutes": _battery_minutes(body)}
    changes["battery_type"] = BATTERY_TYPES.get(str(body.get("type")))
    gauge = _number(body.get("gauge"))
    if gauge is not None:
        percent = max(0, min(100, round(gauge)))
        changes.update(battery_percent=percent, battery_bars=battery_bars(percent))
    return changes


def parse_warnings(body: object) -> frozenset[str] | None:
    """Read a warnings array (a list of strings); None on anything else."""
    if not isinstance(body, list) or not all(isinstance(item, str) for item in body):
        logger.warning("SSCv2 warnings: expected a list of strings, got %.200r", body)
        return None
    return frozenset(body)


def parse_channel_warnings(body: object) -> Changes:
    """Map receiver warnings: NoLink means TX off, RfPeak interference, AfPeak a clip."""
    warnings = parse_warnings(body)
    if warnings is None:
        return {}
    return {
        "tx_on": "NoLink" not in warnings,
        "interference": "RfPeak" in warnings,
        "rx_af_peak": "AfPeak" in warnings,
    }


def parse_tx_warnings(body: object) -> Changes:
    """Map transmitter warnings: AfPeak is a clip (LowBattery is already in the gauge)."""
    if _is_unavailable(body):
        return {"tx_af_peak": False}
    warnings = parse_warnings(body)
    return {} if warnings is None else {"tx_af_peak": "AfPeak" in warnings}


_PARSERS: dict[Resource, Callable[[object], Changes]] = {
    Resource.CHANNEL: parse_channel,
    Resource.CHANNEL_WARNINGS: parse_channel_warnings,
    Resource.RSSI: parse_rssi,
    Resource.RSQI: parse_rsqi,
    Resource.DIVERSITY: parse_diversity,
    Resource.LEVEL: parse_level,
    Resource.RF_CHANNEL: parse_rf_channel,
    Resource.TRANSMITTER: parse_transmitter,
    Resource.BATTERY: parse_battery,
    Resource.TX_WARNINGS: parse_tx_warnings,
}


def parse_resource(path: str, body: object) -> dict[int, Changes]:
    """Map one resource path and its value onto changes per 0-based channel id."""
    located = locate(path)
    if located is None:
        logger.warning("SSCv2: ignoring unknown resource %.200r", path)
        return {}
    if located.resource is Resource.TRANSMITTERS:
        return parse_transmitters(body)
    return _parse_indexed(located, body)


def _parse_indexed(located: Located, body: object) -> dict[int, Changes]:
    """Run the per-channel parser for a located resource; device-level ones carry none."""
    parser = _PARSERS.get(located.resource)
    if parser is None or located.index is None:
        return {}
    changes = parser(body)
    return {located.index: changes} if changes else {}


def parse_message(values: dict[str, object]) -> dict[int, Changes]:
    """Merge every path of one SSE `message` event into changes per 0-based channel id."""
    merged: dict[int, Changes] = {}
    for path, body in values.items():
        for index, changes in parse_resource(path, body).items():
            merged.setdefault(index, {}).update(changes)
    return merged


@dataclass(frozen=True, slots=True)
class ChannelState:
    """The merged state of one channel: its Reading plus the two AfPeak sources."""

    reading: Reading
    rx_af_peak: bool = False
    tx_af_peak: bool = False

    def merged(self, changes: Changes) -> ChannelState:
        """Return the state with changes applied and audio_clipped recomputed."""
        fields = dict(changes)
        rx_af_peak = bool(fields.pop("rx_af_peak", self.rx_af_peak))
        tx_af_peak = bool(fields.pop("tx_af_peak", self.tx_af_peak))
        fields["audio_clipped"] = rx_af_peak or tx_af_peak
        return ChannelState(self.reading.with_changes(**fields), rx_af_peak, tx_af_peak)


# --- device-level resources ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """What `/api/device/identity` says about a receiver."""

    model: Model
    serial: str
    hardware_revision: str


def parse_identity(body: object) -> Identity | None:
    """Identify the receiver model from its product code; None if it is no EW-DX."""
    product = body.get("product") if isinstance(body, dict) else None
    model = model_by_product(product) if isinstance(product, str) else None
    if model is None or not isinstance(body, dict):
        logger.warning("SSCv2 identity: unknown product in %.200r", body)
        return None
    return Identity(model, _text(body.get("serial")), _text(body.get("hardwareRevision")))


def _text(value: object) -> str:
    """Return a JSON string as is and anything else as an empty string."""
    return value if isinstance(value, str) else ""


def parse_site_name(body: object) -> str:
    """Take the device name from `/api/device/site`; empty when missing."""
    return _text(body.get("deviceName")) if isinstance(body, dict) else ""


def parse_firmware(body: object) -> str:
    """Take the running firmware version from `/api/firmware/update/state`."""
    return _text(body.get("deviceVersion")) if isinstance(body, dict) else ""


def parse_device_state(body: object) -> tuple[str, frozenset[str]] | None:
    """Read `/api/device/state` as (state, warnings); None on garbage."""
    state = body.get("state") if isinstance(body, dict) else None
    warnings = parse_warnings(body.get("warnings", [])) if isinstance(body, dict) else None
    if not isinstance(state, str) or warnings is None:
        logger.warning("SSCv2 device state: unexpected %.200r", body)
        return None
    return state, warnings


def channel_info(index: int, channel_body: object, rf_body: object) -> ChannelInfo:
    """Describe 0-based channel `index` from its channel and rf channel bodies."""
    name = parse_channel(channel_body).get("channel_name")
    frequency = parse_rf_channel(rf_body).get("frequency_khz")
    return ChannelInfo(
        number=index + 1,
        name=name if isinstance(name, str) else "",
        frequency_khz=frequency if isinstance(frequency, int) else None,
    )


def parse_subscription_error(body: object) -> tuple[str, int] | None:
    """Read the `{path, error}` body of a refused subscription change; None on garbage."""
    path = body.get("path") if isinstance(body, dict) else None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(path, str) or not isinstance(error, int):
        return None
    return path, error


def parse_json(raw: bytes | str, what: str) -> object | None:
    """Decode JSON, logging and returning None when it is not valid."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        logger.warning("SSCv2 %s: invalid JSON %.200r", what, raw)
        return None


# --- server-sent events ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched server-sent event: its type and its (joined) data lines."""

    event: str
    data: str


@dataclass(slots=True)
class SseDecoder:
    """Split a byte stream into server-sent events, however the bytes are chunked.

    Follows the WHATWG event-stream rules the device uses: lines end in LF, CRLF or CR,
    `:` starts a comment, `data` lines accumulate, a blank line dispatches.
    """

    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace")
    )
    _pending: str = ""
    _event: str = ""
    _data: list[str] = field(default_factory=list)

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Consume the next chunk and return the events it completed."""
        text = self._pending + self._decoder.decode(chunk)
        # A CR at the very end may be the first half of a CRLF, so wait for the next byte.
        held = "\r" if text.endswith("\r") else ""
        text = text.removesuffix(held)
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._pending = lines.pop() + held
        if len(self._pending) > _MAX_SSE_BUFFER:
            logger.warning("SSCv2 SSE: dropping an unterminated %d-char line", len(self._pending))
            self._pending = ""
        return [event for event in map(self._take_line, lines) if event is not None]

    def _take_line(self, line: str) -> SseEvent | None:
        """Apply one complete line; return the event a blank line dispatches."""
        if not line:
            return self._dispatch()
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        """Emit the event gathered so far (events without data are dropped, per spec)."""
        event = SseEvent(self._event or "message", "\n".join(self._data)) if self._data else None
        self._event, self._data = "", []
        return event


@dataclass(frozen=True, slots=True)
class OpenEvent:
    """The first event of a subscription stream: the session it created."""

    session_uuid: str
    path: str


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A push: new values keyed by resource path (only what changed)."""

    values: dict[str, object]


@dataclass(frozen=True, slots=True)
class CloseEvent:
    """The device ended the session."""


SscEvent = OpenEvent | MessageEvent | CloseEvent


def parse_sse_event(event: SseEvent) -> SscEvent | None:
    """Interpret one SSE event of a subscription stream; None (logged) for garbage."""
    if event.event == "close":
        return CloseEvent()
    if event.event not in ("open", "message"):
        logger.warning("SSCv2 SSE: ignoring event type %.50r", event.event)
        return None
    body = parse_json(event.data, f"SSE {event.event}")
    if body is None:
        return None
    if not isinstance(body, dict):
        logger.warning("SSCv2 SSE: %s data is no JSON object: %.200r", event.event, event.data)
        return None
    return _open_event(body) if event.event == "open" else MessageEvent(body)


def _open_event(body: dict[str, object]) -> OpenEvent | None:
    """Build the open event from `{path, sessionUUID}`; None when the uuid is missing."""
    uuid = body.get("sessionUUID")
    if not isinstance(uuid, str) or not uuid:
        logger.warning("SSCv2 SSE: open event without sessionUUID: %.200r", body)
        return None
    return OpenEvent(uuid, _text(body.get("path")))


def session_uuid_from_location(location: str | None) -> str:
    """Take the session uuid from a Content-Location header (a bare uuid or a path)."""
    return (location or "").strip().rstrip("/").rpartition("/")[2]


def decode_events(decoder: SseDecoder, chunks: Iterable[bytes]) -> list[SscEvent]:
    """Feed chunks through a decoder and interpret every complete event."""
    events = (parse_sse_event(raw) for chunk in chunks for raw in decoder.feed(chunk))
    return [event for event in events if event is not None]
