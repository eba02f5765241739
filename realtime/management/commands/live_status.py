"""`manage.py live_status`: pollers (rates, lag) and the owner of every device."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from realtime.live_status import (
    DEVICE_HEADERS,
    POLLER_COLUMNS,
    device_rows,
    format_table,
    poller_rows,
    publishing_line,
)
from realtime.redis_client import sync_client


class Command(BaseCommand):
    help = "Show live pollers (message rates, lag) and which poller reads each device."

    def handle(self, *args: Any, **options: Any) -> None:
        client = sync_client()
        pollers = poller_rows(client)
        headers = [title for title, _ in POLLER_COLUMNS]
        self.stdout.write(format_table(headers, pollers) if pollers else "No live poller.")
        self.stdout.write(publishing_line(client))
        self.stdout.write("")
        devices = device_rows(client)
        self.stdout.write(format_table(DEVICE_HEADERS, devices) if devices else "No devices.")
