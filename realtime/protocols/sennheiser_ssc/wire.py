"""Name the SSCv2 resources and models that both the client and the simulator speak.

Facts come from Sennheiser's "EW-DX service API" OpenAPI 1.7. Channel and transmitter ids
on the wire are 0-based; `Reading.channel` is 1-based.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

MAX_CHANNELS = 4
SUBSCRIPTIONS_PATH = "/api/ssc/state/subscriptions"
API_USER = "api"
VENDOR = "Sennheiser electronic SE & Co. KG"
MANUFACTURER = "Sennheiser"
# A runtime this large is the pack's "still calculating" placeholder, not minutes.
CALCULATING_MINUTES = 65534


class Resource(enum.Enum):
    """Every readable SSCv2 resource; `{}` stands for a channel or transmitter id."""

    VERSION = "/api/ssc/version"
    IDENTITY = "/api/device/identity"
    IDENTIFICATION = "/api/device/identification"
    SITE = "/api/device/site"
    STATE = "/api/device/state"
    FIRMWARE = "/api/firmware/update/state"
    RF = "/api/rf"
    TRANSMITTERS = "/api/transmitters"
    CHANNEL = "/api/channel/{}"
    CHANNEL_WARNINGS = "/api/channel/{}/warnings"
    RSSI = "/api/channel/{}/signalStrengthIndicator"
    RSQI = "/api/channel/{}/signalQualityIndicator"
    DIVERSITY = "/api/channel/{}/diversityIndicator"
    LEVEL = "/api/channel/{}/level"
    RF_CHANNEL = "/api/rf/channels/{}"
    TRANSMITTER = "/api/transmitters/{}"
    BATTERY = "/api/transmitters/{}/battery"
    TX_WARNINGS = "/api/transmitters/{}/warnings"

    @property
    def indexed(self) -> bool:
        """Tell whether the path carries a channel or transmitter id."""
        return "{}" in self.value

    def path(self, index: int | None = None) -> str:
        """Build the full `/api/...` path, filling in the 0-based id where there is one."""
        return self.value.format(index) if self.indexed else self.value


# What the client subscribes to for every channel, in the order it adds them.
CHANNEL_RESOURCES = (
    Resource.CHANNEL,
    Resource.CHANNEL_WARNINGS,
    Resource.RSSI,
    Resource.RSQI,
    Resource.DIVERSITY,
    Resource.LEVEL,
    Resource.RF_CHANNEL,
    Resource.TRANSMITTER,
    Resource.BATTERY,
    Resource.TX_WARNINGS,
)

_PATTERNS = {
    re.compile("^" + re.escape(resource.value).replace(r"\{\}", r"(\d{1,3})") + "$"): resource
    for resource in Resource
}


@dataclass(frozen=True, slots=True)
class Located:
    """A wire path resolved to its resource and (for per-channel resources) its id."""

    resource: Resource
    index: int | None = None


def locate(path: str) -> Located | None:
    """Resolve a path in either form the devices accept (`/api/x` or `/x`); None if unknown."""
    full = path if path.startswith("/api/") else "/api" + path
    for pattern, resource in _PATTERNS.items():
        match = pattern.match(full)
        if match:
            return Located(resource, int(match.group(1)) if match.groups() else None)
    return None


@dataclass(frozen=True, slots=True)
class Model:
    """One EW-DX receiver model: its marketing name, mDNS product code and channel count."""

    name: str
    product: str
    channels: int
    default_device_name: str


MODELS = (
    Model("EW-DX EM 2", "EWDX2CHS", 2, "EWDXEM2"),
    Model("EW-DX EM 2 DANTE", "EWDX2CHDS", 2, "EWDXEM2D"),
    Model("EW-DX EM 4 DANTE", "EWDX4CHDS", 4, "EWDXEM4D"),
)


def model_by_product(product: str) -> Model | None:
    """Find the model a device's `/api/device/identity` product code stands for."""
    return next((model for model in MODELS if model.product == product), None)


def model_by_name(name: str) -> Model:
    """Find a model by its name (case-insensitive); raise ValueError naming the choices."""
    for model in MODELS:
        if model.name.casefold() == name.strip().casefold():
            return model
    choices = ", ".join(model.name for model in MODELS)
    raise ValueError(f"unknown EW-DX model {name!r}; choose one of: {choices}")
