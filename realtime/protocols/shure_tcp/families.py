"""The Shure devices that speak TCP 2202: their families, wire traits and channel counts.

A family is a dialect of the protocol (ULX-D/QLX-D, Axient Digital, SLX-D, PSM1000); a
model is one product of a family with a fixed channel count. The parser, the client and
the simulator all read these tables, so a new model is one line here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Family:
    """How one product family frames and pads what it sends."""

    key: str  # the type key the original Micboard used: ulxd, axtd, slxd, p10t
    reply_keyword: str = "REP"
    line_end: str = ""  # what ends each frame; the PSM1000 wants CRLF
    meter_keyword: str = "SAMPLE"  # the PSM1000 meters through REPORT frames instead
    has_get_all: bool = True
    chan_name_width: int = 31  # brace padding; 0 means bare values
    device_id_width: int = 31
    firmware_width: int = 24
    frequency_digits: int = 7
    needs_controller_access: bool = False  # SLX-D ignores commands until allowed
    link_slots: bool = False  # SLX-D+ reports its transmitter through slot 1 (LINK_*)
    meter_rate_digits: int = 5  # METER_RATE zero padding; the PSM1000 takes bare numbers
    has_channel_zero: bool = True  # `0` addresses every channel; not on the PSM1000

    def meter_rate(self, interval_ms: int) -> str:
        """Return a METER_RATE value as this family writes it (0 is off)."""
        return str(interval_ms).zfill(self.meter_rate_digits)


ULXD = Family("ulxd", chan_name_width=8, device_id_width=8, firmware_width=18, frequency_digits=6)
AXIENT = Family("axtd")
SLXD = Family("slxd", device_id_width=8, firmware_width=24, needs_controller_access=True)
SLXD_PLUS = Family(
    "slxd", device_id_width=8, firmware_width=24, needs_controller_access=True, link_slots=True
)
PSM1000 = Family(
    "p10t",
    reply_keyword="REPORT",
    line_end="\r\n",
    meter_keyword="REPORT",
    has_get_all=False,
    chan_name_width=0,
    device_id_width=0,
    firmware_width=0,
    frequency_digits=6,
    meter_rate_digits=0,
    has_channel_zero=False,
)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One receiver model as the simulator plays it and discovery recognises it."""

    name: str
    family: Family
    channels: int
    model_reply: str = ""  # what `GET MODEL` answers; "" where the family has no MODEL
    tx_model: str = ""  # the transmitter the simulator links to each channel
    firmware: str = ""
    silent: frozenset[str] = frozenset()  # family parameters this model never answers


# What a QLX-D lacks of the ULX-D dialect; discovery tells them apart by HIGH_DENSITY.
QLXD_SILENT = frozenset(
    {"HIGH_DENSITY", "AUDIO_SUMMING_MODE", "FREQUENCY_DIVERSITY_MODE", "RF_INT_DET"}
)

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("ULXD4", ULXD, 1, tx_model="ULXD2", firmware="2.7.6.0"),
        ModelSpec("ULXD4D", ULXD, 2, tx_model="ULXD2", firmware="2.7.6.0"),
        ModelSpec("ULXD4Q", ULXD, 4, tx_model="ULXD2", firmware="2.7.6.0"),
        ModelSpec("QLXD4", ULXD, 1, tx_model="QLXD2", firmware="2.1.5", silent=QLXD_SILENT),
        ModelSpec("AD4D", AXIENT, 2, "AD4D-A", tx_model="AD2", firmware="1.1.43.0"),
        ModelSpec("AD4Q", AXIENT, 4, "AD4Q-A", tx_model="AD2", firmware="1.1.43.0"),
        ModelSpec("SLXD4", SLXD, 1, "SLXD4", tx_model="SLXD2", firmware="1.2.13.0"),
        ModelSpec("SLXD4D", SLXD, 2, "SLXD4D", tx_model="SLXD2", firmware="1.2.13.0"),
        ModelSpec("SLXD4+", SLXD_PLUS, 1, "SLXD4+", tx_model="SLXD2+", firmware="2.0.15.2"),
        ModelSpec("SLXD4D+", SLXD_PLUS, 2, "SLXD4D+", tx_model="SLXD2+", firmware="2.0.15.2"),
        ModelSpec("SLXD4Q+", SLXD_PLUS, 4, "SLXD4Q+", tx_model="SLXD2+", firmware="2.0.15.2"),
        ModelSpec("SLXD4DAN+", SLXD_PLUS, 2, "SLXD4DAN+", tx_model="SLXD2+", firmware="2.0.15.2"),
        ModelSpec("SLXD4QDAN+", SLXD_PLUS, 4, "SLXD4QDAN+", tx_model="SLXD2+", firmware="2.0.15.2"),
        ModelSpec("P10T", PSM1000, 2),
    )
}

_BAND_SUFFIX = re.compile(r"[-=]")

# Models with no MODEL parameter are told apart by how many channels answer.
ULX_MODEL_BY_CHANNELS = {1: "ULXD4", 2: "ULXD4D", 4: "ULXD4Q"}


def spec_for_model(text: str) -> ModelSpec | None:
    """Return the model a name stands for, as a device or an operator writes it.

    Takes a band or order suffix (`AD4Q-A` is an AD4Q, `ULXD4D=-G50` a ULXD4D), spaces and
    any case; the name before it must match exactly. None if unknown: a prefix match read
    `SLXD4Q+` as a one-channel SLXD4, so near misses are never guessed.
    """
    key = text.strip().upper().replace(" ", "")
    return MODELS.get(_BAND_SUFFIX.split(key, maxsplit=1)[0])
