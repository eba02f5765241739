"""The live state the outputs publish (MQTT's retained topics): a unit's stored UnitState
from Redis, and a group's roster (slot, name, who wears it) from the database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import redis.asyncio as aioredis

from micboard.integrations.live import UnitSnapshot
from micboard.models import PerformerAssignment
from micboard.models.performers import PRIORITY_SEVERITY
from realtime import keys, live_store
from realtime.poller.database import run_db


class RedisUnitStates:
    """The `UnitStates` the outputs worker gives its drivers: the poller's keys in Redis,
    the roster from the database (in the database thread)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def of_unit(self, unit_id: int) -> Mapping[str, Any] | None:
        return _decoded(await self._redis.get(keys.unit_state(unit_id)))

    async def of_group(self, group_id: int) -> list[UnitSnapshot]:
        roster = await run_db(group_roster, group_id)
        encoded = await live_store.encoded_states(self._redis, [unit for unit, *_ in roster])
        return [
            UnitSnapshot(unit, slot, unit_name, performer, _decoded(encoded.get(unit)))
            for unit, slot, unit_name, performer in roster
        ]


def group_roster(group_id: int) -> list[tuple[int, str, str, str]]:
    """Return (unit id, slot, unit name, performer) of each unit actively assigned in the
    group, in slot order, in one query (a unit worn by several performers in the group
    is listed with the highest priority's, as events name them)."""
    rows = (
        PerformerAssignment.objects.active()
        .filter(monitoring_group_id=group_id, monitoring_group__is_active=True)
        .annotate(severity=PRIORITY_SEVERITY)
        .order_by("wireless_unit__slot", "wireless_unit_id", "-severity", "pk")
        .values_list(
            "wireless_unit_id", "wireless_unit__slot", "wireless_unit__name", "performer__name"
        )
    )
    seen: dict[int, tuple[int, str, str, str]] = {}
    for row in rows:
        seen.setdefault(row[0], row)
    return list(seen.values())


def _decoded(raw: Any) -> Mapping[str, Any] | None:
    return orjson.loads(raw) if raw else None
