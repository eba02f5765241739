"""Create the demo stage: devices of the simulated stage, performers, groups and users."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from micboard.models import Charger, Location, MonitoringGroup, UserProfile, WirelessUnit
from micboard.services import PerformerAssignmentService, PerformerService, SharedMicService
from micboard.services.inventory import InventoryService
from micboard.tenancy import tenant_context
from realtime.simulation.stage import DEMO_STAGE, build_chargers, device_infos

DEMO_USERS = {  # username: (password, role) — printed once, when created
    "admin": ("micboard-admin", UserProfile.Role.ADMIN),
    "tech": ("micboard-tech", UserProfile.Role.TECH),
}
PERFORMERS = [  # name, title, priority, alert on audio low
    ("Maya Okafor", "Lead Vocals", "critical", True),
    ("Leo Brandt", "Backing Vocals", "high", False),
    ("Sofia Reyes", "Backing Vocals", "high", False),
    ("Jonah Pike", "Acoustic Guitar", "normal", False),
    ("Amara Lindqvist", "Host", "critical", True),
    ("Tomás Ferreira", "Pastor", "high", True),
    ("Grace Whitfield", "Keys / Vocals", "normal", False),
    ("Eli Nakamura", "Drums", "low", False),
    ("Priya Raman", "Bass", "normal", False),
    ("Owen Castillo", "Electric Guitar", "normal", False),
    ("Hana Sato", "Choir Lead", "high", False),
    ("Dev Mehta", "Stage Manager", "low", False),
]
SLOT_PREFIX = {"handheld": "HH", "bodypack": "BP", "iem": "IEM"}


class Command(BaseCommand):
    help = "Seed the demo stage (idempotent): devices, performers, groups, an admin and a tech."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", type=int, help="organization id (multi-tenant)")

    def handle(self, *args: Any, **options: Any) -> None:
        with tenant_context(options["organization"]), transaction.atomic():
            if MonitoringGroup.objects.filter(name="Main stage").exists():
                self.stdout.write("Demo data is already there.")
                return
            units = self._import_devices()
            self._chargers()
            groups = self._groups()
            self._assign(units, groups)
            created = self._users(groups)
        self._print_logins(created)

    def _import_devices(self) -> list[WirelessUnit]:
        main, _ = Location.objects.get_or_create(name="Main stage")
        for device in device_infos(DEMO_STAGE):
            InventoryService.upsert_device(device, location_id=main.pk)
        units = list(WirelessUnit.objects.select_related("base_chassis", "rf_channel"))
        units.sort(
            key=lambda unit: (
                unit.base_chassis.port if unit.base_chassis else 0,
                unit.rf_channel.number if unit.rf_channel else 0,
            )
        )
        counters: dict[str, int] = {}
        for unit in units:
            prefix = SLOT_PREFIX.get(unit.kind, "CH")
            counters[prefix] = counters.get(prefix, 0) + 1
            unit.slot = f"{prefix}{counters[prefix]:02d}"
            InventoryService.save_row(unit)
        return units

    def _chargers(self) -> None:
        main = Location.objects.get(name="Main stage")
        for number, charger in enumerate(build_chargers(DEMO_STAGE), start=1):
            row = Charger(
                name=f"Charger {number} (stage left)",
                model=charger.model,
                host=charger.host,
                port=charger.port,
                location=main,
            )
            InventoryService.save_row(row)

    def _groups(self) -> list[MonitoringGroup]:
        main = MonitoringGroup(name="Main stage", description="Front-of-house vocal mics")
        band = MonitoringGroup(name="Band & IEM", description="Band mics and in-ear packs")
        return [InventoryService.save_row(main), InventoryService.save_row(band)]  # type: ignore[list-item]

    def _assign(self, units: list[WirelessUnit], groups: list[MonitoringGroup]) -> None:
        main, band = groups
        for index, (name, title, priority, audio_low) in enumerate(PERFORMERS):
            performer = PerformerService.create_performer(name=name, title=title)
            group = main if index < 8 else band
            PerformerAssignmentService.create_assignment(
                performer=performer,
                wireless_unit=units[index],
                monitoring_group=group,
                priority=priority,
                alert_on_audio_low=audio_low,
                alert_enabled=priority != "low",
            )
        self._share_hosts_handheld(units[4], main)
        lead = PerformerService.get_performer_by_name("Maya Okafor")
        assert lead is not None
        for unit in units[12:]:  # the band's remaining packs, the lead's IEM among them
            PerformerAssignmentService.create_assignment(
                performer=lead if unit.kind == WirelessUnit.Kind.IEM else _next_band(unit),
                wireless_unit=unit,
                monitoring_group=band,
                priority="high",
            )
        # A wired G3 IEM pack no receiver reports: the band's wall shows it as a manual tile.
        bass = PerformerService.get_performer_by_name("Priya Raman")
        assert bass is not None
        InventoryService.place_manual_unit(band, bass, slot="IEM-G3", kind=WirelessUnit.Kind.IEM)

    def _share_hosts_handheld(self, unit: WirelessUnit, main: MonitoringGroup) -> None:
        """The host hands her handheld to the pastor and takes it back (docs/rosters.md)."""
        pastor = PerformerService.get_performer_by_name("Tomás Ferreira")
        assert pastor is not None
        PerformerAssignmentService.create_assignment(pastor, unit, main, priority="high")
        for assignment in PerformerAssignmentService.get_unit_assignments(unit).order_by("pk"):
            SharedMicService.add_turn(assignment)

    def _users(self, groups: list[MonitoringGroup]) -> list[str]:
        created = []
        for username, (password, role) in DEMO_USERS.items():
            user, made = User.objects.get_or_create(username=username)
            if made:
                user.set_password(password)
                user.is_staff = role == UserProfile.Role.ADMIN
                user.save()
                created.append(username)
            UserProfile.objects.filter(user=user).update(role=role)
        groups[0].users.add(User.objects.get(username="tech"))
        return created

    def _print_logins(self, created: list[str]) -> None:
        self.stdout.write(self.style.SUCCESS("Demo stage ready."))
        for username in created:
            password, role = DEMO_USERS[username]
            self.stdout.write(f"  {role:5}  login {username!r} with password {password!r}")


def _next_band(unit: WirelessUnit) -> Any:
    """Pick a band member for a spare pack, round-robin by slot."""
    band = [name for name, *_ in PERFORMERS[8:]]
    performer = PerformerService.get_performer_by_name(band[unit.pk % len(band)])
    assert performer is not None
    return performer
