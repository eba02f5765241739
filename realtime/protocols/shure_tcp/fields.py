"""What each family's parameters and SAMPLE fields mean, as tables of small decoders.

A decoder turns one raw value into the `Reading` fields it sets: `{}` for a parameter we
recognise but do not show (gain, locks, encryption), None for a value that breaks the
encoding (the caller reports and skips it). Every "unknown" encoding (255, 65535, 65534
"calculating", 65533, `UNKN`, `U`, `XX`, `000000`) decodes to None, never to a number.
Units: dBm, dBFS, minutes, percent, kHz.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Changes = dict[str, object]
Decoder = Callable[[str], Changes | None]
SampleDecoder = Callable[[Sequence[str]], Changes | None]

UNKNOWN_3DIGIT = 255
CYCLES_VALID_MAX = 65532  # as the chargers' BATT_CYCLE [X: 65534/65535 read as unknown]
CHARGE_UNKNOWN_FROM = 252  # battery charge: 252 off, 253 not rechargeable, 254 unknown
MINUTES_VALID_MAX = 65532  # 65533 comm warning, 65534 calculating, 65535 unknown
UNKNOWN_WORDS = frozenset({"UNKN", "UNKNOWN", "U", ""})
ULX_PEAK_RAW = 40  # the original Micboard's peak mark on ULX-D meters (about -10 dBFS)
PSM_FULL_SCALE = float(1 << 23)  # undocumented; 24-bit linear puts Micboard's buckets at -58..-10


@dataclass(frozen=True, slots=True)
class Param:
    """How to read one channel parameter; meter values refresh like a SAMPLE does."""

    decode: Decoder
    meter: bool = False


def to_int(text: str) -> int | None:
    """Return the number in an ASCII digit string, or None for anything else."""
    return int(text) if text.isascii() and text.isdigit() else None


def _scaled(
    field: str,
    low: int,
    high: int,
    *,
    offset: int = 0,
    factor: int = 1,
    as_float: bool = False,
    unknown_from: int = UNKNOWN_3DIGIT,
) -> Decoder:
    """Decode a fixed-width number: `unknown_from`..255 is unknown, out of range is garbage."""

    def decode(text: str) -> Changes | None:
        raw = to_int(text)
        if raw is not None and unknown_from <= raw <= UNKNOWN_3DIGIT:
            return {field: None}
        if raw is None or not low <= raw <= high:
            return None
        value = (raw + offset) * factor
        return {field: float(value) if as_float else value}

    return decode


def _cycles(text: str) -> Changes | None:
    """Charge cycles, 5 digits; 65535 (and the receivers' other markers above 65532) unknown."""
    raw = to_int(text)
    if raw is None or raw > 65535:
        return None
    return {"battery_cycles": raw if raw <= CYCLES_VALID_MAX else None}


def _minutes(text: str) -> Changes | None:
    raw = to_int(text)
    if raw is None or raw > 65535:
        return None
    return {"battery_minutes": raw if raw <= MINUTES_VALID_MAX else None}


def _word(field: str, meanings: Mapping[str, object]) -> Decoder:
    """Decode a keyword value (ON, OFF, CRITICAL, …); unknown words are garbage."""

    def decode(text: str) -> Changes | None:
        word = text.strip().upper()
        if word in meanings:
            return {field: meanings[word]}
        return {field: None} if word in UNKNOWN_WORDS else None

    return decode


def _battery_type(text: str) -> Changes:
    kind = text.strip().upper()
    return {"battery_type": None if kind in UNKNOWN_WORDS else kind}


def _channel_name(text: str) -> Changes:
    return {"channel_name": " ".join(text.split())}


def decode_frequency(text: str) -> int | None:
    """Return kHz from `578350` (6 digits) or `0594075` (7, zero-padded); 0 is unknown."""
    return to_int(text.strip()) or None


def _frequency(text: str) -> Changes | None:
    raw = to_int(text.strip())
    return None if raw is None else {"frequency_khz": raw or None}


TX_ABSENT: Changes = {
    "tx_on": False,
    "tx_model": None,
    "tx_muted": None,
    "tx_offset_db": None,
    "battery_bars": None,
    "battery_percent": None,
    "battery_minutes": None,
    "battery_type": None,
    "rf_a_dbm": None,
    "rf_b_dbm": None,
    "antenna": None,
    "rf_quality": None,
    "audio_rms_dbfs": None,
    "audio_peak_dbfs": None,
    "audio_clipped": False,
}


def _tx_identity(text: str) -> Changes:
    """A transmitter model means it is on; UNKN means none is linked (it is off)."""
    model = text.strip()
    if model.upper() in UNKNOWN_WORDS:
        return dict(TX_ABSENT)
    return {"tx_on": True, "tx_model": model}


def _linked_tx_model(text: str) -> Changes:
    """SLX-D+ keeps naming a linked transmitter while it is off, so only LINK_STATUS says on."""
    model = text.strip()
    return dict(TX_ABSENT) if model.upper() in UNKNOWN_WORDS else {"tx_model": model}


def _link_status(text: str) -> Changes | None:
    """SLX-D+ slot 1: LINKED.ACTIVE is on; LINKED.INACTIVE (powered off) and EMPTY are off."""
    status = text.strip().upper()
    if status == "LINKED.ACTIVE":
        return {"tx_on": True}
    return dict(TX_ABSENT) if status in ("LINKED.INACTIVE", "EMPTY") else None


def _rf_mute(text: str) -> Changes | None:
    """PSM1000 `RF_MUTE 1` means the IEM transmitter is not transmitting."""
    muted = {"1": True, "ON": True, "0": False, "OFF": False}.get(text.strip().upper())
    if muted is None:
        return None
    return dict(TX_ABSENT, tx_on=False) if muted else {"tx_on": True}


def _rf_power(text: str) -> Changes | None:
    """PSM1000 `RF_TX_LVL` is the output power in mW (10, 50 or 100)."""
    milliwatts = to_int(text)
    return None if milliwatts is None or milliwatts <= 0 else {"rf_power_mw": milliwatts}


def psm_level_dbfs(raw: int) -> float:
    """Return dBFS for a PSM1000 AUDIO_IN_LVL amplitude (24-bit linear, floor -120)."""
    if raw <= 0:
        return -120.0
    return max(-120.0, min(0.0, round(20.0 * math.log10(raw / PSM_FULL_SCALE), 1)))


def _psm_level(text: str) -> Changes | None:
    raw = to_int(text)
    return None if raw is None else {"audio_rms_dbfs": psm_level_dbfs(raw)}


def antenna_from_status(status: str) -> str | None:
    """Return A or B for the first lit antenna of an Axient status string (B, R or X each).

    Blue means a good signal, red a weak one. With Quadversity's four antennas the
    order is not documented; odd positions read as A and even ones as B.
    """
    for lit in ("B", "R"):
        index = status.find(lit)
        if index >= 0:
            return "AB"[index % 2]
    return None


def _antenna_status(text: str) -> Changes | None:
    status = text.strip().upper()
    if not status or set(status) - {"B", "R", "X"}:
        return None
    return {"antenna": antenna_from_status(status)}


def _ignored(_text: str) -> Changes:
    return {}


IGNORED = Param(_ignored)
INTERFERENCE = {"NONE": False, "DETECTED": True}

ULX_PARAMS: dict[str, Param] = {
    "CHAN_NAME": Param(_channel_name),
    "FREQUENCY": Param(_frequency),
    "BATT_BARS": Param(_scaled("battery_bars", 0, 5)),
    "BATT_RUN_TIME": Param(_minutes),
    "BATT_CHARGE": Param(_scaled("battery_percent", 0, 100, unknown_from=CHARGE_UNKNOWN_FROM)),
    "BATT_TYPE": Param(_battery_type),
    "BATT_HEALTH": Param(_scaled("battery_health", 0, 100)),
    "BATT_CYCLE": Param(_cycles),
    "TX_TYPE": Param(_tx_identity),
    "TX_MUTE_STATUS": Param(_word("tx_muted", {"ON": True, "OFF": False})),
    "TX_OFFSET": Param(_scaled("tx_offset_db", 0, 21, as_float=True)),
    "RF_INT_DET": Param(_word("interference", {"NONE": False, "CRITICAL": True})),
    **dict.fromkeys(
        (
            "BATT_TEMP_C",
            "BATT_TEMP_F",
            "TX_MUTE_BUTTON_STATUS",
            "TX_RF_PWR",
            "TX_PWR_LOCK",
            "TX_MENU_LOCK",
            "TX_POWER_SOURCE",
            "AUDIO_MUTE",
            "AUDIO_GAIN",
            "GROUP_CHAN",
            "ENCRYPTION_WARNING",
            "METER_RATE",
            # Listed by Micboard but only ever seen in SAMPLE; never depend on them.
            "RX_RF_LVL",
            "AUDIO_LVL",
            "RF_ANTENNA",
        ),
        IGNORED,
    ),
}

AXIENT_PARAMS: dict[str, Param] = {
    "CHAN_NAME": Param(_channel_name),
    "FREQUENCY": Param(_frequency),
    "TX_BATT_BARS": Param(_scaled("battery_bars", 0, 5)),
    "TX_BATT_MINS": Param(_minutes),
    "TX_BATT_CHARGE_PERCENT": ULX_PARAMS["BATT_CHARGE"],  # 252..254 assumed as on ULX-D
    "TX_BATT_TYPE": Param(_battery_type),
    "TX_BATT_HEALTH_PERCENT": ULX_PARAMS["BATT_HEALTH"],
    "TX_BATT_CYCLE_COUNT": ULX_PARAMS["BATT_CYCLE"],
    "TX_MODEL": Param(_tx_identity),
    "TX_MUTE_MODE_STATUS": Param(_word("tx_muted", {"ON": False, "MUTE": True})),
    "TX_OFFSET": Param(_scaled("tx_offset_db", 0, 32, offset=-12, as_float=True)),
    "INTERFERENCE_STATUS": Param(_word("interference", INTERFERENCE)),
    "CHAN_QUALITY": Param(_scaled("rf_quality", 0, 5, factor=20)),
    "RSSI 1": Param(_scaled("rf_a_dbm", 0, 120, offset=-120, as_float=True), meter=True),
    "RSSI 2": Param(_scaled("rf_b_dbm", 0, 120, offset=-120, as_float=True), meter=True),
    "AUDIO_LEVEL_RMS": Param(
        _scaled("audio_rms_dbfs", 0, 120, offset=-120, as_float=True), meter=True
    ),
    "AUDIO_LEVEL_PEAK": Param(
        _scaled("audio_peak_dbfs", 0, 120, offset=-120, as_float=True), meter=True
    ),
    "ANTENNA_STATUS": Param(_antenna_status, meter=True),
    **dict.fromkeys(
        (
            "RSSI",  # antennas 3 and 4 of Quadversity: Reading has room for A and B only
            "TX_BATT_TEMP_C",
            "TX_BATT_TEMP_F",
            "TX_TALK_SWITCH",
            "TX_POWER_LEVEL",
            "TX_LOCK",
            "AUDIO_MUTE",
            "AUDIO_GAIN",
            "GROUP_CHANNEL",
            "ENCRYPTION_STATUS",
            "METER_RATE",
            "SLOT_STATUS",
            "SLOT_TX_MODEL",
            "SLOT_BATT_BARS",
            "SLOT_BATT_MINS",
            "SLOT_BATT_CHARGE_PERCENT",
            "SLOT_BATT_TYPE",
            "SLOT_RF_OUTPUT",
            "SLOT_RF_POWER",
            "SLOT_OFFSET",
        ),
        IGNORED,
    ),
}

SLXD_PARAMS: dict[str, Param] = {
    "CHAN_NAME": Param(_channel_name),
    "FREQUENCY": Param(_frequency),
    "TX_BATT_BARS": Param(_scaled("battery_bars", 0, 5)),
    "TX_BATT_MINS": Param(_minutes),
    "LINK_TX_BATT_MINS": Param(_minutes),  # SLX-D+, with or without the link index
    "LINK_TX_BATT_MINS 1": Param(_minutes),
    "TX_TYPE": Param(_tx_identity),
    "TX_MODEL": Param(_tx_identity),
    "LINK_TX_MODEL 1": Param(_linked_tx_model),
    "LINK_STATUS 1": Param(_link_status),
    "INTERFERENCE_STATUS": Param(_word("interference", INTERFERENCE)),
    "RSSI 1": Param(_scaled("rf_a_dbm", 0, 120, offset=-120, as_float=True), meter=True),
    "RSSI 2": Param(_scaled("rf_b_dbm", 0, 120, offset=-120, as_float=True), meter=True),
    "AUDIO_LEVEL_RMS": AXIENT_PARAMS["AUDIO_LEVEL_RMS"],
    "AUDIO_LEVEL_PEAK": AXIENT_PARAMS["AUDIO_LEVEL_PEAK"],
    **dict.fromkeys(
        ("AUDIO_GAIN", "GROUP_CHANNEL", "ENCRYPTION_STATUS", "METER_RATE"),
        IGNORED,
    ),
}

PSM1000_PARAMS: dict[str, Param] = {
    "CHAN_NAME": Param(_channel_name),
    "FREQUENCY": Param(_frequency),
    "RF_MUTE": Param(_rf_mute),
    "RF_TX_LVL": Param(_rf_power),
    # Reading has one audio level: the left input, which carries the mix in mono mode.
    "AUDIO_IN_LVL_L": Param(_psm_level, meter=True),
    **dict.fromkeys(
        (
            "AUDIO_IN_LVL_R",
            "AUDIO_IN_LVL",
            "GROUP_CHAN",
            "AUDIO_TX_MODE",
            "AUDIO_IN_LINE_LVL",
            "METER_RATE",
        ),
        IGNORED,
    ),
}

CHANNEL_PARAMS: dict[str, dict[str, Param]] = {
    "ulxd": ULX_PARAMS,
    "axtd": AXIENT_PARAMS,
    "slxd": SLXD_PARAMS,
    "p10t": PSM1000_PARAMS,
}

ULX_ANTENNAS = {"AX": "A", "XB": "B", "AB": "A", "XX": None}


def _levels(fields: Sequence[str], high: int) -> list[int] | None:
    """Return the fields as numbers when every one is a number in 0..high."""
    values = [to_int(text) for text in fields]
    if any(v is None or v > high for v in values):
        return None
    return [v for v in values if v is not None]


def ulx_sample(fields: Sequence[str]) -> Changes | None:
    """Decode ULX-D/QLX-D `ant rf aud`: one RF value (raw - 128 dBm), audio raw - 50 dBFS."""
    if len(fields) != 3 or fields[0] not in ULX_ANTENNAS:
        return None
    rf, audio = to_int(fields[1]), to_int(fields[2])
    if rf is None or audio is None or rf > 115 or audio > 50:
        return None
    return {
        "antenna": ULX_ANTENNAS[fields[0]],
        "rf_a_dbm": float(rf - 128),
        "audio_rms_dbfs": float(audio - 50),
        "audio_clipped": audio >= ULX_PEAK_RAW,
    }


def _quality(raw: int) -> int | None:
    return raw * 20 if raw <= 5 else None


def axient_sample(fields: Sequence[str]) -> Changes | None:
    """Decode Axient `qual bitmap peak rms ants (rfbitmap rssi)*n [FD-C section]`."""
    if len(fields) < 5:
        return None
    status = fields[4].upper()
    pairs = fields[5 : 5 + 2 * len(status)]
    head = _levels(fields[:4], 255)
    rssi = _levels(pairs[1::2], 120)
    if head is None or rssi is None or not status or len(pairs) < 2 * len(status):
        return None
    quality, bitmap, peak, rms = head
    if set(status) - {"B", "R", "X"} or max(peak, rms) > 120 or (quality > 5 and quality != 255):
        return None
    return {
        "rf_quality": _quality(quality),
        "audio_clipped": bool(bitmap & 0x80),
        "audio_peak_dbfs": float(peak - 120),
        "audio_rms_dbfs": float(rms - 120),
        "antenna": antenna_from_status(status),
        "rf_a_dbm": float(rssi[0] - 120),
        "rf_b_dbm": float(rssi[1] - 120) if len(rssi) > 1 else None,
    }


def slxd_sample(fields: Sequence[str]) -> Changes | None:
    """Decode SLX-D `peak rms rssi`, all offset by 120; a full-scale peak counts as a clip."""
    levels = _levels(fields, 120) if len(fields) == 3 else None
    if levels is None:
        return None
    peak, rms, rssi = levels
    return {
        "audio_peak_dbfs": float(peak - 120),
        "audio_rms_dbfs": float(rms - 120),
        "rf_a_dbm": float(rssi - 120),
        "audio_clipped": peak >= 120,
    }


SAMPLE_LAYOUTS: dict[str, SampleDecoder] = {
    "ulxd": ulx_sample,
    "axtd": axient_sample,
    "slxd": slxd_sample,
}
