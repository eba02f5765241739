"""Device ownership through Redis leases, so N pollers share the devices.

A lease is `{p}:lease:{chassis}` = poller id, set with `SET NX PX` and renewed well
within its TTL. The rules that keep a device from being read by two pollers at once:

- a poller stops reading a device before it releases the lease, and stops reading every
  device once it has failed to renew for a whole TTL (it may have been taken over);
- a free lease is claimed only from a Redis that has been up for longer than a TTL:
  right after a Redis restart every lease is missing, and the owners get one TTL to
  re-set theirs before anyone else may claim them.
A dead poller's leases expire after one TTL and are claimed in the next round.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from realtime import keys

# Keep our lease (and re-set a lease lost with a Redis restart); 0 if another owns it.
_RENEW = """
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
if not owner then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass
class LeaseRound:
    """The outcome of one round: devices to start, to stop, and to stop then release."""

    gained: set[int] = field(default_factory=set)
    lost: set[int] = field(default_factory=set)
    surplus: set[int] = field(default_factory=set)


class LeaseKeeper:
    """Claims, renews and releases this poller's leases."""

    def __init__(self, redis: aioredis.Redis, poller_id: str, ttl_ms: int) -> None:
        self.redis = redis
        self.poller_id = poller_id
        self.ttl_ms = ttl_ms
        self.owned: set[int] = set()
        self._renewed_at = time.monotonic()
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def run_round(self, chassis_ids: Collection[int], pollers_alive: int) -> LeaseRound:
        """Renew, hand back the surplus, claim up to a fair share; raise on Redis errors."""
        outcome = LeaseRound(lost=await self._renew_owned())
        self.owned -= outcome.lost
        gone = self.owned - set(chassis_ids)  # devices deleted from the database
        share = math.ceil(len(chassis_ids) / max(1, pollers_alive))
        outcome.surplus = gone | _pick_surplus(self.owned - gone, share)
        self.owned -= outcome.surplus
        if len(self.owned) < share:
            outcome.gained = await self._claim(chassis_ids, share - len(self.owned))
            self.owned |= outcome.gained
        return outcome

    def expire_if_stale(self) -> set[int]:
        """Give up every lease when renewals have failed for a whole TTL."""
        if (time.monotonic() - self._renewed_at) * 1000 < self.ttl_ms:
            return set()
        dropped, self.owned = self.owned, set()
        return dropped

    async def release(self, chassis_ids: Iterable[int]) -> None:
        for chassis_id in chassis_ids:
            await self._release(keys=[keys.lease(chassis_id)], args=[self.poller_id])

    async def _renew_owned(self) -> set[int]:
        ordered = sorted(self.owned)
        if ordered:
            pipe = self.redis.pipeline(transaction=False)
            for chassis_id in ordered:
                await self._renew(
                    keys=[keys.lease(chassis_id)], args=[self.poller_id, self.ttl_ms], client=pipe
                )
            results = await pipe.execute()
        else:
            results = []
            await self.redis.ping()  # a round with no leases still proves Redis is there
        self._renewed_at = time.monotonic()
        return {cid for cid, kept in zip(ordered, results, strict=True) if not kept}

    async def _claim(self, chassis_ids: Collection[int], wanted: int) -> set[int]:
        if not await self._claims_allowed():
            return set()
        candidates = sorted(set(chassis_ids) - self.owned)
        if not candidates:
            return set()
        owners = await self.redis.mget([keys.lease(cid) for cid in candidates])
        free = [cid for cid, owner in zip(candidates, owners, strict=True) if owner is None]
        gained: set[int] = set()
        for chassis_id in free[:wanted]:
            key = keys.lease(chassis_id)
            if await self.redis.set(key, self.poller_id, nx=True, px=self.ttl_ms):
                gained.add(chassis_id)
        return gained

    async def _claims_allowed(self) -> bool:
        info = await self.redis.info("server")
        return int(info["uptime_in_seconds"]) * 1000 > self.ttl_ms


def _pick_surplus(owned: set[int], share: int) -> set[int]:
    """Return the leases above a fair share (the highest ids, so the choice is stable)."""
    extra = len(owned) - share
    return set(sorted(owned)[-extra:]) if extra > 0 else set()
