"""The device list file: what `simulate_devices --write` produces and `import_devices` reads.

A JSON array of discovered devices (DeviceInfo), so real receivers can be listed by hand
in the same shape.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from micboard.devices import ChannelInfo, DeviceInfo, Protocol


def write_device_list(path: Path, devices: list[DeviceInfo]) -> None:
    """Write the list atomically, so a reader never sees half a file."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps([asdict(device) for device in devices], indent=2))
    temporary.replace(path)


def read_device_list(path: Path) -> list[DeviceInfo]:
    """Read a device list; raise ValueError naming the entry that is wrong."""
    entries = json.loads(path.read_text())
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON array of devices")
    return [_device(entry, position) for position, entry in enumerate(entries)]


def _device(entry: Any, position: int) -> DeviceInfo:
    try:
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
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"device #{position + 1}: {error!r}") from error
