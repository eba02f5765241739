"""Run a whole simulated stage of receivers on this machine until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

import uvloop
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from micboard.devicelist import write_device_list
from realtime.simulation.announce import StageAnnouncer
from realtime.simulation.stage import (
    DEMO_STAGE,
    StageConfig,
    build_chargers,
    build_simulators,
    load_config,
    served_devices,
)


class Command(BaseCommand):
    help = "Start simulated receivers (Shure TCP 2202, Sennheiser SSCv2, …) on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--config", type=Path, help="stage TOML (default: the demo stage)")
        parser.add_argument("--bind", default=None, help="address to listen on")
        parser.add_argument("--write", type=Path, help="write the device list (JSON) here")
        parser.add_argument(
            "--no-announce",
            action="store_true",
            help="do not announce the receivers over SLP and mDNS (discovery will not see them)",
        )
        parser.add_argument(
            "--slp-port",
            type=int,
            default=settings.MICBOARD_DISCOVERY_SLP_PORT,
            help="UDP port of the SLP announcements (default: MICBOARD_DISCOVERY_SLP_PORT)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = self._config(options["config"])
        announce = None if options["no_announce"] else options["slp_port"]
        uvloop.run(self._serve(config, options["bind"], options["write"], announce))

    def _config(self, path: Path | None) -> StageConfig:
        if path is None:
            return DEMO_STAGE
        try:
            return load_config(path)
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error

    async def _serve(
        self, config: StageConfig, bind: str | None, write: Path | None, slp_port: int | None
    ) -> None:
        simulators = build_simulators(config, host=bind)
        chargers = build_chargers(config, host=bind)
        for simulator in [*simulators, *chargers]:
            await simulator.start()
        announcer = None
        if slp_port is not None:
            announcer = StageAnnouncer(simulators, slp_port=slp_port)
            await announcer.start()
        devices = [device for simulator in simulators for device in served_devices(simulator)]
        if write is not None:
            write_device_list(write, devices)
        channels = sum(len(device.channels) for device in devices)
        self.stdout.write(
            f"Simulating {len(devices)} receivers, {channels} channels; chargers: {len(chargers)}."
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        if announcer is not None:
            await announcer.stop()
        for simulator in [*simulators, *chargers]:
            with contextlib.suppress(Exception):
                await simulator.stop()
