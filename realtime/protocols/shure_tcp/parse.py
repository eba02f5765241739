"""Pure functions for Shure TCP 2202: bytes -> frames -> typed updates -> Readings.

Frames look like `< REP 1 BATT_BARS 004 >`. Devices send them back to back without line
breaks, so one read can hold several frames or half of one; `FrameSplitter` keeps the
unfinished tail. Strings sit in space-padded braces (`{Lead Vox}`). Nothing here does
I/O or raises on bad input: garbage is logged at debug level and skipped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import NamedTuple

from realtime.protocols.base import Reading
from realtime.protocols.shure_tcp.families import Family
from realtime.protocols.shure_tcp.fields import CHANNEL_PARAMS, SAMPLE_LAYOUTS, Param

logger = logging.getLogger(__name__)

MAX_FRAME_CHARS = 1024  # a real frame is under 200; a longer unfinished run is junk
MAX_CHANNEL = 8
KINDS = frozenset({"GET", "SET", "REP", "REPORT", "SAMPLE"})
DEVICE_KINDS = frozenset({"REP", "REPORT", "SAMPLE"})
_TOKEN = re.compile(r"\{([^}]*)\}?|([^\s{}]+)")


def report(reason: str, text: str) -> None:
    """Log a piece of input we skip, shortened so junk cannot flood the log."""
    logger.debug("shure_tcp: %s: %r", reason, text[:120])


class FrameSplitter:
    """Cut a byte stream into frame bodies (the text between `<` and `>`)."""

    __slots__ = ("_max", "_pending")

    def __init__(self, max_frame_chars: int = MAX_FRAME_CHARS) -> None:
        self._pending = ""
        self._max = max_frame_chars

    @property
    def pending(self) -> str:
        """Return the unfinished frame kept for the next feed."""
        return self._pending

    def feed(self, data: bytes) -> list[str]:
        """Return the bodies of the frames completed by `data`, in order."""
        pieces = (self._pending + data.decode("latin-1")).split(">")
        self._pending = self._keep_tail(pieces.pop())
        return [body for body in map(_frame_body, pieces) if body]

    def _keep_tail(self, tail: str) -> str:
        start = tail.rfind("<")
        if start < 0 or len(tail) - start > self._max:
            if tail.strip():
                report("dropped unframed bytes", tail)
            return ""
        return tail[start:]


def _frame_body(piece: str) -> str:
    """Return what follows the last `<` of a piece that ended at `>`; junk before it is dropped."""
    start = piece.rfind("<")
    junk = piece[:start] if start >= 0 else piece
    if junk.strip():
        report("dropped bytes outside a frame", piece)
    return piece[start + 1 :].strip() if start >= 0 else ""


class Frame(NamedTuple):
    """One frame, tokenised; a braced string is one token without braces or padding.

    A NamedTuple, as ChannelUpdate: one of each is made per meter line, thousands a
    second, and a tuple is built several times faster than a frozen dataclass.
    """

    kind: str  # GET, SET, REP, REPORT, SAMPLE
    channel: int | None  # None for device-level parameters; 0 means every channel
    param: str
    args: tuple[str, ...] = ()

    @property
    def value(self) -> str:
        """Return the arguments as one string, as a value of a plain parameter."""
        return " ".join(self.args)


def tokenize(body: str) -> list[str]:
    """Split a frame body on spaces, keeping `{padded string}` as one stripped token."""
    if "{" not in body:
        return body.split()
    return [bare or braced.strip() for braced, bare in _TOKEN.findall(body)]


def parse_frame(body: str) -> Frame | None:
    """Return the Frame in a body such as `REP 1 CHAN_NAME {Vox}`; None (logged) if malformed."""
    tokens = tokenize(body)
    if len(tokens) < 2 or tokens[0] not in KINDS:
        report("not a frame", body)
        return None
    channel = _channel(tokens[1])
    rest = tokens[2:] if channel is not None else tokens[1:]
    if not rest or (channel is not None and channel > MAX_CHANNEL):
        report("no parameter or bad channel", body)
        return None
    return Frame(tokens[0], channel, rest[0], tuple(rest[1:]))


def _channel(token: str) -> int | None:
    return int(token) if token.isascii() and token.isdigit() and len(token) <= 2 else None


class ChannelUpdate(NamedTuple):
    """Reading fields one frame sets on one channel; meters are always news."""

    channel: int
    changes: Mapping[str, object]
    meter: bool = False


@dataclass(frozen=True, slots=True)
class DeviceUpdate:
    """A device-level value such as FW_VER or DEVICE_ID."""

    param: str
    value: str


Update = ChannelUpdate | DeviceUpdate


def decode(frame: Frame, family: Family) -> Update | None:
    """Return what a frame from the device means; None (logged) when it means nothing."""
    if frame.kind not in DEVICE_KINDS or frame.param == "ERR":
        report("not an update", f"{frame.kind} {frame.param}")
        return None
    if frame.channel is None and frame.kind != "SAMPLE":
        return DeviceUpdate(frame.param, frame.value)
    if not frame.channel:
        report("no channel", f"{frame.kind} {frame.param}")
        return None
    if frame.kind == "SAMPLE":
        return _decode_sample(frame, family)
    return _decode_param(frame, family)


def decode_body(body: str, family: Family) -> Update | None:
    """Return the update in one frame body, or None when it holds none."""
    frame = parse_frame(body)
    return None if frame is None else decode(frame, family)


def _decode_sample(frame: Frame, family: Family) -> ChannelUpdate | None:
    layout = SAMPLE_LAYOUTS.get(family.key)
    changes = layout(frame.args) if layout is not None and frame.param == "ALL" else None
    if changes is None:
        report(f"bad {family.key} sample", " ".join((frame.param, *frame.args)))
        return None
    assert frame.channel is not None
    return ChannelUpdate(frame.channel, changes, meter=True)


def _decode_param(frame: Frame, family: Family) -> ChannelUpdate | None:
    param, value = _lookup(CHANNEL_PARAMS[family.key], frame)
    changes = param.decode(value) if param is not None else None
    if changes is None:
        report(f"unknown or bad {family.key} parameter", f"{frame.param} {frame.value}")
        return None
    assert frame.channel is not None
    return ChannelUpdate(frame.channel, changes, meter=param is not None and param.meter)


def _lookup(table: Mapping[str, Param], frame: Frame) -> tuple[Param | None, str]:
    """Find the entry for `PARAM index` (RSSI 1, SLOT_STATUS 3) or else for plain `PARAM`."""
    if frame.args:
        indexed = table.get(f"{frame.param} {frame.args[0]}")
        if indexed is not None:
            return indexed, " ".join(frame.args[1:])
    return table.get(frame.param), frame.value


ChannelFields = dict[str, object]  # one channel's Reading fields, all but `timestamp`

_MERGED_FIELDS = tuple(f.name for f in fields(Reading) if f.name != "timestamp")


def channel_fields(reading: Reading) -> ChannelFields:
    """Return a reading's fields as the mutable values merge_update works on."""
    return {name: getattr(reading, name) for name in _MERGED_FIELDS}


def merge_update(known: ChannelFields, update: ChannelUpdate) -> bool:
    """Merge the update into a channel's known fields; return True when it is news.

    Meters are always news (they refresh the time) but, on a channel whose transmitter is
    off, are the noise floor of an empty frequency rather than a link, so change nothing.
    Mutating one dict per channel instead of building a frozen Reading per frame keeps
    the poller's cost per meter line low; a Reading is built once per read.
    """
    if update.meter:
        if known.get("tx_on") is not False:
            known.update(update.changes)
        return True
    if all(known.get(name) == value for name, value in update.changes.items()):
        return False
    known.update(update.changes)
    return True


def apply_update(reading: Reading, update: ChannelUpdate) -> Reading:
    """Return the reading with the update merged; the same object when it is no news."""
    known = channel_fields(reading)
    return reading.with_changes(**known) if merge_update(known, update) else reading
