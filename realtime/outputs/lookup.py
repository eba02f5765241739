"""What the outputs worker reads from the database (always in its database thread).

`OutputDirectory` is the worker's cache of every output (enabled or not: a test event
reaches a disabled one), reloaded on `output.changed`. `describe` turns stream entries
into `OutputEvent`s, one per group of the entry, with the names receivers want, in a
constant three queries per batch of entries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from micboard.integrations.models import Output
from micboard.integrations.types import OutputConfig, OutputEvent
from micboard.models import MonitoringGroup, PerformerAssignment, WirelessUnit
from micboard.models.performers import PRIORITY_SEVERITY
from micboard.services.outputs import OutputService


@dataclass(frozen=True, slots=True)
class KnownOutput:
    id: int
    group_id: int
    enabled: bool
    events: frozenset[str]
    delivery: OutputConfig


class OutputDirectory:
    def __init__(self) -> None:
        self._by_id: dict[int, KnownOutput] = {}
        self._by_group: dict[int, list[KnownOutput]] = {}

    def load(self) -> None:
        """Read every output afresh (one query)."""
        known = [
            KnownOutput(
                id=output.pk,
                group_id=output.monitoring_group_id,
                enabled=output.is_enabled,
                events=frozenset(output.events),
                delivery=OutputService.get_delivery_config(output),
            )
            for output in Output.objects.order_by("pk")
        ]
        by_group: dict[int, list[KnownOutput]] = {}
        for output in known:
            by_group.setdefault(output.group_id, []).append(output)
        self._by_id = {output.id: output for output in known}
        self._by_group = by_group

    def get(self, output_id: Any) -> KnownOutput | None:
        return self._by_id.get(output_id) if isinstance(output_id, int) else None

    def has(self, output_id: int) -> bool:
        return output_id in self._by_id

    def of_group(self, group_id: Any) -> list[KnownOutput]:
        return self._by_group.get(group_id, []) if isinstance(group_id, int) else []


def describe(entries: Sequence[dict[str, Any]]) -> list[dict[int, OutputEvent]]:
    """Return, for each entry, its event as told to each of its groups (by group id)."""
    group_ids = {gid for entry in entries for gid in entry["groups"] if isinstance(gid, int)}
    unit_ids = {entry["unit"] for entry in entries if isinstance(entry.get("unit"), int)}
    groups = {
        group.pk: group
        for group in MonitoringGroup.objects.filter(pk__in=group_ids).select_related("organization")
    }
    units = {
        pk: (slot, name)
        for pk, slot, name in WirelessUnit.objects.filter(pk__in=unit_ids).values_list(
            "pk", "slot", "name"
        )
    }
    performers = _performers(unit_ids, group_ids)
    return [_events_of(entry, groups, units, performers) for entry in entries]


def _performers(unit_ids: set[int], group_ids: set[int]) -> dict[tuple[int, int], str]:
    """Return who wears each unit in each group: of several, the highest priority's."""
    rows = (
        PerformerAssignment.objects.active()
        .filter(wireless_unit_id__in=unit_ids, monitoring_group_id__in=group_ids)
        .annotate(severity=PRIORITY_SEVERITY)
        .order_by("-severity", "pk")
        .values_list("wireless_unit_id", "monitoring_group_id", "performer__name")
    )
    found: dict[tuple[int, int], str] = {}
    for unit_id, group_id, name in rows:
        found.setdefault((unit_id, group_id), name)
    return found


def _events_of(
    entry: dict[str, Any],
    groups: dict[int, MonitoringGroup],
    units: dict[int, tuple[str, str]],
    performers: dict[tuple[int, int], str],
) -> dict[int, OutputEvent]:
    unit_id = entry.get("unit") if isinstance(entry.get("unit"), int) else None
    slot, name = units.get(unit_id, ("", "")) if unit_id is not None else ("", "")
    events = {}
    for group_id in entry["groups"]:
        group = groups.get(group_id)
        if group is None:
            continue  # deleted meanwhile
        events[group_id] = OutputEvent(
            id=_event_id(entry.get("id")),
            kind=entry["kind"],
            occurred_at=datetime.fromtimestamp(float(entry.get("at") or 0), tz=UTC),
            organization_id=group.organization_id,
            organization_slug=group.organization.slug,
            group_id=group.pk,
            group_name=group.name,
            unit_id=unit_id,
            unit_slot=slot,
            unit_name=name,
            performer=performers.get((unit_id, group_id)) if unit_id is not None else None,
            payload=entry.get("payload") or {},
        )
    return events


def _event_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.uuid4()
