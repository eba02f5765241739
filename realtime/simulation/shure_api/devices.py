"""The devices a simulated System API server fronts: models, state and JSON bodies.

Capability lists come from real captures (A.2: ULXD4D; ADTQ, ANX4, AD8C and SBRC from a
SystemAPI Server 6.10 probe). The ULXD6/ULXD8 pack lists are inferred from the endpoint
paths, since no live pack has been captured.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import orjson

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.shure_api.parse import ActivityLevel, DeviceState

JsonDict = dict[str, object]

_ULXD4_CAPS = (
    "audio-channels",
    "audio-channels-v2",
    "audio-network",
    "control-network",
    "dante-audio-network",
    "factory-reset",
    "hosted-firmware",
    "identify",
    "name",
    "reboot",
    "uptime",
)
_AXIENT_AUDIO_CAPS = tuple(
    sorted((*_ULXD4_CAPS, "authentication", "available-firmware", "firmware-update-requests"))
)
_AD8C_CAPS = (
    "authentication",
    "available-firmware",
    "control-network",
    "factory-reset",
    "firmware-update-requests",
    "identify",
    "name",
    "reboot",
    "uptime",
)
_SBRC_CAPS = tuple(cap for cap in _AD8C_CAPS if cap != "authentication")
_PACK_CAPS = ("battery-health", "battery-level", "control-network", "identify", "name", "uptime")
_CHANNEL_CAPS = ("activity", "gain", "name")

MINUTES_PER_PERCENT: Final = 7  # D.4: percent drops about 1 per 7 minutes
CALCULATING_TICKS: Final = 3  # D.4: runtime reads "calculating" for the first minutes
DEVICE_SUBSCRIPTIONS: Final = frozenset(
    {"name", "identify", "audio-mute", "battery-level", "battery-health"}
)
CHANNEL_SUBSCRIPTIONS: Final = frozenset({"mute", "gain", "name", "activity"})


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """What one model looks like on the System API."""

    capabilities: tuple[str, ...]
    channel_count: int = 0
    channel_capabilities: tuple[str, ...] = _CHANNEL_CAPS
    firmware: str = "1.2.1.1"
    serial_prefix: str = "2EK"
    serial_digits: int = 8
    index_key: str = "i"  # the key carrying the channel index inside the base64 channel id
    id_version: int = 131088  # the "v" field of channel ids (the ADTQ capture's value)


MODELS: Final[dict[str, ModelProfile]] = {
    # A shorter "v" gives ULX-D ids '=' padding, so URL-encoding of ids is exercised.
    "ULXD4D": ModelProfile(
        _ULXD4_CAPS,
        2,
        firmware="2.7.6.0",
        serial_prefix="",
        serial_digits=10,
        index_key="index",
        id_version=65552,
    ),
    "ULXD4Q": ModelProfile(
        _ULXD4_CAPS,
        4,
        firmware="2.7.6.0",
        serial_prefix="",
        serial_digits=10,
        index_key="index",
        id_version=65552,
    ),
    "ADTQ": ModelProfile(_AXIENT_AUDIO_CAPS, 4),
    "ADTD": ModelProfile(_AXIENT_AUDIO_CAPS, 2),
    "ANX4": ModelProfile(_AXIENT_AUDIO_CAPS, 4, ("activity", "gain", "mute", "name")),
    "AD8C": ModelProfile(_AD8C_CAPS, firmware="1.3.8.0", serial_prefix="2EL"),
    "SBRC": ModelProfile(_SBRC_CAPS, firmware="1.5.2.0", serial_prefix="VT", serial_digits=9),
    "ULXD6": ModelProfile(_PACK_CAPS, firmware="2.4.1.0", serial_prefix="3AB"),
    "ULXD8": ModelProfile(_PACK_CAPS, firmware="2.4.1.0", serial_prefix="3AC"),
}


@dataclass(frozen=True, slots=True)
class SimDeviceSpec:
    """One device to put on the simulated server."""

    model: str
    state: DeviceState = DeviceState.ONLINE
    name: str = ""


def default_stage() -> tuple[SimDeviceSpec, ...]:
    """Return a small realistic server: receivers, a rack unit, packs, offline and new gear."""
    return (
        SimDeviceSpec("ULXD4D", name="Stage Left ULXD"),
        SimDeviceSpec("ADTQ", name="IEM Rack A"),
        SimDeviceSpec("ANX4", DeviceState.OFFLINE, name="Dante Bridge"),
        SimDeviceSpec("AD8C", name="Antenna Combiner"),
        SimDeviceSpec("ULXD6", name="Pack Lead Vocal"),
        SimDeviceSpec("ULXD8", name="Handheld Host"),
        SimDeviceSpec("SBRC", DeviceState.DISCOVERED),
    )


@dataclass(slots=True)
class SimChannel:
    """One audio channel of a simulated device."""

    channel_id: str
    index: int
    name: str
    capabilities: tuple[str, ...]
    gain: float = 0.0
    muted: bool = False
    tx_on: bool = True
    activity: ActivityLevel = ActivityLevel.LOW
    pinned: ActivityLevel | None = None  # a level forced by a test instead of random speech

    def body(self) -> JsonDict:
        """Return this channel's entry in the audio-channels list."""
        return {
            "id": self.channel_id,
            "role": "SOURCE",
            "group": "GENERIC",
            "capabilities": list(self.capabilities),
        }


@dataclass(slots=True)
class SimBattery:
    """A pack's Li-ion battery draining about linearly (D.4)."""

    percent: int
    minutes: int
    health: int = 96
    cycles: int = 42
    calculating_ticks: int = 0
    ticks: int = 0

    @property
    def state(self) -> str:
        """Return the battery's current state as the API names it."""
        if self.percent <= 0:
            return "EMPTY"
        return "CALCULATING" if self.calculating_ticks else "DISCHARGING"

    def level_body(self) -> JsonDict:
        """Return the battery-level body: percentage, state and runtime as `PT<n>M`."""
        state = self.state
        draining = state == "DISCHARGING"
        return {
            "percentage": self.percent,
            "status": {
                "currentState": state,
                "targetState": "EMPTY" if draining else None,
                "timeToTargetState": f"PT{self.minutes}M" if draining else None,
            },
        }

    def health_body(self) -> JsonDict:
        """Return the battery-health body."""
        return {"percentage": self.health, "cycleCount": self.cycles}

    def tick_minute(self) -> None:
        """Advance one minute of drain: runtime -1, percent -1 every 7 minutes."""
        self.ticks += 1
        self.calculating_ticks = max(0, self.calculating_ticks - 1)
        self.minutes = max(0, self.minutes - 1)
        if self.ticks % MINUTES_PER_PERCENT == 0:
            self.percent = max(0, self.percent - 1)

    def force(self, *, percent: int | None, minutes: int | None) -> None:
        """Set the charge; a missing runtime follows from the percentage (and vice versa)."""
        if percent is not None:
            self.percent = max(0, min(100, percent))
        if minutes is not None:
            self.minutes = max(0, minutes)
        elif percent is not None:
            self.minutes = self.percent * MINUTES_PER_PERCENT
        self.calculating_ticks = 0

    def power_on(self) -> None:
        """Start the 'calculating' minutes that follow a power-on."""
        self.calculating_ticks = CALCULATING_TICKS


@dataclass(slots=True)
class SimDevice:
    """One simulated device behind the server."""

    device_id: str
    model: str
    serial: str
    address: str
    name: str
    state: DeviceState
    profile: ModelProfile
    channels: list[SimChannel] = field(default_factory=list)
    battery: SimBattery | None = None
    identifying: bool = False

    @property
    def capabilities(self) -> tuple[str, ...]:
        """Return the capability list; a DISCOVERED device reports none yet."""
        return () if self.state is DeviceState.DISCOVERED else self.profile.capabilities

    def node_body(self) -> JsonDict:
        """Return the DeviceNode, reduced (no serial/firmware/capabilities) when DISCOVERED."""
        if self.state is DeviceState.DISCOVERED:
            return {
                "deviceState": self.state.value,
                "hardwareIdentity": {"deviceId": self.device_id},
                "communicationProtocol": {"name": "ESTA.DMP", "address": self.address},
            }
        return {
            "compatibility": "COMPATIBLE_LATEST",
            "deviceState": self.state.value,
            "hardwareIdentity": {"deviceId": self.device_id, "serialNumber": self.serial},
            "softwareIdentity": {
                "firmwareVersion": self.profile.firmware,
                "firmwareValid": True,
                "model": self.model,
            },
            "communicationProtocol": {"name": "ESTA.DMP", "address": self.address},
            "capabilities": list(self.capabilities),
        }

    def channel(self, channel_id: str) -> SimChannel | None:
        """Find a channel by its opaque id."""
        return next((ch for ch in self.channels if ch.channel_id == channel_id), None)

    def device_info(self, host: str, port: int) -> DeviceInfo:
        """Describe the device as a correct client's discovery should see it."""
        if self.state is DeviceState.DISCOVERED:
            return DeviceInfo(Protocol.SHURE_API, host, port, "Shure", model="")
        channels = tuple(ChannelInfo(number=ch.index + 1, name=ch.name) for ch in self.channels)
        if not channels and self.battery is not None:
            channels = (ChannelInfo(number=1, name=self.name),)
        return DeviceInfo(
            protocol=Protocol.SHURE_API,
            host=host,
            port=port,
            manufacturer="Shure",
            model=self.model,
            name=self.name,
            serial=self.serial,
            firmware=self.profile.firmware,
            channels=channels,
        )


def build_devices(specs: Sequence[SimDeviceSpec], rng: random.Random) -> list[SimDevice]:
    """Create the devices for the given specs; the same seed gives the same ids and values."""
    return [_build_device(spec, position, rng) for position, spec in enumerate(specs)]


def _build_device(spec: SimDeviceSpec, position: int, rng: random.Random) -> SimDevice:
    profile = MODELS[spec.model]
    digits = "".join(str(rng.randrange(10)) for _ in range(profile.serial_digits))
    device = SimDevice(
        device_id=f"{rng.getrandbits(32):08x}-0000-11dd-a000-000eddcccccc",
        model=spec.model,
        serial=profile.serial_prefix + digits,
        address=f"192.168.10.{100 + position}",
        name=spec.name or f"{spec.model} {position + 1:02d}",
        state=spec.state,
        profile=profile,
    )
    device.channels = [_build_channel(device, index) for index in range(profile.channel_count)]
    if "battery-level" in profile.capabilities:
        percent = rng.randrange(55, 101)
        device.battery = SimBattery(percent, percent * MINUTES_PER_PERCENT - rng.randrange(7))
    return device


def _build_channel(device: SimDevice, index: int) -> SimChannel:
    return SimChannel(
        channel_id=make_channel_id(device.model, index, device.profile),
        index=index,
        name=f"{device.name[:20]} Ch{index + 1}",
        capabilities=device.profile.channel_capabilities,
    )


def make_channel_id(model: str, index: int, profile: ModelProfile) -> str:
    """Encode a channel id as the server does: base64 of a small JSON descriptor."""
    descriptor = {
        "t": "AudioChannel",
        "c": model,
        "v": profile.id_version,
        "s": "CH",
        profile.index_key: index,
    }
    return base64.b64encode(orjson.dumps(descriptor)).decode("ascii")


def device_event(name: str, device: SimDevice, body: JsonDict) -> JsonDict:
    """Wrap a device-level body in the push envelope."""
    return {"envelope": {"eventName": name, "deviceId": device.device_id}, "body": body}


def channel_event(name: str, device: SimDevice, channel: SimChannel, body: JsonDict) -> JsonDict:
    """Wrap a channel-level body in the push envelope."""
    envelope = {
        "eventName": name,
        "deviceId": device.device_id,
        "audioChannelId": channel.channel_id,
    }
    return {"envelope": envelope, "body": body}
