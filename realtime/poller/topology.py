"""What the poller must know from the database: devices, which unit sits on which
channel, and which monitoring groups watch each unit (through active assignments)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from micboard.models import Charger, PerformerAssignment, WirelessChassis, WirelessUnit


@dataclass(frozen=True, slots=True)
class ChassisInfo:
    id: int
    protocol: str
    host: str
    port: int
    name: str = ""
    model: str = ""
    serial: str = ""
    meter_interval_ms: int | None = None  # None: the client's default


@dataclass(frozen=True, slots=True)
class Topology:
    chassis: dict[int, ChassisInfo] = field(default_factory=dict)
    unit_by_channel: dict[tuple[int, int], int] = field(default_factory=dict)
    groups_by_unit: dict[int, tuple[int, ...]] = field(default_factory=dict)
    units_by_group: dict[int, frozenset[int]] = field(default_factory=dict)
    chargers: dict[int, tuple[str, int]] = field(default_factory=dict)  # id -> (host, port)

    def unit_at(self, chassis_id: int, channel: int) -> int | None:
        return self.unit_by_channel.get((chassis_id, channel))

    def groups_of(self, unit_id: int) -> tuple[int, ...]:
        return self.groups_by_unit.get(unit_id, ())

    def reads(self, protocol: str, host: str, port: int) -> bool:
        """Return True when a receiver at this address is already added."""
        return any(
            (c.protocol, c.host, c.port) == (protocol, host, port) for c in self.chassis.values()
        )

    def units_of(self, chassis_id: int) -> list[int]:
        return [unit for (cid, _), unit in self.unit_by_channel.items() if cid == chassis_id]


def load_topology() -> Topology:
    """Read the topology with four queries (call in the database thread)."""
    fields = ("id", "protocol", "host", "port", "name", "model", "serial", "meter_interval_ms")
    chassis = {row[0]: ChassisInfo(*row) for row in WirelessChassis.objects.values_list(*fields)}
    channels = WirelessUnit.objects.filter(rf_channel__isnull=False).values_list(
        "id", "rf_channel__chassis_id", "rf_channel__number"
    )
    unit_by_channel = {(chassis_id, number): unit for unit, chassis_id, number in channels}
    chargers = {
        pk: (host, port) for pk, host, port in Charger.objects.values_list("id", "host", "port")
    }
    return Topology(chassis, unit_by_channel, *_group_maps(), chargers=chargers)


def _group_maps() -> tuple[dict[int, tuple[int, ...]], dict[int, frozenset[int]]]:
    pairs = (
        PerformerAssignment.objects.active()
        .filter(monitoring_group__is_active=True)
        .values_list("wireless_unit_id", "monitoring_group_id")
    )
    by_unit: defaultdict[int, set[int]] = defaultdict(set)
    by_group: defaultdict[int, set[int]] = defaultdict(set)
    for unit_id, group_id in pairs:
        by_unit[unit_id].add(group_id)
        by_group[group_id].add(unit_id)
    groups_by_unit = {unit: tuple(sorted(groups)) for unit, groups in by_unit.items()}
    units_by_group = {group: frozenset(units) for group, units in by_group.items()}
    return groups_by_unit, units_by_group
