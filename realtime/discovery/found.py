"""What discovery heard and learned, kept in Redis for the Devices page.

A `Sighting` is one announcement (who, where); probing it gives a `FoundDevice`: the
receiver's DeviceInfo, or why it could not be probed. Found devices live in one Redis hash
keyed by protocol and address, and drop out when not heard for `FORGET_AFTER` seconds.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import orjson
import redis
import redis.asyncio as aioredis

from micboard.devicelist import parse_device_list
from micboard.devices import DeviceInfo, Protocol
from realtime import keys

FORGET_AFTER = 600.0  # a receiver switched off leaves the Discovered list after 10 minutes


@dataclass(frozen=True, slots=True)
class Sighting:
    """One announcement: a receiver of `protocol` says it is at host:port."""

    protocol: Protocol
    host: str
    port: int
    how: str  # "SLP" or "mDNS", shown on the page
    hint: str = ""  # what the announcement itself says (a DCID, an mDNS name)

    @property
    def address_key(self) -> str:
        return f"{self.protocol.value}|{self.host}|{self.port}"


@dataclass(frozen=True, slots=True)
class FoundDevice:
    sighting: Sighting
    first_seen: float
    last_seen: float
    probed_at: float
    info: DeviceInfo | None = None
    problem: str = ""  # why the probe failed, when it did

    @property
    def identity(self) -> str:
        """What an admin's Ignore remembers: the serial, or the address without one."""
        if self.info is not None and self.info.serial:
            return self.info.serial
        return f"{self.sighting.host}:{self.sighting.port}"

    def to_json(self) -> bytes:
        data = asdict(self)
        data["sighting"]["protocol"] = self.sighting.protocol.value
        data["info"] = None if self.info is None else asdict(self.info)
        return orjson.dumps(data)

    @classmethod
    def from_json(cls, raw: bytes | str) -> FoundDevice:
        data = orjson.loads(raw)
        sighting = Sighting(
            **{**data["sighting"], "protocol": Protocol(data["sighting"]["protocol"])}
        )
        info = None
        if data["info"] is not None:
            info = parse_device_list(orjson.dumps([data["info"]]).decode())[0].info
        return cls(
            sighting,
            data["first_seen"],
            data["last_seen"],
            data["probed_at"],
            info,
            data["problem"],
        )


class FoundRegistry:
    """The poller's side: record sightings and probe results, forget the silent."""

    def __init__(self, redis_client: aioredis.Redis) -> None:
        self.redis = redis_client

    async def get(self, sighting: Sighting) -> FoundDevice | None:
        raw = await self.redis.hget(keys.found_devices(), sighting.address_key)
        return None if raw is None else FoundDevice.from_json(raw)

    async def put(self, found: FoundDevice) -> None:
        await self.redis.hset(keys.found_devices(), found.sighting.address_key, found.to_json())

    async def forget_silent(self, now: float | None = None) -> int:
        cutoff = (now or time.time()) - FORGET_AFTER
        stale = [
            key
            for key, raw in (await self.redis.hgetall(keys.found_devices())).items()
            if FoundDevice.from_json(raw).last_seen < cutoff
        ]
        if stale:
            await self.redis.hdel(keys.found_devices(), *stale)
        return len(stale)


def read_found(client: redis.Redis) -> list[FoundDevice]:
    """The page's side: every receiver heard recently, newest first."""
    cutoff = time.time() - FORGET_AFTER
    found = [FoundDevice.from_json(raw) for raw in client.hvals(keys.found_devices())]
    return sorted((f for f in found if f.last_seen >= cutoff), key=lambda f: -f.first_seen)
