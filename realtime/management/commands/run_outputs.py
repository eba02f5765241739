"""`manage.py run_outputs`: deliver events to webhooks, MQTT and OSC until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import uvloop
from django.core.management.base import BaseCommand

from realtime.outputs.worker import OutputsWorker


class Command(BaseCommand):
    help = "Deliver the outputs' events ({p}:outputs) to each group's enabled outputs."

    def handle(self, *args: Any, **options: Any) -> None:
        uvloop.run(_run())


async def _run() -> None:
    task = asyncio.create_task(OutputsWorker().run())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Cancelling stops every queue and saves the delivery log before the exit.
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
