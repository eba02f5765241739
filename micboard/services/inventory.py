"""InventoryService: receivers, channels, units, locations and groups as admins edit them.

Devices found on the network arrive through `upsert_device` (used by `import_devices`);
hand edits in the admin go through `save_row` / `delete_row`, so they are validated,
audited where the model keeps history, and announced to open walls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models, transaction

from micboard import access
from micboard.events import EventKind, announce
from micboard.models import RFChannel, WirelessChassis, WirelessUnit
from micboard.models.base import resolve_organization_id
from micboard.services.common import validate_fields

if TYPE_CHECKING:
    from micboard.devices import DeviceInfo
    from micboard.services.common import ActingUser

UNIT_KIND_BY_MODEL_PREFIX = {"P10T": WirelessUnit.Kind.IEM, "PSM": WirelessUnit.Kind.IEM}


class InventoryService:
    """Create, change and remove equipment and groups; admins only when a user is named."""

    @staticmethod
    def save_row(row: models.Model, *, by_user: ActingUser = None) -> models.Model:
        """Validate and save one inventory row (chassis, channel, unit, location, group)."""
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
    def delete_row(row: models.Model, *, by_user: ActingUser = None) -> None:
        if by_user is not None:
            access.require_admin(by_user)
        with transaction.atomic():
            _announce_row(EventKind.INVENTORY_DELETED, row)
            row.delete()

    @staticmethod
    def upsert_device(
        info: DeviceInfo, *, location_id: int | None = None, by_user: ActingUser = None
    ) -> WirelessChassis:
        """Create or refresh a receiver, its channels and one unit per channel."""
        if by_user is not None:
            access.require_admin(by_user)
        with transaction.atomic():
            chassis = _upsert_chassis(info, location_id)
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


def _upsert_chassis(info: DeviceInfo, location_id: int | None) -> WirelessChassis:
    chassis, _ = WirelessChassis.objects.update_or_create(
        host=info.host,
        port=info.port,
        serial=info.serial,
        organization_id=resolve_organization_id(),
        defaults={
            "manufacturer": info.manufacturer,
            "model": info.model,
            "name": info.name or f"{info.model} {info.host}:{info.port}",
            "protocol": str(info.protocol),
            "firmware": info.firmware,
            "location_id": location_id,
        },
    )
    return chassis


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


def _units_of(row: WirelessChassis | RFChannel) -> list[int]:
    if isinstance(row, WirelessChassis):
        return list(row.units.values_list("id", flat=True))
    return list(WirelessUnit.objects.filter(rf_channel=row).values_list("id", flat=True))
