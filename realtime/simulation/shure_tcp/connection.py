"""The simulator's side of one client connection, and the SET commands it accepts.

A connection keeps its own command buffer, METER_RATE per channel and the held-back
tail of a frame split across writes. The setters change a channel as a front panel
would and report False for a value the device rejects (it answers `< REP ERR >`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from realtime.protocols.shure_tcp.fields import to_int
from realtime.protocols.shure_tcp.parse import FrameSplitter
from realtime.simulation.shure_tcp.dynamics import Channel

MAX_UNTERMINATED_BYTES = 4096
Setter = Callable[[Channel, str], bool]


@dataclass(eq=False, slots=True)
class Connection:
    """One client: its command buffer, its meter schedule and a held-back split tail."""

    ident: int
    writer: asyncio.StreamWriter
    line_end: str
    splitter: FrameSplitter = field(default_factory=FrameSplitter)
    rates: dict[int, int] = field(default_factory=dict)  # channel -> METER_RATE ms
    due: dict[int, float] = field(default_factory=dict)  # channel -> loop time
    tail: str = ""
    unterminated: bytes = b""

    def commands(self, data: bytes) -> list[str]:
        """Return the command bodies completed by `data`; CRLF families act on whole lines."""
        if not self.line_end:
            return self.splitter.feed(data)
        lines, _, rest = (self.unterminated + data).rpartition(b"\n")
        self.unterminated = rest[-MAX_UNTERMINATED_BYTES:]
        return self.splitter.feed(lines) if lines else []


def _set_name(ch: Channel, value: str) -> bool:
    if len(value) > 8:  # SET takes at most 8 characters on every family
        return False
    ch.name = value
    return True


def _set_audio_mute(ch: Channel, value: str) -> bool:
    muted = {"ON": True, "OFF": False, "TOGGLE": not ch.audio_muted}.get(value.upper())
    if muted is None:
        return False
    ch.audio_muted = muted
    return True


def _set_gain(ch: Channel, value: str) -> bool:
    words = value.upper().split()
    step = {"INC": 1, "DEC": -1}.get(words[0], 0) if len(words) == 2 else 0
    amount = to_int(words[-1]) if words else None
    target = (ch.gain_raw + step * amount if step else amount) if amount is not None else None
    if target is None or not 0 <= target <= 60:
        return False
    ch.gain_raw = target
    return True


def _set_rf_mute(ch: Channel, value: str) -> bool:
    if value not in ("0", "1"):
        return False
    ch.power(value == "0")
    return True


SETTERS: dict[str, Setter] = {
    "CHAN_NAME": _set_name,
    "AUDIO_MUTE": _set_audio_mute,
    "AUDIO_GAIN": _set_gain,
    "RF_MUTE": _set_rf_mute,
}
