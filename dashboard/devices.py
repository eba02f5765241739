"""What the Devices page shows: receivers with their live health, and what discovery heard.

Health and found receivers live in Redis (the poller writes them); with Redis away the
page still lists the receivers and says their health is unknown.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from django.core import signing
from django.db.models import Count, QuerySet
from redis.exceptions import RedisError

from micboard.devicelist import DeviceEntry, dump_device_list, parse_device_list
from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from micboard.models import IgnoredDevice, WirelessChassis
from realtime import keys, redis_client
from realtime.discovery.found import FoundDevice, read_found
from realtime.poller.device_health import DeviceHealth

SILENT_AFTER = 10.0  # an "online" receiver whose poller stopped writing is not online
PROBE_SALT = "micboard.devices.probe"
PROBE_MAX_AGE = 3600  # a probe result may be confirmed within the hour


@dataclass(frozen=True, slots=True)
class HealthView:
    state: str  # online | offline | silent | waiting | unknown (the CSS class too)
    words: str
    since: datetime | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeviceRow:
    chassis: WirelessChassis
    channels: int
    health: HealthView


def device_rows(chassis: QuerySet[WirelessChassis]) -> list[DeviceRow]:
    rows = list(chassis.select_related("location").annotate(channel_count=Count("channels")))
    healths = _healths([c.pk for c in rows])
    if healths is None:
        unknown = HealthView("unknown", "Unknown: the live store is unreachable")
        return [DeviceRow(c, c.channel_count, unknown) for c in rows]
    return [DeviceRow(c, c.channel_count, health_view(healths.get(c.pk))) for c in rows]


def health_view(health: DeviceHealth | None, now: float | None = None) -> HealthView:
    """Say how a receiver is, from what its poller last wrote (None: nothing yet)."""
    if health is None or health.online is None:
        return HealthView("waiting", "Waiting for a poller to read it")
    now = time.time() if now is None else now
    last_seen = _when(health.last_seen)
    if health.online and health.last_seen is not None and now - health.last_seen > SILENT_AFTER:
        silent = f"No answer for {now - health.last_seen:.0f} s"
        return HealthView("silent", silent, last_seen=last_seen)
    if health.online:
        return HealthView("online", "Online", _when(health.since), last_seen)
    return HealthView("offline", f"Offline: {health.reason}", _when(health.since), last_seen)


def discovered(user_chassis: QuerySet[WirelessChassis]) -> list[FoundDevice]:
    """Receivers heard on the network that are neither added nor ignored."""
    try:
        found = read_found(redis_client.sync_client())
    except RedisError:
        return []
    added = list(user_chassis.values_list("protocol", "host", "port", "serial"))
    addresses = {(p, h, port) for p, h, port, _ in added}
    serials = {(p, s) for p, _, _, s in added if s}
    ignored = set(IgnoredDevice.objects.values_list("protocol", "identity"))
    return [
        f
        for f in found
        if (f.sighting.protocol, f.sighting.host, f.sighting.port) not in addresses
        and (f.sighting.protocol, f.info.serial if f.info else "") not in serials
        and (f.sighting.protocol, f.identity) not in ignored
    ]


def found_device(address_key: str) -> FoundDevice | None:
    try:
        raw = redis_client.sync_client().hget(keys.found_devices(), address_key)
    except RedisError:
        return None
    return None if raw is None else FoundDevice.from_json(raw)


def sign_probe(info: DeviceInfo) -> str:
    """Carry a probe's result to the confirming form without trusting it back unchecked."""
    return signing.dumps(asdict(info) | {"protocol": info.protocol.value}, salt=PROBE_SALT)


def unsign_probe(token: str) -> DeviceInfo:
    """Return the probed DeviceInfo; raise signing.BadSignature if it was changed or is old."""
    data = signing.loads(token, salt=PROBE_SALT, max_age=PROBE_MAX_AGE)
    return parse_device_list(signing.JSONSerializer().dumps([data]).decode())[0].info


def export_device_list(chassis: QuerySet[WirelessChassis]) -> str:
    """The receivers as the device list `import_devices` and the page's import read."""
    listed = chassis.select_related("location").prefetch_related("channels")
    return dump_device_list([_entry(c) for c in listed])


def _entry(chassis: WirelessChassis) -> DeviceEntry:
    info = DeviceInfo(
        protocol=Protocol(chassis.protocol),
        host=chassis.host,
        port=chassis.port,
        manufacturer=chassis.manufacturer,
        model=chassis.model,
        name=chassis.name,
        serial=chassis.serial,
        firmware=chassis.firmware,
        channels=tuple(
            ChannelInfo(c.number, c.name, c.frequency_khz) for c in chassis.channels.all()
        ),
    )
    location = chassis.location.name if chassis.location else ""
    return DeviceEntry(info, location, chassis.meter_interval_ms)


def _healths(chassis_ids: list[int]) -> dict[int, DeviceHealth] | None:
    """Each receiver's last written health; None when Redis cannot be read."""
    if not chassis_ids:
        return {}
    try:
        raws = redis_client.sync_client().hmget(keys.device_health(), [str(i) for i in chassis_ids])
    except RedisError:
        return None
    return {
        cid: DeviceHealth.from_json(raw)
        for cid, raw in zip(chassis_ids, raws, strict=True)
        if raw is not None
    }


def _when(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=UTC)
