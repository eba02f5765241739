"""Reading the live state kept in Redis (written by the poller, read by consumers)."""

from __future__ import annotations

import redis.asyncio as aioredis

from realtime import frames, keys


async def group_unit_ids(redis: aioredis.Redis, group_id: int) -> list[int]:
    members = await redis.smembers(keys.group_units(group_id))
    return sorted(int(member) for member in members)


async def encoded_states(redis: aioredis.Redis, unit_ids: list[int]) -> dict[int, bytes]:
    """Return the stored UnitState JSON of each unit that has one."""
    if not unit_ids:
        return {}
    values = await redis.mget([keys.unit_state(unit_id) for unit_id in unit_ids])
    return {
        unit_id: raw if isinstance(raw, bytes) else str(raw).encode()
        for unit_id, raw in zip(unit_ids, values, strict=True)
        if raw
    }


async def current_seq(redis: aioredis.Redis, group_id: int) -> int:
    raw = await redis.get(keys.group_seq(group_id))
    return int(raw) if raw else 0


async def snapshot_frame(redis: aioredis.Redis, group_id: int) -> str:
    """Return a snapshot of one group for one client, with the group's current seq.

    The seq is read before the states: every frame up to it was written to Redis before
    its seq was taken, so the states read afterwards are at least that new.
    """
    seq = await current_seq(redis, group_id)
    unit_ids = await group_unit_ids(redis, group_id)
    return frames.snapshot(group_id, seq, await encoded_states(redis, unit_ids))
