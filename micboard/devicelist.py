"""The device list: one JSON format for receivers, read and written in one place.

`simulate_devices --write` and the Devices page's export write it; `import_devices` and
the page's import read it. It is a JSON array with one object per receiver: the fields of
`DeviceInfo` (protocol, host, port, manufacturer, model, name, serial, firmware, channels)
and, optionally, the options an admin set: `location` (a location's name) and
`meter_interval_ms`. Real receivers can be listed by hand in the same shape.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from micboard.devices import ChannelInfo, DeviceInfo, Protocol

MAX_DEVICES = 2000  # a list longer than any show's is a mistake, not a rig


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    """One receiver of a device list: what it is, and the options an admin gave it."""

    info: DeviceInfo
    location: str = ""
    meter_interval_ms: int | None = None


def dump_device_list(entries: list[DeviceEntry]) -> str:
    return json.dumps([_entry_json(entry) for entry in entries], indent=2)


def write_device_list(path: Path, devices: list[DeviceInfo]) -> None:
    """Write the list atomically, so a reader never sees half a file."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(dump_device_list([DeviceEntry(device) for device in devices]))
    temporary.replace(path)


def read_device_list(path: Path) -> list[DeviceEntry]:
    """Read a device list file; raise ValueError naming what is wrong."""
    try:
        return parse_device_list(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def parse_device_list(text: str) -> list[DeviceEntry]:
    """Parse a device list; raise ValueError naming the entry that is wrong."""
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg}, line {error.lineno})") from error
    if not isinstance(entries, list):
        raise ValueError("expected a JSON array of devices")
    if len(entries) > MAX_DEVICES:
        raise ValueError(f"{len(entries)} devices; a list holds at most {MAX_DEVICES}")
    return [_entry(entry, position) for position, entry in enumerate(entries)]


def _entry_json(entry: DeviceEntry) -> dict[str, Any]:
    data = asdict(entry.info)
    if entry.location:
        data["location"] = entry.location
    if entry.meter_interval_ms is not None:
        data["meter_interval_ms"] = entry.meter_interval_ms
    return data


def _entry(entry: Any, position: int) -> DeviceEntry:
    try:
        interval = entry.get("meter_interval_ms")
        return DeviceEntry(
            info=_device(entry),
            location=str(entry.get("location", "")),
            meter_interval_ms=None if interval is None else int(interval),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"device #{position + 1}: {_reason(error)}") from error


def _device(entry: Any) -> DeviceInfo:
    channels = tuple(
        ChannelInfo(int(c["number"]), str(c.get("name", "")), c.get("frequency_khz"))
        for c in entry.get("channels", [])
    )
    return DeviceInfo(
        protocol=Protocol(entry["protocol"]),
        host=str(entry["host"]),
        port=int(entry["port"]),
        manufacturer=str(entry.get("manufacturer", "")),
        model=str(entry["model"]),
        name=str(entry.get("name", "")),
        serial=str(entry.get("serial", "")),
        firmware=str(entry.get("firmware", "")),
        channels=channels,
    )


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing {error.args[0]!r}"
    if isinstance(error, AttributeError):
        return "expected an object"
    return str(error)
