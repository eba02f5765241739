"""Import receivers (and a unit per channel) from a device list file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from micboard.devicelist import read_device_list
from micboard.services.inventory import InventoryService
from micboard.tenancy import tenant_context


class Command(BaseCommand):
    help = "Create or refresh WirelessChassis, RFChannel and WirelessUnit rows from a device list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="JSON device list (simulate_devices --write)")
        parser.add_argument("--organization", type=int, help="organization id (multi-tenant)")
        parser.add_argument(
            "--location", help="location for every device (overrides the list's own)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            devices = read_device_list(options["file"])
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        if options["location"]:
            devices = [replace(d, location=options["location"]) for d in devices]
        with tenant_context(options["organization"]):
            try:
                outcome = InventoryService.import_device_list(devices)
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
        for device in devices:
            self.stdout.write(
                f"{device.info.name or device.info.model}: {len(device.info.channels)} channels"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(devices)} devices: {outcome.created} new, "
                f"{outcome.updated} updated."
            )
        )
