"""The live state the outputs publish (MQTT's retained topics): a unit's stored UnitState
from Redis, and a group's roster (slot, name, who wears it) from the database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from asgiref.sync import sync_to_async

from micboard.integrations.drivers.mqtt import GroupSnapshot, UnitSnapshot
from micboard.models import MonitoringGroup, PerformerAssignment
from micboard.tenancy import system_context
from realtime import keys, live_store
from realtime.redis_client import async_client


class RedisUnitStates:
    """`UnitStates` of the MQTT driver, read from the poller's keys and the database."""

    async def of_unit(self, unit_id: int) -> Mapping[str, Any] | None:
        raw = await async_client().get(keys.unit_state(unit_id))
        return orjson.loads(raw) if raw else None

    async def of_group(self, group_id: int) -> GroupSnapshot:
        name, roster = await sync_to_async(group_roster)(group_id)
        encoded = await live_store.encoded_states(async_client(), [unit for unit, *_ in roster])
        units = [
            UnitSnapshot(unit, slot, unit_name, performer, _decoded(encoded.get(unit)))
            for unit, slot, unit_name, performer in roster
        ]
        return GroupSnapshot(name, units)


def group_roster(group_id: int) -> tuple[str, list[tuple[int, str, str, str]]]:
    """Return the group's name and (unit id, slot, unit name, performer) of each unit
    actively assigned in it, in slot order; two queries (the worker has no tenant: the
    output that asks belongs to the group's organization)."""
    with system_context():
        return _roster(group_id)


def _roster(group_id: int) -> tuple[str, list[tuple[int, str, str, str]]]:
    name = MonitoringGroup.objects.filter(pk=group_id).values_list("name", flat=True).first()
    rows = (
        PerformerAssignment.objects.active()
        .filter(monitoring_group_id=group_id, monitoring_group__is_active=True)
        .order_by("wireless_unit__slot", "wireless_unit_id")
        .values_list(
            "wireless_unit_id", "wireless_unit__slot", "wireless_unit__name", "performer__name"
        )
    )
    return name or "", list(rows)


def _decoded(raw: bytes | None) -> Mapping[str, Any] | None:
    return orjson.loads(raw) if raw else None
