"""The scheduled roster sync: each organization's configured service type's next plan into
its group, once or every N minutes (run_stack and the compose file's `rosters` service)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from micboard.rosters.models import PcoConnection
from micboard.rosters.pco import PcoError
from micboard.services.rosters import RosterService
from micboard.tenancy import system_context, tenant_context


class Command(BaseCommand):
    help = "Sync the next plan of each configured Planning Center service type into its group."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every", type=int, default=0, metavar="N", help="repeat every N minutes"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if options["every"] > 0:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
        while True:
            self.sync_all()
            if options["every"] <= 0 or stop.wait(options["every"] * 60):
                return

    def sync_all(self) -> None:
        with system_context():
            organizations = list(
                PcoConnection.objects.filter(schedule_group__isnull=False)
                .exclude(service_type_id="")
                .values_list("organization_id", flat=True)
            )
        for organization_id in organizations:
            with tenant_context(organization_id):
                self.stdout.write(self._sync_one())

    def _sync_one(self) -> str:
        try:
            plan = RosterService.sync_next_plan()
        except PcoError as error:
            return f"failed: {error}"
        except ValidationError as error:  # recorded on the group; the next run tries again
            return f"failed: {' '.join(error.messages)}"
        if plan is None:
            return "no schedule"
        return (
            f"{plan.source}: {len(plan.added)} assigned, {len(plan.ended)} ended, "
            f"{len(plan.kept)} kept, {len(plan.unplaced)} not placed"
        )
