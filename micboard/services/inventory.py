"""InventoryService: receivers, channels, units, locations and groups as admins edit them.

Receivers arrive through `upsert_device` (the Devices page's Add, discovery's Add, and
`import_device_list`, which the page's import and `import_devices` share); a receiver met
again on a new address is matched by its serial and moved, never added twice. Edits on the
Devices page and in the admin go through `save_row` / `delete_row`, so they are validated,
audited where the model keeps history, and announced to open walls and to the poller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models, transaction

from micboard import access
from micboard.events import EventKind, announce
from micboard.models import (
    Charger,
    IgnoredDevice,
    Location,
    MonitoringGroup,
    Performer,
    PerformerAssignment,
    RFChannel,
    WirelessChassis,
    WirelessUnit,
)
from micboard.models.base import resolve_organization_id
from micboard.services.common import validate_fields
from micboard.services.performer_assignment import PerformerAssignmentService

if TYPE_CHECKING:
    from micboard.devicelist import DeviceEntry
    from micboard.devices import DeviceInfo, Protocol
    from micboard.services.common import ActingUser


@dataclass(frozen=True, slots=True)
class RemovalConsequences:
    """What removing a receiver takes with it, to say before it is done."""

    units: int
    assignments: int
    active_performers: tuple[str, ...]
    alerts: int


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    created: int
    updated: int


UNIT_KIND_BY_MODEL_PREFIX = {"P10T": WirelessUnit.Kind.IEM, "PSM": WirelessUnit.Kind.IEM}


class InventoryService:
    """Create, change and remove equipment and groups; admins only when a user is named."""

    @staticmethod
    def save_row(row: models.Model, *, by_user: ActingUser = None) -> models.Model:
        """Validate and save one inventory row: chassis, channel, unit, location, group,
        charger."""
        if by_user is not None:
            access.require_admin(by_user)
        with transaction.atomic():
            if getattr(row, "organization_id", 0) is None:
                row.organization_id = resolve_organization_id()  # type: ignore[attr-defined]
            validate_fields(row)
            row.save()
            _announce_row(EventKind.INVENTORY_SAVED, row)
        return row

    @staticmethod
    def place_manual_unit(
        group: MonitoringGroup,
        performer: Performer,
        *,
        slot: str,
        kind: str,
        by_user: ActingUser = None,
    ) -> PerformerAssignment:
        """Put an unnetworked device (a G3 IEM pack, a wired spare) with its performer on
        the group's wall: a unit with no receiver, so nothing reads it and its tile says so.
        It takes the wall's next place, like any new assignment."""
        if by_user is not None:
            access.require_group_admin(by_user, group)
        with transaction.atomic():
            unit = WirelessUnit(organization_id=group.organization_id, slot=slot, kind=kind)
            validate_fields(unit)
            unit.save()
            _announce_row(EventKind.INVENTORY_SAVED, unit)
            return PerformerAssignmentService.create_assignment(
                performer, unit, group, by_user=by_user
            )

    @staticmethod
    def delete_row(row: models.Model, *, by_user: ActingUser = None) -> None:
        if by_user is not None:
            access.require_admin(by_user)
        with transaction.atomic():
            _announce_row(EventKind.INVENTORY_DELETED, row)
            row.delete()

    @staticmethod
    def upsert_device(
        info: DeviceInfo,
        *,
        location_id: int | None = None,
        meter_interval_ms: int | None = None,
        by_user: ActingUser = None,
    ) -> WirelessChassis:
        """Create or refresh a receiver, its channels and one unit per channel."""
        if by_user is not None:
            access.require_admin(by_user)
        with transaction.atomic():
            chassis = _upsert_chassis(info, location_id, meter_interval_ms)
            for channel_info in info.channels:
                channel, _ = RFChannel.objects.update_or_create(
                    chassis=chassis,
                    number=channel_info.number,
                    defaults={
                        "organization_id": chassis.organization_id,
                        "name": channel_info.name,
                        "frequency_khz": channel_info.frequency_khz,
                    },
                )
                _ensure_unit(chassis, channel, location_id)
            announce(
                EventKind.INVENTORY_IMPORTED, unit_ids=chassis.units.values_list("id", flat=True)
            )
        return chassis

    @staticmethod
    def import_device_list(
        entries: list[DeviceEntry], *, by_user: ActingUser = None
    ) -> ImportOutcome:
        """Add or refresh every receiver of a device list, all or nothing."""
        if by_user is not None:
            access.require_admin(by_user)
        created = 0
        with transaction.atomic():
            for entry in entries:
                known = _existing_chassis(entry.info) is not None
                InventoryService.upsert_device(
                    entry.info,
                    location_id=_location_id(entry.location),
                    meter_interval_ms=entry.meter_interval_ms,
                )
                created += not known
        return ImportOutcome(created=created, updated=len(entries) - created)

    @staticmethod
    def get_removal_consequences(chassis: WirelessChassis) -> RemovalConsequences:
        assignments = PerformerAssignment.objects.filter(wireless_unit__base_chassis=chassis)
        active = assignments.active().select_related("performer").order_by("performer__name")
        return RemovalConsequences(
            units=chassis.units.count(),
            assignments=assignments.count(),
            active_performers=tuple(dict.fromkeys(a.performer.name for a in active)),
            alerts=chassis.units.aggregate(n=models.Count("alerts"))["n"],
        )

    @staticmethod
    def readdress_device(info: DeviceInfo) -> WirelessChassis | None:
        """Move a known receiver (same protocol and serial) to the address it was found at.

        Discovery's write, on the system's behalf: the receiver is matched in every
        organization, as the network it was heard on is not one tenant's.
        """
        if not info.serial:
            return None
        with transaction.atomic():
            same = WirelessChassis.unscoped.select_for_update().filter(
                protocol=str(info.protocol), serial=info.serial
            )
            matches = list(same[:2])
            taken = same.filter(host=info.host, port=info.port).exists()
            if len(matches) != 1 or taken:
                return None  # ambiguous, or already where it was heard
            chassis = matches[0]
            chassis.host, chassis.port = info.host, info.port
            chassis.save(update_fields=["host", "port"])
            announce(EventKind.INVENTORY_SAVED, unit_ids=_units_of(chassis))
        return chassis

    @staticmethod
    def ignore_device(
        protocol: Protocol, identity: str, model: str = "", *, by_user: ActingUser = None
    ) -> IgnoredDevice:
        """Keep a discovered receiver off the Discovered list."""
        if by_user is not None:
            access.require_admin(by_user)
        ignored, _ = IgnoredDevice.objects.get_or_create(
            protocol=str(protocol),
            identity=identity[:300],
            organization_id=resolve_organization_id(),
            defaults={"model": model[:100]},
        )
        return ignored


def _existing_chassis(info: DeviceInfo) -> WirelessChassis | None:
    """The receiver this one is: the same serial (wherever it is now), else the same address."""
    chassis = WirelessChassis.objects.filter(protocol=str(info.protocol))
    if info.serial:
        # Shure's 2202 "serial" is the DEVICE_ID a user sets, so two receivers may share
        # one: only a serial that names exactly one receiver identifies it.
        same_serial = list(chassis.filter(serial=info.serial)[:2])
        if len(same_serial) == 1:
            return same_serial[0]
    return chassis.filter(host=info.host, port=info.port, serial=info.serial).first()


def _upsert_chassis(
    info: DeviceInfo, location_id: int | None, meter_interval_ms: int | None
) -> WirelessChassis:
    chassis = _existing_chassis(info) or WirelessChassis(
        organization_id=resolve_organization_id(), name=""
    )
    chassis.host, chassis.port, chassis.serial = info.host, info.port, info.serial
    chassis.manufacturer, chassis.model = info.manufacturer, info.model
    chassis.protocol, chassis.firmware = str(info.protocol), info.firmware
    chassis.name = info.name or chassis.name or f"{info.model} {info.host}:{info.port}"
    if location_id is not None:
        chassis.location_id = location_id
    if meter_interval_ms is not None:
        chassis.meter_interval_ms = meter_interval_ms
    validate_fields(chassis)
    chassis.save()
    return chassis


def _location_id(name: str) -> int | None:
    if not name:
        return None
    location, _ = Location.objects.get_or_create(
        name=name, organization_id=resolve_organization_id()
    )
    return location.pk


def _ensure_unit(chassis: WirelessChassis, channel: RFChannel, location_id: int | None) -> None:
    if WirelessUnit.objects.filter(rf_channel=channel).exists():
        return
    kind = next(
        (k for prefix, k in UNIT_KIND_BY_MODEL_PREFIX.items() if chassis.model.startswith(prefix)),
        WirelessUnit.Kind.HANDHELD,
    )
    WirelessUnit.objects.create(
        organization_id=chassis.organization_id,
        base_chassis=chassis,
        rf_channel=channel,
        location_id=location_id,
        name=channel.name,
        kind=kind,
        frequency_khz=channel.frequency_khz,
    )


def _announce_row(kind: EventKind, row: models.Model) -> None:
    """Announce a change to equipment; a group's own save is announced by its model signal
    (micboard/signals.py), on every path."""
    if isinstance(row, WirelessUnit):
        announce(kind, unit_ids=[row.pk])
    elif isinstance(row, WirelessChassis | RFChannel):
        announce(kind, unit_ids=_units_of(row))
    elif isinstance(row, Charger):
        announce(kind)  # no units: the pollers re-read their topology, chargers included


def _units_of(row: WirelessChassis | RFChannel) -> list[int]:
    if isinstance(row, WirelessChassis):
        return list(row.units.values_list("id", flat=True))
    return list(WirelessUnit.objects.filter(rf_channel=row).values_list("id", flat=True))
