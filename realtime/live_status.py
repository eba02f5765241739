"""The tables `manage.py live_status` prints: pollers and who reads which device."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import redis

from micboard.models import WirelessChassis
from micboard.tenancy import system_context
from realtime import keys
from realtime.health import PUBLISH_STALE_AFTER, live_pollers, published_seconds_ago

POLLER_COLUMNS = (
    ("poller", "id"),
    ("since", "started"),
    ("devices", "devices"),
    ("units", "units"),
    ("readings/s", "readings_per_s"),
    ("frames/s", "frames_per_s"),
    ("reading lag ms", "reading_lag_ms"),
    ("loop lag ms", "loop_lag_ms"),
    ("db pending", "db_pending"),
    ("db failures", "db_failures"),
)
DEVICE_HEADERS = ("id", "device", "protocol", "endpoint", "owner", "online", "last seen")


def poller_rows(client: redis.Redis) -> list[list[str]]:
    rows = []
    for poller_id, fields in sorted(live_pollers(client).items()):
        values = {"id": poller_id, **fields}
        rows.append([values.get(name, "") for _, name in POLLER_COLUMNS])
    return rows


def publishing_line(client: redis.Redis) -> str:
    """Say when a poller last published, and whether walls are therefore stale."""
    ago = published_seconds_ago(client)
    if ago is None:
        return "No poller has published yet."
    if ago >= PUBLISH_STALE_AFTER:
        return f"STALE: no poller has published for {ago:.0f} s; walls show old values."
    return f"Last published {ago:.1f} s ago."


def device_rows(client: redis.Redis) -> list[list[str]]:
    with system_context():
        devices = list(WirelessChassis.objects.order_by("id"))
    if not devices:
        return []
    owners = client.mget([keys.lease(device.pk) for device in devices])
    return [
        [
            str(device.pk),
            device.name,
            device.protocol,
            f"{device.host}:{device.port}",
            owner.decode() if isinstance(owner, bytes) else "-",
            "yes" if device.is_online else "no",
            _when(device.last_seen),
        ]
        for device, owner in zip(devices, owners, strict=True)
    ]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return a plain-text table with aligned columns."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [_line(headers, widths), "  ".join("-" * width for width in widths)]
    lines += [_line(row, widths) for row in rows]
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: list[int]) -> str:
    return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True))


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"
