"""Turn evolution wireless G3/G4 datagrams into Reading fields.

The receiver (an EM) answers and pushes plain ASCII lines ending in CR, several per datagram:
`Keyword param1 … paramN<CR>` [V: Sennheiser TI 1254 "Media control protocol for ew G4"
pp. 5, 9]. A push of the cyclic attributes always comes in one datagram in this order
[V: TI 1254 p. 9]:

    RF1 25 65 1      antenna 1: min %, max % since the last cycle, was it active
    RF2 28 78 0      antenna 2: the same
    States 3 2       (EM meaning not published in what we read: ignored) [S]
    RF 50 1 1        current RF %, active antenna (1|2), pilot tone seen (0|1)
    AF 40 65 3       current AF %, peak hold %, mute bits
    Bat 70           0, 30, 70, 100 or ? (no battery telegram)
    Msg Low_RF_Signal Low_Battery   warnings, or OK
    Config 234       configuration index (0..999, wraps)

Configuration attributes (`Name`, `Frequency`, `Mute`, `Squelch`, …) come as the answer to
their get request or, with `Push … 1|3|5|7`, whenever they change [V: TI 1254 pp. 8, 11].
G3 receivers speak the same commands on the same port by the accounts of open clients and
users; nothing here depends on a G4-only line [S].

Decoders return the Reading fields a line sets, `{}` for a line we recognise but do not
show, and None for a line that breaks its own encoding (the client skips it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

Changes = dict[str, object]

RF_DBUV_PER_PERCENT = 0.4  # 0 % = 0 dBµV, 100 % = 40 dBµV, more is possible [V: TI 1254 p. 26]
DBUV_TO_DBM = -107.0  # dBm = dBµV - 107 at the 50 Ω antenna input (physics; input impedance [S])
AF_FLOOR_DB = -50.0  # AF 0 % = -50 dB, 100 % = peak (full scale) [V: TI 1254 p. 30]
AF_DB_PER_PERCENT = 0.5
BATTERY_BARS = {0: 1, 30: 2, 70: 4, 100: 5}  # the EM's four steps as Micboard's 0..5 bars
MUTE_BIT_TX = 1 << 1  # AF mute state bits [V: TI 1254 p. 30]; bit 0 is "any of these"
MUTE_BIT_RF = 1 << 2  # RF mute: no carrier above squelch, so the transmitter is off or away
MAX_PERCENT = 999  # "greater than 100 % possible"; the bound only guards against garbage
CONFIG_INDEX_MAX = 999  # [V: TI 1254 p. 8]

TX_ABSENT: Changes = {
    "tx_on": False,
    "tx_muted": None,
    "battery_bars": None,
    "battery_percent": None,
    "rf_a_dbm": None,
    "rf_b_dbm": None,
    "antenna": None,
    "audio_rms_dbfs": None,
    "audio_peak_dbfs": None,
    "audio_clipped": False,
}

# Lines that are real but carry nothing a tile shows: echoes and settings.
IGNORED_KEYWORDS = frozenset(
    {"Push", "States", "Mute", "Squelch", "AF_Out", "Equalizer", "Sensitivity", "Mode"}
)


@dataclass(frozen=True, slots=True)
class Line:
    """One decoded line: the Reading fields it sets and, for `Config`, the index."""

    keyword: str
    changes: Changes = field(default_factory=dict)
    config_index: int | None = None


def split_lines(datagram: bytes) -> Iterator[str]:
    """Yield the non-empty lines of one datagram; undecodable bytes become U+FFFD."""
    text = datagram.decode("ascii", errors="replace")
    for line in text.replace("\n", "\r").split("\r"):
        line = line.strip()
        if line:
            yield line


def _percent(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) <= MAX_PERCENT else None


def rf_dbm(percent: int) -> float:
    """Return dBm for an EM RF level in percent of 40 dBµV."""
    return round(percent * RF_DBUV_PER_PERCENT + DBUV_TO_DBM, 1)


def af_dbfs(percent: int) -> float:
    """Return dBFS for an EM AF level in percent (0 % = -50 dB, 100 % = full scale)."""
    return min(0.0, AF_FLOOR_DB + percent * AF_DB_PER_PERCENT)


def _antenna_level(field_name: str, params: list[str]) -> Changes | None:
    """`RF1 min max active` / `RF2 …`: the cycle's strongest level stands for the antenna."""
    if len(params) != 3 or params[2] not in ("0", "1"):
        return None
    low, high = _percent(params[0]), _percent(params[1])
    if low is None or high is None:
        return None
    return {field_name: rf_dbm(high)}


def _current_rf(params: list[str]) -> Changes | None:
    """`RF level antenna pilot`: which antenna is in use now (1 = A, 2 = B)."""
    if len(params) != 3 or _percent(params[0]) is None or params[2] not in ("0", "1"):
        return None
    antenna = {"1": "A", "2": "B"}.get(params[1])
    return None if antenna is None else {"antenna": antenna}


def _audio(params: list[str]) -> Changes | None:
    """`AF level peakhold mutebits`: levels, TX mute, and RF mute meaning no transmitter."""
    if len(params) != 3:
        return None
    level, hold = _percent(params[0]), _percent(params[1])
    bits = int(params[2]) if params[2].isascii() and params[2].isdigit() else None
    if level is None or hold is None or bits is None or bits > 0xF:
        return None
    if bits & MUTE_BIT_RF:
        return dict(TX_ABSENT)
    return {
        "tx_on": True,
        "tx_muted": bool(bits & MUTE_BIT_TX),
        "audio_rms_dbfs": af_dbfs(level),
        "audio_peak_dbfs": af_dbfs(max(level, hold)),
    }


def _battery(params: list[str]) -> Changes | None:
    """`Bat 0|30|70|100|?`; `?` means no battery telegram came (unknown, not empty)."""
    if params == ["?"]:
        return {"battery_percent": None, "battery_bars": None}
    percent = _percent(params[0]) if len(params) == 1 else None
    if percent not in BATTERY_BARS:
        return None
    return {"battery_percent": percent, "battery_bars": BATTERY_BARS[percent]}


def _warnings(params: list[str]) -> Changes | None:
    """`Msg OK` or the active warnings; AF_Peak is the clip a tile flags."""
    if not params:
        return None
    return {"audio_clipped": "AF_Peak" in params}


def _name(params: list[str]) -> Changes:
    return {"channel_name": " ".join(params)}


def _frequency(params: list[str]) -> Changes | None:
    """`Frequency kHz bank channel` (bank and channel 0 for the user bank U1.0)."""
    if not params or not (params[0].isascii() and params[0].isdigit()):
        return None
    return {"frequency_khz": int(params[0]) or None}


def _config(params: list[str]) -> Line | None:
    if len(params) != 1 or not (params[0].isascii() and params[0].isdigit()):
        return None
    index = int(params[0])
    return Line("Config", config_index=index) if index <= CONFIG_INDEX_MAX else None


_DECODERS = {
    "RF1": lambda p: _antenna_level("rf_a_dbm", p),
    "RF2": lambda p: _antenna_level("rf_b_dbm", p),
    "RF": _current_rf,
    "AF": _audio,
    "Bat": _battery,
    "Msg": _warnings,
    "Name": _name,
    "Frequency": _frequency,
}


def decode_line(line: str) -> Line | None:
    """Decode one line; None for an error reply, an unknown keyword or a broken value.

    Error replies look like `1020: Value out of range [ Frequency 56 2 9 ]`
    [V: TI 1254 p. 16]; they name our own bad command, never the receiver's state.
    """
    keyword, *params = line.split()
    if keyword == "Config":
        return _config(params)
    if keyword in IGNORED_KEYWORDS:
        return Line(keyword)
    decode = _DECODERS.get(keyword)
    if decode is None:
        return None
    changes = decode(params)
    return None if changes is None else Line(keyword, changes)


def decode_datagram(datagram: bytes) -> list[Line]:
    """Decode every line of a datagram, skipping those that do not decode."""
    return [line for text in split_lines(datagram) if (line := decode_line(text)) is not None]
