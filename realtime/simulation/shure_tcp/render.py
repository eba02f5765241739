"""How the simulator writes a channel's state in each family's wire format.

Three tables per family: `STATE` (pushed as REP whenever the value changes, and part of
`GET n ALL`), `LIVE` (metered values a GET can ask for but that never push) and the meter
frames sent at METER_RATE. Widths and sentinels follow the reference: 255 for an unknown
3-digit value, 65535/65534 for unknown/calculating minutes, braces padded to the width.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from realtime.protocols.shure_tcp.families import ModelSpec
from realtime.simulation.shure_tcp.dynamics import Channel, Meters

Renderer = Callable[[Channel, ModelSpec], str]
LiveRenderer = Callable[[Meters], str]
MeterRenderer = Callable[[Meters], list[tuple[str, str]]]

UNKNOWN_MINUTES = "65535"
CALCULATING_MINUTES = "65534"
RF_STEPS_DBM = (-90.0, -83.0, -77.0, -70.0, -25.0)  # bars 1..5, as Shure's meters show
AUDIO_LED_DBFS = (-50.0, -40.0, -30.0, -20.0, -12.0, -6.0)
AXIENT_OVERLOAD_BIT = 0x80
WEAK_RF_DBM = -85.0  # an Axient antenna LED turns red below this
# An AD4Q with no transmitter still meters peak 005 and RMS 033 (-115 and -87 dBFS):
# the real capture in karlcswanson/micboard docs/api.md.
AXIENT_NO_TX_AUDIO = ("005", "033")


@dataclass(frozen=True, slots=True)
class Identity:
    """Device-level values: the user-set ID, firmware and RF band."""

    device_id: str
    firmware: str
    rf_band: str = "G57"


def brace(text: str, width: int) -> str:
    """Return `{text}` space-padded to `width`, or the bare text where width is 0."""
    return "{" + text[:width].ljust(width) + "}" if width else text


def num3(value: int | None) -> str:
    """Return a 3-digit field; None becomes 255, the unknown marker."""
    return "255" if value is None else f"{max(0, min(254, value)):03d}"


def raw_level(dbm_or_dbfs: float, offset: int, high: int) -> int:
    """Return a level as the device counts it: value + offset, clamped to 0..high."""
    return max(0, min(high, round(dbm_or_dbfs + offset)))


def rf_steps(dbm: float) -> int:
    """Return 0..5 segments for an RF level (also Axient's 0..5 link quality)."""
    return sum(dbm >= step for step in RF_STEPS_DBM)


def _when_on(value: str, unknown: str = "UNKN") -> Renderer:
    return lambda ch, spec: value if ch.tx_on else unknown


def _bars(ch: Channel, spec: ModelSpec) -> str:
    return num3(ch.battery.bars if ch.tx_on else None)


def _runtime(ch: Channel, spec: ModelSpec) -> str:
    if not ch.tx_on or not ch.battery.rechargeable:
        return UNKNOWN_MINUTES
    if ch.battery.calculating_minutes > 0:
        return CALCULATING_MINUTES
    return f"{int(ch.battery.minutes):05d}"


def _rechargeable(value: Callable[[Channel], int], digits: int = 3) -> Renderer:
    """Render a pack value only Shure rechargeables report; unknown otherwise."""

    def render(ch: Channel, spec: ModelSpec) -> str:
        if not ch.tx_on or not ch.battery.rechargeable:
            return "255" if digits == 3 else UNKNOWN_MINUTES
        return f"{value(ch):0{digits}d}"

    return render


def _battery_kind(ch: Channel, spec: ModelSpec) -> str:
    return ch.battery.kind if ch.tx_on else "UNKN"


def _tx_model(unknown: str) -> Renderer:
    return lambda ch, spec: ch.tx_model if ch.tx_on else unknown


def _name(ch: Channel, spec: ModelSpec) -> str:
    return brace(ch.name, spec.family.chan_name_width)


def _frequency(ch: Channel, spec: ModelSpec) -> str:
    return f"{ch.frequency_khz:0{spec.family.frequency_digits}d}"


def _on_off(flag: Callable[[Channel], bool]) -> Renderer:
    return lambda ch, spec: "ON" if flag(ch) else "OFF"


def _tx_word(on: str, off: str, flag: Callable[[Channel], bool], unknown: str) -> Renderer:
    return lambda ch, spec: (on if flag(ch) else off) if ch.tx_on else unknown


def _fixed(value: str) -> Renderer:
    return lambda ch, spec: value


def _ulx_offset(ch: Channel, spec: ModelSpec) -> str:
    return num3(ch.tx_offset_db if ch.tx_on else None)


def _axient_offset(ch: Channel, spec: ModelSpec) -> str:
    return num3(ch.tx_offset_db + 12 if ch.tx_on else None)


def _slot_status(ch: Channel, spec: ModelSpec) -> str:
    return "LINKED.ACTIVE" if ch.tx_on else "LINKED.INACTIVE"


COMMON: dict[str, Renderer] = {
    "CHAN_NAME": _name,
    "FREQUENCY": _frequency,
    "AUDIO_GAIN": lambda ch, spec: f"{ch.gain_raw:03d}",
}

ULX_STATE: dict[str, Renderer] = {
    **COMMON,
    "GROUP_CHAN": _fixed("--,--"),
    "AUDIO_MUTE": _on_off(lambda ch: ch.audio_muted),
    "BATT_BARS": _bars,
    "BATT_RUN_TIME": _runtime,
    "BATT_CHARGE": _rechargeable(lambda ch: round(ch.battery.percent)),
    "BATT_HEALTH": _rechargeable(lambda ch: ch.battery.health),
    "BATT_CYCLE": _rechargeable(lambda ch: ch.battery.cycles, digits=5),
    "BATT_TEMP_C": _rechargeable(lambda ch: ch.battery.temp_c + 40),
    "BATT_TEMP_F": _rechargeable(lambda ch: round(ch.battery.temp_c * 9 / 5 + 32) + 40),
    "BATT_TYPE": _battery_kind,
    "TX_TYPE": _tx_model("UNKN"),
    "TX_MUTE_STATUS": _tx_word("ON", "OFF", lambda ch: ch.tx_muted, "UNKN"),
    "TX_MUTE_BUTTON_STATUS": _when_on("RELEASED"),
    "TX_OFFSET": _ulx_offset,
    "TX_RF_PWR": _when_on("NORMAL"),
    "TX_PWR_LOCK": _when_on("OFF"),
    "TX_MENU_LOCK": _when_on("OFF"),
    "TX_POWER_SOURCE": _when_on("BATTERY"),
    "RF_INT_DET": lambda ch, spec: "CRITICAL" if ch.interference else "NONE",
    "ENCRYPTION_WARNING": _fixed("OFF"),
}

NO_GROUP_CHANNEL = brace("--,--", 5)  # AD and SLX brace it; ULX-D's GROUP_CHAN is bare

AXIENT_STATE: dict[str, Renderer] = {
    **COMMON,
    "GROUP_CHANNEL": _fixed(NO_GROUP_CHANNEL),
    "AUDIO_MUTE": _on_off(lambda ch: ch.audio_muted),
    "TX_BATT_BARS": _bars,
    "TX_BATT_MINS": _runtime,
    "TX_BATT_CHARGE_PERCENT": _rechargeable(lambda ch: round(ch.battery.percent)),
    "TX_BATT_HEALTH_PERCENT": _rechargeable(lambda ch: ch.battery.health),
    "TX_BATT_CYCLE_COUNT": _rechargeable(lambda ch: ch.battery.cycles, digits=5),
    "TX_BATT_TEMP_C": _rechargeable(lambda ch: ch.battery.temp_c + 40),
    "TX_BATT_TEMP_F": _rechargeable(lambda ch: round(ch.battery.temp_c * 9 / 5 + 32) + 40),
    "TX_BATT_TYPE": _battery_kind,
    "TX_MODEL": _tx_model("UNKNOWN"),
    "TX_MUTE_MODE_STATUS": _tx_word("MUTE", "ON", lambda ch: ch.tx_muted, "UNKNOWN"),
    "TX_TALK_SWITCH": _when_on("RELEASED", "UNKNOWN"),
    "TX_OFFSET": _axient_offset,
    "TX_POWER_LEVEL": lambda ch, spec: num3(10 if ch.tx_on else None),
    "TX_LOCK": _when_on("NONE", "UNKNOWN"),
    "INTERFERENCE_STATUS": lambda ch, spec: "DETECTED" if ch.interference else "NONE",
    "ENCRYPTION_STATUS": _fixed("OK"),
    "SLOT_STATUS 1": _slot_status,
    **{f"SLOT_STATUS {slot}": _fixed("EMPTY") for slot in range(2, 9)},
}

SLXD_STATE: dict[str, Renderer] = {
    **COMMON,
    "GROUP_CHANNEL": _fixed(NO_GROUP_CHANNEL),
    "TX_BATT_BARS": _bars,
    "TX_BATT_MINS": _runtime,
    "TX_TYPE": _tx_model("UNKN"),
}

SLXD_PLUS_STATE: dict[str, Renderer] = {
    **{key: render for key, render in SLXD_STATE.items() if key != "TX_TYPE"},
    # A linked transmitter keeps its model while off; only the link status changes.
    "LINK_TX_MODEL 1": lambda ch, spec: ch.tx_model,
    "LINK_STATUS 1": _slot_status,
    "LINK_TX_BATT_MINS 1": _runtime,
    "INTERFERENCE_STATUS": AXIENT_STATE["INTERFERENCE_STATUS"],
    "ENCRYPTION_STATUS": _fixed("OK"),
}

PSM1000_STATE: dict[str, Renderer] = {
    "CHAN_NAME": _name,
    "FREQUENCY": _frequency,
    "GROUP_CHAN": _fixed("--,--"),
    "AUDIO_IN_LVL": _fixed("-10"),
    "RF_TX_LVL": _fixed("50"),
    "RF_MUTE": lambda ch, spec: "0" if ch.tx_on else "1",
    "AUDIO_TX_MODE": _fixed("3"),
    "AUDIO_IN_LINE_LVL": _fixed("0"),
}

STATE: dict[str, dict[str, Renderer]] = {
    "ulxd": ULX_STATE,
    "axtd": AXIENT_STATE,
    "slxd": SLXD_STATE,
    "p10t": PSM1000_STATE,
}


def state_renderers(spec: ModelSpec) -> dict[str, Renderer]:
    """Return the REP state table a model pushes: its family's, less what it lacks."""
    family = spec.family
    table = SLXD_PLUS_STATE if family.link_slots else STATE[family.key]
    return {key: render for key, render in table.items() if key not in spec.silent}


def _antenna_status(m: Meters) -> str:
    if m.antenna is None:
        return "XX"
    lit = "R" if m.rf_dbm < WEAK_RF_DBM else "B"
    return lit + "X" if m.antenna == "A" else "X" + lit


def _audio_bitmap(m: Meters) -> int:
    leds = sum(1 << i for i, step in enumerate(AUDIO_LED_DBFS) if m.peak_dbfs >= step)
    return leds | (AXIENT_OVERLOAD_BIT if m.clipped else 0)


def _quality(m: Meters) -> str:
    return num3(rf_steps(m.rf_dbm) if m.antenna else None)


def _rssi_pair(dbm: float, lit: bool) -> str:
    bitmap = (1 << rf_steps(dbm)) - 1 if lit else 0
    return f"{bitmap:02d} {raw_level(dbm, 120, 120):03d}"


def _psm_amplitude(dbfs: float) -> str:
    return f"{round((1 << 23) * 10 ** (dbfs / 20.0)):011d}"


AXIENT_LIVE: dict[str, LiveRenderer] = {
    "RSSI 1": lambda m: f"{raw_level(m.rf_a_dbm, 120, 120):03d}",
    "RSSI 2": lambda m: f"{raw_level(m.rf_b_dbm, 120, 120):03d}",
    "AUDIO_LEVEL_RMS": lambda m: f"{raw_level(m.rms_dbfs, 120, 120):03d}",
    "AUDIO_LEVEL_PEAK": lambda m: f"{raw_level(m.peak_dbfs, 120, 120):03d}",
    "ANTENNA_STATUS": _antenna_status,
    "CHAN_QUALITY": _quality,
}

LIVE: dict[str, dict[str, LiveRenderer]] = {
    "ulxd": {},  # RF, audio and antenna come only in SAMPLE
    "axtd": AXIENT_LIVE,
    "slxd": {
        "RSSI 1": lambda m: f"{raw_level(m.rf_dbm, 120, 120):03d}",
        "AUDIO_LEVEL_RMS": AXIENT_LIVE["AUDIO_LEVEL_RMS"],
        "AUDIO_LEVEL_PEAK": AXIENT_LIVE["AUDIO_LEVEL_PEAK"],
    },
    "p10t": {
        "AUDIO_IN_LVL_L": lambda m: _psm_amplitude(m.rms_dbfs),
        "AUDIO_IN_LVL_R": lambda m: _psm_amplitude(m.rms_dbfs - 1.5),
    },
}


def _ulx_sample(m: Meters) -> list[tuple[str, str]]:
    antenna = {"A": "AX", "B": "XB", None: "XX"}[m.antenna]
    audio = 50 if m.clipped else raw_level(m.rms_dbfs, 50, 50)
    return [("ALL", f"{antenna} {raw_level(m.rf_dbm, 128, 115):03d} {audio:03d}")]


def _axient_audio(m: Meters) -> tuple[str, str]:
    """Return raw peak and RMS; with no carrier, the receiver's own noise, as captured."""
    if m.antenna is None:
        return AXIENT_NO_TX_AUDIO
    return f"{raw_level(m.peak_dbfs, 120, 120):03d}", f"{raw_level(m.rms_dbfs, 120, 120):03d}"


def _axient_sample(m: Meters) -> list[tuple[str, str]]:
    status = _antenna_status(m)
    fields = (
        _quality(m),
        f"{_audio_bitmap(m):03d}",
        *_axient_audio(m),
        status,
        _rssi_pair(m.rf_a_dbm, status[0] != "X"),
        _rssi_pair(m.rf_b_dbm, status[1] != "X"),
    )
    return [("ALL", " ".join(fields))]


def _slxd_sample(m: Meters) -> list[tuple[str, str]]:
    peak = 120 if m.clipped else raw_level(m.peak_dbfs, 120, 119)
    rms = raw_level(m.rms_dbfs, 120, 120)
    return [("ALL", f"{peak:03d} {rms:03d} {raw_level(m.rf_dbm, 120, 120):03d}")]


def _psm_levels(m: Meters) -> list[tuple[str, str]]:
    return [(name, render(m)) for name, render in LIVE["p10t"].items()]


METER_FRAMES: dict[str, MeterRenderer] = {
    "ulxd": _ulx_sample,
    "axtd": _axient_sample,
    "slxd": _slxd_sample,
    "p10t": _psm_levels,
}


def device_params(spec: ModelSpec, identity: Identity) -> dict[str, str]:
    """Return the device-level parameters `spec` answers, rendered."""
    family = spec.family
    firmware = brace(identity.firmware, family.firmware_width)
    device_id = brace(identity.device_id, family.device_id_width)
    by_family: dict[str, dict[str, str]] = {
        "ulxd": {
            "FW_VER": firmware,
            "DEVICE_ID": device_id,
            "ENCRYPTION": "OFF",
            "HIGH_DENSITY": "OFF",
            "AUDIO_SUMMING_MODE": "OFF",
            "FREQUENCY_DIVERSITY_MODE": "OFF",
            "FLASH": "OFF",
        },
        "axtd": {
            "MODEL": brace(spec.model_reply, 32),
            "RF_BAND": identity.rf_band,
            "FW_VER": firmware,
            "DEVICE_ID": device_id,
            "QUADVERSITY_MODE": "OFF",
            "TRANSMISSION_MODE": "STANDARD",
            "ENCRYPTION_MODE": "OFF",
        },
        "slxd": {
            "MODEL": brace(spec.model_reply, 32),
            "RF_BAND": identity.rf_band,
            "FW_VER": firmware,
            "DEVICE_ID": device_id,
            "LOCK_STATUS": "OFF",
        },
        "p10t": {"DEVICE_NAME": identity.device_id},
    }
    return {key: value for key, value in by_family[family.key].items() if key not in spec.silent}
