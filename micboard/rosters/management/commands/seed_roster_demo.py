"""Connect the demo stage to the Planning Center simulator (run_stack runs it after
seed_demo): the demo token, the demo performers linked to the simulator's people, position
pools on the Main stage group, and the schedule (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from micboard.models import MonitoringGroup, PerformerAssignment, WirelessUnit
from micboard.rosters.models import StatusFilter
from micboard.rosters.simulator import DEMO_APP_ID, DEMO_SECRET, DEMO_TEAM
from micboard.services import PerformerAssignmentService, PerformerService
from micboard.services.rosters import RosterService
from micboard.tenancy import tenant_context

DEMO_SERVICE_TYPE = "201"
# The band's spare handhelds the demo frees for the vocal team's newcomers.
SPARES = ("HH13", "HH17")
# Position → the demo stage's slots it fills, in order (seed_demo numbers the slots).
DEMO_POOLS = {
    "Lead Vocals": ["HH01"],
    "Vocals": ["HH02", "HH03", "HH13", "HH17"],
    "Host": ["HH05"],
    "Preaching": ["HH06"],
}


class Command(BaseCommand):
    help = "Connect the demo stage to the Planning Center simulator (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", type=int, help="organization id (multi-tenant)")

    def handle(self, *args: Any, **options: Any) -> None:
        with tenant_context(options["organization"]), transaction.atomic():
            group = MonitoringGroup.objects.filter(name="Main stage").first()
            if group is None or RosterService.get_connection() is not None:
                self.stdout.write("The roster demo is already there (or no demo stage).")
                return
            RosterService.connect(DEMO_APP_ID, DEMO_SECRET)
            self._link_people()
            self._free_spares()
            for position, slots in DEMO_POOLS.items():
                units = [u for slot in slots for u in WirelessUnit.objects.filter(slot=slot)]
                if units:
                    RosterService.save_pool(group, position, units)
            RosterService.configure_schedule(DEMO_SERVICE_TYPE, group, StatusFilter.CONFIRMED)
        self.stdout.write(
            self.style.SUCCESS("Roster demo ready: /rosters/ (Planning Center simulator).")
        )

    def _free_spares(self) -> None:
        worn = PerformerAssignment.objects.filter(is_active=True, wireless_unit__slot__in=SPARES)
        for assignment in worn:
            PerformerAssignmentService.deactivate_assignment(assignment)

    def _link_people(self) -> None:
        """The demo stage's performers are the simulator's people 1001-1012, by id."""
        for person_id, name, _position, _status in DEMO_TEAM:
            performer = PerformerService.get_performer_by_name(name)
            if performer is not None:
                RosterService.link_person(person_id, performer)
