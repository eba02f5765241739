"""A simulated Shure networked charger (SBC850 by default): a real TCP 2202 server.

It answers `GET 0 ALL` / `GET n ALL` with the device values and the bays' REPs, `GET
DEVICE_ID`, `GET MODEL`, `GET FW_VER`, and reports each bay change to every connected
client unasked, as the chargers do (facts and confidence:
`realtime/protocols/shure_charger/parse.py`). Packs charge on a clock `time_scale` times
faster than the wall: about 1 % a minute up to 80 %, slower after.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from realtime.protocols.shure_charger.client import BAYS
from realtime.protocols.shure_tcp.parse import FrameSplitter, parse_frame

TICK = 0.1
NO_CHARGE_MINUTES = 65529  # what a full or empty bay reports for time to full [S]


@dataclass
class Pack:
    charge: float
    health: int
    cycles: int
    temperature_c: int = 28
    error: int = 0


class ShureChargerSimulator:
    def __init__(
        self,
        model: str = "SBC850",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "CHARGER 1",
        time_scale: float = 1.0,
    ) -> None:
        self.model = model
        self.host = host
        self.port = port
        self.name = name
        self.time_scale = time_scale
        self.reachable = True
        self.packs: dict[int, Pack | None] = dict.fromkeys(range(1, BAYS.get(model, 4) + 1))
        self.commands_heard: list[str] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._clock: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._clock = asyncio.create_task(self._run_clock())

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
        self._drop_clients()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # Controls for tests, the stage and the demo.

    def insert(
        self, bay: int, *, charge: int = 40, health: int = 96, cycles: int = 120, error: int = 0
    ) -> None:
        """Put a pack into a bay, as a person does."""
        self.packs[bay] = Pack(float(charge), health, cycles, error=error)
        self._report(self._bay_frames(bay))

    def remove(self, bay: int) -> None:
        self.packs[bay] = None
        self._report([f"REP {bay} BATT_DETECTED NO"])

    def set_reachable(self, reachable: bool) -> None:
        """False drops every connection and stalls new ones (a pulled cable)."""
        self.reachable = reachable
        if not reachable:
            self._drop_clients()

    # The wire.

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.reachable:
            writer.close()
            return
        self._writers.add(writer)
        splitter = FrameSplitter()
        try:
            while data := await reader.read(4096):
                if not self.reachable:
                    break
                for body in splitter.feed(data):
                    self._send(writer, self._answer(body))
        except OSError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    @property
    def connections(self) -> int:
        return len(self._writers)

    def _answer(self, body: str) -> list[str]:
        self.commands_heard.append(body)
        frame = parse_frame(body)
        if frame is None or frame.kind != "GET":
            return ["REP ERR"]
        if frame.param == "ALL":
            bays = list(self.packs) if not frame.channel else [frame.channel]
            return self._device_frames() + [
                f for b in bays if b in self.packs for f in self._bay_frames(b)
            ]
        device = {"MODEL": self._braced(self.model, 32), "DEVICE_ID": self._braced(self.name, 31)}
        if frame.param in device:
            return [f"REP {frame.param} {device[frame.param]}"]
        if frame.param == "FW_VER":
            return [f"REP FW_VER {self._braced('1.4.53.0', 24)}"]
        return []  # silent for what a charger lacks, as the receivers are

    @staticmethod
    def _braced(text: str, width: int) -> str:
        return "{" + text.ljust(width) + "}"

    def _device_frames(self) -> list[str]:
        return [
            f"REP MODEL {self._braced(self.model, 32)}",
            f"REP DEVICE_ID {self._braced(self.name, 31)}",
            f"REP FW_VER {self._braced('1.4.53.0', 24)}",
            "REP STORAGE_MODE OFF",
        ]

    def _bay_frames(self, bay: int) -> list[str]:
        pack = self.packs[bay]
        if pack is None:
            return [f"REP {bay} BATT_DETECTED NO"]
        if pack.error:
            state, charge, to_full = "ERROR", "254", "65534"
        else:
            state = "FULL" if pack.charge >= 100 else "CHARGING"
            charge, to_full = f"{int(pack.charge):03d}", f"{self._minutes_to_full(pack):05d}"
        return [
            f"REP {bay} BATT_DETECTED YES",
            f"REP {bay} BATT_TIME_TO_FULL {to_full}",
            f"REP {bay} BATT_STATE {state}",
            f"REP {bay} BATT_CHARGE {charge}",
            f"REP {bay} BATT_CYCLE {pack.cycles:05d}",
            f"REP {bay} BATT_TEMP_C {pack.temperature_c:03d}",
            f"REP {bay} BATT_HEALTH {pack.health:03d}",
            f"REP {bay} BATT_ERROR {pack.error:03d}",
        ]

    @staticmethod
    def _minutes_to_full(pack: Pack) -> int:
        if pack.charge >= 100:
            return NO_CHARGE_MINUTES
        fast = max(0.0, 80 - pack.charge)  # 1 % a minute to 80 %
        slow = (100 - max(80.0, pack.charge)) * 2  # then 2 minutes a percent
        return round(fast + slow)

    def _send(self, writer: asyncio.StreamWriter, bodies: list[str]) -> None:
        if bodies and not writer.is_closing():
            writer.write("".join(f"< {b} >" for b in bodies).encode())

    def _report(self, bodies: list[str]) -> None:
        for writer in list(self._writers):
            self._send(writer, bodies)

    def _drop_clients(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(TICK)
            now = loop.time()
            minutes = (now - last) * self.time_scale / 60
            last = now
            for bay, pack in self.packs.items():
                if pack is not None and not pack.error and pack.charge < 100:
                    self._charge(bay, pack, minutes)

    def _charge(self, bay: int, pack: Pack, minutes: float) -> None:
        before = (int(pack.charge), self._minutes_to_full(pack))
        rate = 1.0 if pack.charge < 80 else 0.5
        pack.charge = min(100.0, pack.charge + rate * minutes)
        if pack.charge >= 100:
            pack.cycles += 1
        after = (int(pack.charge), self._minutes_to_full(pack))
        if after != before:
            self._report(
                [
                    f"REP {bay} BATT_CHARGE {after[0]:03d}",
                    f"REP {bay} BATT_TIME_TO_FULL {after[1]:05d}",
                    f"REP {bay} BATT_STATE {'FULL' if after[0] >= 100 else 'CHARGING'}",
                ]
                + ([f"REP {bay} BATT_CYCLE {pack.cycles:05d}"] if after[0] >= 100 else [])
            )
