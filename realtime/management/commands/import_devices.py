"""Import receivers (and a unit per channel) from a device list file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from micboard.models import Location
from micboard.services.inventory import InventoryService
from micboard.tenancy import tenant_context
from realtime.simulation.devicelist import read_device_list


class Command(BaseCommand):
    help = "Create or refresh WirelessChassis, RFChannel and WirelessUnit rows from a device list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="JSON device list (simulate_devices --write)")
        parser.add_argument("--organization", type=int, help="organization id (multi-tenant)")
        parser.add_argument("--location", help="name of the location the devices are kept at")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            devices = read_device_list(options["file"])
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        with tenant_context(options["organization"]):
            location_id = self._location_id(options["location"])
            for device in devices:
                chassis = InventoryService.upsert_device(device, location_id=location_id)
                self.stdout.write(f"{chassis.name}: {len(device.channels)} channels")
        self.stdout.write(self.style.SUCCESS(f"Imported {len(devices)} devices."))

    def _location_id(self, name: str | None) -> int | None:
        if not name:
            return None
        location, _ = Location.objects.get_or_create(name=name)
        return location.pk
