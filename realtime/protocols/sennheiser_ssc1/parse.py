"""Turn SSCv1 JSON messages (Digital 6000 and, assumed alike, Digital 9000, SpeechLine and
EW-DX in legacy mode) into Reading fields per channel.

SSCv1 is Sennheiser Sound Control in its first form: one JSON object per UDP datagram, an
address tree where a get request names the leaves with `null` and the answer fills them
[V: Sennheiser TI 1109 v2.2 "SSC developer's guide for Digital 6000", method list]. What
the EM 6000 sends and how we read it:

- `{"mm": [[rf1, rf1peak, rf2, rf2peak, div1, div2, lqi, af, afpeak], [… channel 2]]}`: raw
  bytes; dBm = (rf - 255) / 2, dBFS = (af + 1) / 2 - 128, LQI 0..255 (255 best), DIV 1 =
  that antenna in use, PEAK 1 = a clip for at least a second [V: TI 1109 §8.100].
- `{"rx1": {"skx": {"battery": ["70%", "5:12"]}}}`: 100%, 70%, 30% or low, and h:mm or
  `-:--`; an empty list means no transmitter [V: TI 1109 §8.27].
- `{"rx1": {"active_warnings": ["NoLink", …]}}`: RFPeak, AFPeak, LowSignal, NoLink,
  LowBattery, … [V: TI 1109 §8.46]. NoLink reads as the transmitter off.
- `{"rx1": {"name": "VOX"}}`, `{"rx1": {"carrier": 606200}}` (kHz) [X: TI 1109's method
  list names both; Companion's Digital 6000 module reads them so].
- `{"device": {"identity": {"product": "EM6000" | "EM6000-Dante", "version": …}}}` [V: §8.103].

Decoders return per-channel changes; anything that breaks its encoding is skipped, never
raised, because one bad leaf must not hide the rest of the datagram.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from realtime.protocols.sennheiser_ssc1 import ewdx

Changes = dict[str, object]

# Receive channels and address tree per `/device/identity/product`: "d6000" is the tree
# TI 1109 describes for the EM 6000 [V]; "ewdx" is the EW-DX legacy tree (`ewdx.py`, [X]).
# Digital 9000 (TI 1247) and SpeechLine Digital Wireless (TI 1094) speak SSCv1 with trees
# of their own that we have no facts from, so they are not listed (read as an EM 6000
# they would show wrong values). The EW-DX product strings are SSCv2's [V]; that legacy
# mode names itself the same is assumed [S]. An admin's model name wins (`model_for`).
D6000, EWDX = "d6000", "ewdx"
MODELS: dict[str, tuple[int, str]] = {
    "EM6000": (2, D6000),  # Digital 6000 [V: TI 1109 §8.103]
    "EM6000-Dante": (2, D6000),  # [V: TI 1109 §8.103]
    "EWDX2CHS": (2, EWDX),  # EW-DX EM 2
    "EWDX2CHDS": (2, EWDX),  # EW-DX EM 2 Dante
    "EWDX4CHDS": (4, EWDX),  # EW-DX EM 4 Dante
}
CHANNELS = 2  # an EM 6000's; also what an unknown product is read as
METER_FIELDS = 9
BATTERY_STATES = {"100%": (100, 5), "70%": (70, 4), "30%": (30, 2), "low": (0, 1)}

TX_ABSENT: Changes = {
    "tx_on": False,
    "battery_bars": None,
    "battery_percent": None,
    "battery_minutes": None,
    "rf_a_dbm": None,
    "rf_b_dbm": None,
    "antenna": None,
    "rf_quality": None,
    "audio_rms_dbfs": None,
    "audio_peak_dbfs": None,
    "audio_clipped": False,
}


@dataclass
class Message:
    """One decoded datagram: meters and state changes per 1-based channel, and identity.

    Meters are kept apart because, on a channel without a transmitter, they are the noise
    of an empty frequency and must not bring back the levels its absence cleared.
    """

    meters: dict[int, Changes] = field(default_factory=dict)
    channels: dict[int, Changes] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)
    device_name: str | None = None

    def changes(self, channel: int) -> Changes:
        return self.channels.setdefault(channel, {})


def rf_dbm(raw: int) -> float:
    return (raw - 255) / 2


def af_dbfs(raw: int) -> float:
    return (raw + 1) / 2 - 128


def _byte(value: object) -> int | None:
    return (
        value
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255
        else None
    )


def meters(row: object) -> Changes | None:
    """Decode one channel's row of `/mm`; None when it is not nine bytes."""
    if not isinstance(row, list) or len(row) != METER_FIELDS:
        return None
    values = [_byte(v) for v in row]
    if any(v is None for v in values):
        return None
    # The RF peaks flag an overloaded RF stage, which a tile has no field for.
    rf1, _rf1_peak, rf2, _rf2_peak, div1, div2, lqi, af, af_peak = (int(v or 0) for v in values)
    antenna = "A" if div1 else "B" if div2 else None
    return {
        "rf_a_dbm": rf_dbm(rf1),
        "rf_b_dbm": rf_dbm(rf2),
        "antenna": antenna,
        "rf_quality": round(lqi * 100 / 255),
        "audio_rms_dbfs": af_dbfs(af),
        "audio_clipped": bool(af_peak),
    }


def battery(value: object) -> Changes | None:
    """Decode `/rxN/skx/battery`; [] is no transmitter."""
    if value == []:
        return dict(TX_ABSENT)
    if not isinstance(value, list) or len(value) != 2 or value[0] not in BATTERY_STATES:
        return None
    percent, bars = BATTERY_STATES[value[0]]
    return {
        "tx_on": True,
        "battery_percent": percent,
        "battery_bars": bars,
        "battery_minutes": _minutes(value[1]),
    }


def _minutes(text: object) -> int | None:
    """`5:12` is 312 minutes; `-:--` (or anything else) is unknown."""
    if not isinstance(text, str):
        return None
    hours, _, mins = text.partition(":")
    if not (hours.isdigit() and mins.isdigit() and len(mins) == 2):
        return None
    return int(hours) * 60 + int(mins)


def warnings(value: object) -> Changes | None:
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        return None
    if "NoLink" in value:
        return dict(TX_ABSENT)
    return {"tx_on": True, "audio_clipped": "AFPeak" in value}


def _receiver(node: dict[str, Any]) -> Changes:
    """Decode the leaves of one `rxN` node that a tile shows."""
    changes: Changes = {}
    if isinstance(node.get("name"), str):
        changes["channel_name"] = " ".join(node["name"].split())
    carrier = node.get("carrier")
    if isinstance(carrier, int) and not isinstance(carrier, bool) and carrier >= 0:
        changes["frequency_khz"] = carrier or None
    skx = node.get("skx")
    if isinstance(skx, dict) and "battery" in skx:
        changes.update(battery(skx["battery"]) or {})
    if "active_warnings" in node:
        changes.update(warnings(node["active_warnings"]) or {})
    return changes


def model_for(product: str | None) -> tuple[int, str]:
    """Return a product's channels and tree (spaces, dashes and case ignored)."""
    wanted = _plain(product or "")
    for name, model in MODELS.items():
        if _plain(name) == wanted:
            return model
    return CHANNELS, D6000


def _plain(name: str) -> str:
    return name.replace(" ", "").replace("-", "").upper()


def decode_message(
    datagram: bytes, channels: int = CHANNELS, tree_kind: str = D6000
) -> Message | None:
    """Decode one datagram of a device with `channels` channels and that address tree;
    None unless it is a JSON object."""
    try:
        tree = json.loads(datagram)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(tree, dict):
        return None
    message = Message()
    if tree_kind == EWDX:
        message.meters, message.channels = ewdx.decode(tree, channels)
        _device(tree.get("device"), message)
        return message
    rows = tree.get("mm")
    if isinstance(rows, list):
        for number, row in enumerate(rows[:channels], start=1):
            decoded = meters(row)
            if decoded is not None:
                message.meters[number] = decoded
    for number in range(1, channels + 1):
        node = tree.get(f"rx{number}")
        if isinstance(node, dict):
            message.changes(number).update(_receiver(node))
    _device(tree.get("device"), message)
    message.channels = {n: c for n, c in message.channels.items() if c}
    return message


def _device(node: object, message: Message) -> None:
    if not isinstance(node, dict):
        return
    if isinstance(node.get("name"), str):
        message.device_name = node["name"]
    identity = node.get("identity")
    if isinstance(identity, dict):
        message.identity = {k: v for k, v in identity.items() if isinstance(v, str)}
