"""Serve the Planning Center simulator with the demo's week (docs/rosters.md)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from micboard.rosters.simulator import (
    DEMO_APP_ID,
    DEMO_SECRET,
    PcoSimulator,
    demo_service_types,
)

DEFAULT_PORT = 8765


class Command(BaseCommand):
    help = "Serve a Planning Center Services simulator on loopback with next Sunday's plans."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=DEFAULT_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        simulator = PcoSimulator(DEMO_APP_ID, DEMO_SECRET, demo_service_types(), options["port"])
        # The simulator's own demo credentials, like the demo logins seed_demo prints.
        self.stdout.write(
            f"Planning Center simulator at {simulator.url} "
            f"(application id {DEMO_APP_ID!r}, secret {DEMO_SECRET!r})"
        )
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it is stopped
            simulator.serve_forever()
