"""Render the simulated receiver's state as the JSON bodies of the EW-DX service API.

Shapes follow the vendor OpenAPI 1.7: meters are `{"value": n}`, warnings are arrays of
names, battery is `{type, gauge, lifetime}`, and anything about a transmitter answers 422
while none is linked (TX off). The 422 body mirrors the documented 400 body `{path, error}`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from realtime.protocols.sennheiser_ssc.wire import VENDOR, Located, Model, Resource
from realtime.simulation.sennheiser_ssc.dynamics import ChannelDynamics

SSC_PROTOCOL_VERSION = "2.3"
SCHEMA_VERSION = "1.7"
FIRMWARE_VERSION = "4.1.0"
RF_CODE = "Q1-9"
RF_RANGE_KHZ = (470_200, 550_000)
RF_STEP_KHZ = 25

Body = tuple[int, object]
_TX_RESOURCES = {Resource.TRANSMITTER, Resource.BATTERY, Resource.TX_WARNINGS}


@dataclass(frozen=True, slots=True)
class DeviceSetup:
    """The configuration a receiver keeps across reboots: names, serial, frequencies."""

    model: Model
    serial: str
    device_name: str
    firmware: str
    channel_names: tuple[str, ...]
    frequencies: tuple[int, ...]  # kHz

    @classmethod
    def create(cls, model: Model, seed: int) -> DeviceSetup:
        """Derive a plausible, seed-determined configuration for a model."""
        rng = random.Random(f"ewdx-setup:{seed}")
        steps = (RF_RANGE_KHZ[1] - RF_RANGE_KHZ[0]) // RF_STEP_KHZ
        frequencies = sorted(
            RF_RANGE_KHZ[0] + RF_STEP_KHZ * rng.randrange(steps) for _ in range(model.channels)
        )
        return cls(
            model=model,
            serial=str(rng.randrange(1_000_000_000, 10_000_000_000)),
            device_name=model.default_device_name,
            firmware=FIRMWARE_VERSION,
            channel_names=tuple(f"MIC {i + 1}" for i in range(model.channels)),
            frequencies=tuple(frequencies),
        )


def resource_body(located: Located, setup: DeviceSetup, channels: list[ChannelDynamics]) -> Body:
    """Return the HTTP status and JSON body of any resource, as the device would."""
    if located.index is None:
        return 200, _device_body(located.resource, setup, channels)
    if located.index >= len(channels):
        return _error(located, 404)
    return _channel_body(located, setup, channels[located.index])


def _error(located: Located, status: int) -> Body:
    """Build the `{path, error}` body the device uses for errors."""
    return status, {"path": located.resource.path(located.index), "error": status}


def _device_body(resource: Resource, setup: DeviceSetup, channels: list[ChannelDynamics]) -> object:
    """Render a device-level resource."""
    renderers: dict[Resource, Callable[[], object]] = {
        Resource.VERSION: lambda: {"protocol": SSC_PROTOCOL_VERSION, "schema": SCHEMA_VERSION},
        Resource.IDENTITY: lambda: _identity(setup),
        Resource.IDENTIFICATION: lambda: {"visual": False},
        Resource.SITE: lambda: {"deviceName": setup.device_name, "location": "", "position": ""},
        Resource.STATE: lambda: {"state": "Normal", "warnings": []},
        Resource.FIRMWARE: lambda: {"deviceVersion": setup.firmware, "state": "Idle"},
        Resource.RF: lambda: {"code": RF_CODE, "ranges": [_rf_range()]},
        Resource.TRANSMITTERS: lambda: _linked_transmitters(channels),
    }
    return renderers[resource]()


def _identity(setup: DeviceSetup) -> dict[str, str]:
    """Render `/api/device/identity`."""
    return {
        "product": setup.model.product,
        "hardwareRevision": "0596715-06",
        "serial": setup.serial,
        "vendor": VENDOR,
    }


def _linked_transmitters(channels: list[ChannelDynamics]) -> list[dict[str, object]]:
    """Render `/api/transmitters`: one entry per channel with a linked transmitter."""
    return [
        {"id": index, "transmitter": _transmitter(channel)}
        for index, channel in enumerate(channels)
        if channel.tx_on
    ]


def _rf_range() -> dict[str, int]:
    """Describe the tuning range of the simulated frequency code."""
    return {"start": RF_RANGE_KHZ[0], "end": RF_RANGE_KHZ[1], "stepSize": RF_STEP_KHZ}


def _channel_body(located: Located, setup: DeviceSetup, channel: ChannelDynamics) -> Body:
    """Render a per-channel resource, answering 422 for a missing transmitter."""
    index, resource = located.index or 0, located.resource
    if resource in _TX_RESOURCES and not channel.tx_on:
        return _error(located, 422)
    renderers: dict[Resource, Callable[[], object]] = {
        Resource.CHANNEL: lambda: _channel(setup, index),
        Resource.CHANNEL_WARNINGS: channel.channel_warnings,
        Resource.RSSI: lambda: {"value": channel.rssi_dbm},
        Resource.RSQI: lambda: {"value": channel.rsqi},
        Resource.DIVERSITY: lambda: {"value": channel.diversity},
        Resource.LEVEL: lambda: {"value": channel.level_dbfs},
        Resource.RF_CHANNEL: lambda: {
            "frequency": setup.frequencies[index],
            "presets": {"type": "None"},
        },
        Resource.TRANSMITTER: lambda: _transmitter(channel),
        Resource.BATTERY: lambda: _battery(channel),
        Resource.TX_WARNINGS: channel.tx_warnings,
    }
    return 200, renderers[resource]()


def _channel(setup: DeviceSetup, index: int) -> dict[str, object]:
    """Render `/api/channel/{id}`."""
    return {
        "name": setup.channel_names[index],
        "mute": False,
        "mates": [f"TX{index + 1}"],
        "gain": 0,
        "audio": [f"Out{index + 1}"],
        "outputLevel": 0,
        "eventCounter": 0,
    }


def _transmitter(channel: ChannelDynamics) -> dict[str, object]:
    """Render `/api/transmitters/{id}` for a linked transmitter."""
    return {
        "type": channel.tx_type,
        "name": "",
        "capsule": "Unknown",
        "lowcut": "80Hz",
        "trim": 0,
        "mute": channel.tx_muted,
        "lock": False,
        "led": True,
        "version": "4.0.0",
        "identification": False,
    }


def _battery(channel: ChannelDynamics) -> dict[str, object]:
    """Render `/api/transmitters/{id}/battery` for a linked transmitter."""
    return {
        "type": "Battery",
        "gauge": channel.battery.percent,
        "lifetime": channel.battery.lifetime,
    }
