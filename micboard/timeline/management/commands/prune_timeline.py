"""Delete timeline data older than MICBOARD_TIMELINE_DAYS (the poller also runs this hourly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from micboard.timeline.store import prune


class Command(BaseCommand):
    help = "Delete timeline points older than the retention settings."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"pruned {prune()} timeline rows")
