"""`manage.py run_poller`: run one live poller until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from typing import Any

import uvloop
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from realtime.poller import Poller, PollerConfig


class Command(BaseCommand):
    help = "Read the devices this poller holds leases for and keep the live state in Redis."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", dest="poller_id", help="poller id (default: host-pid-random)")
        parser.add_argument(
            "--frame-ms",
            type=int,
            default=25,
            help="coalescing tick under load: one delta per group this often (default 25)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = PollerConfig(
            frame_interval=options["frame_ms"] / 1000,
            discovery=settings.MICBOARD_DISCOVERY,
            slp_port=settings.MICBOARD_DISCOVERY_SLP_PORT,
            discovery_interfaces=tuple(settings.MICBOARD_DISCOVERY_INTERFACES),
        )
        if options["poller_id"]:
            config = dataclasses.replace(config, poller_id=options["poller_id"])
        uvloop.run(_run(config))


async def _run(config: PollerConfig) -> None:
    task = asyncio.create_task(Poller(config).run())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Cancelling lets the poller hand its devices back before it exits.
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
