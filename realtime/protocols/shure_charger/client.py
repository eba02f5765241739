"""Talk to one Shure networked charger over TCP 2202 and yield its bays as they change.

On connect the client asks for everything (`< GET 0 ALL >`: every device value and every
bay [V: Shure's SBC command-string pages, "ALL"]) and then only listens: a charger reports
each change unasked. A charger with nothing changing is silent, so after `idle_probe`
seconds of quiet the client asks for the device id; no answer within `answer_timeout`
means the charger is gone, and the client reconnects with backoff.

    client = ShureChargerClient("10.0.0.40")
    info = await client.discover()
    async with contextlib.aclosing(client.bays()) as bays:
        async for bay in bays:
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import ClassVar

from realtime.protocols.base import Reconnecting
from realtime.protocols.shure_charger.parse import DEVICE_PARAMS, Bay, apply, decode_bay
from realtime.protocols.shure_tcp.parse import Frame, FrameSplitter, parse_frame

DEFAULT_PORT = 2202
READ_SIZE = 65536
# Bays per model [S: from Shure's product pages: SBC220 two bays, SBC240/450 four,
# SBC840/850 eight; ganged SBC220s behind one address report more, so unknown models and
# bays beyond the table are learnt from the dump].
BAYS = {"SBC220": 2, "SBC240": 4, "SBC450": 4, "SBC840": 8, "SBC840M": 8, "SBC850": 8}


@dataclass(frozen=True, slots=True)
class ChargerInfo:
    host: str
    port: int
    model: str
    name: str
    firmware: str
    bays: tuple[Bay, ...]


class ShureChargerClient(Reconnecting[Bay]):
    """Reads one SBC charger; `bays()` yields a Bay each time one changes (once per read)."""

    family: ClassVar[str] = "shure_charger"

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        connect_timeout: float = 2.0,
        reply_window: float = 0.3,
        idle_probe: float = 10.0,
        answer_timeout: float = 3.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 20.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(
            host,
            port,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            unreachable_repeat=0.0,
            seed=seed,
        )
        self.connect_timeout = connect_timeout
        self.reply_window = reply_window
        self.idle_probe = idle_probe
        self.answer_timeout = answer_timeout
        self._device: dict[str, str] = {}
        self._bays: dict[int, Bay] = {}

    async def discover(self) -> ChargerInfo:
        """Read the full dump on a short connection and describe the charger."""
        reader, writer = await self._connect()
        try:
            writer.write(b"< GET 0 ALL >")
            splitter = FrameSplitter()
            while True:
                try:
                    async with asyncio.timeout(self.reply_window):
                        data = await reader.read(READ_SIZE)
                except TimeoutError:
                    break
                if not data:
                    break
                for body in splitter.feed(data):
                    self._fold(body)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        if "MODEL" not in self._device:
            raise ConnectionError("answered, but not as a Shure charger")
        return self.info()

    def info(self) -> ChargerInfo:
        model = self._device.get("MODEL", "")
        for number in range(1, BAYS.get(model, 0) + 1):
            self._bays.setdefault(number, Bay(number))
        return ChargerInfo(
            self.host,
            self.port,
            model,
            self._device.get("DEVICE_ID", ""),
            self._device.get("FW_VER", ""),
            tuple(self._bays[n] for n in sorted(self._bays)),
        )

    def bays(self) -> AsyncGenerator[Bay, None]:
        """Yield each bay whose state changed, until close(); reconnect on loss."""
        return self._follow()

    def _unreachable(self) -> list[Bay]:
        return []  # the bays keep their last state; `reachable` says the charger is gone

    async def close(self) -> None:
        self._closed.set()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with asyncio.timeout(self.connect_timeout):
            return await asyncio.open_connection(self.host, self.port)

    async def _session(self) -> AsyncGenerator[Bay, None]:
        reader, writer = await self._connect()
        closed = asyncio.create_task(self._closed.wait())
        try:
            writer.write(b"< GET 0 ALL >")
            splitter = FrameSplitter()
            while True:
                data = await self._read(reader, writer, closed)
                if data is None:
                    return
                # A bay's frames of one read arrived together: yield the bay once, whole.
                changed = {
                    bay.bay: bay for body in splitter.feed(data) if (bay := self._fold(body))
                }
                for number in sorted(changed):
                    yield self._bays[number]
        finally:
            closed.cancel()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _read(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, closed: asyncio.Task[bool]
    ) -> bytes | None:
        """Return the next bytes; None once closed. Quiet too long: ask, then give up."""
        for wait, probe in ((self.idle_probe, True), (self.answer_timeout, False)):
            read = asyncio.ensure_future(reader.read(READ_SIZE))
            done, _ = await asyncio.wait(
                {read, closed}, timeout=wait, return_when="FIRST_COMPLETED"
            )
            if read in done:
                data = read.result()
                if not data:
                    raise ConnectionResetError("the charger closed the connection")
                return data
            read.cancel()
            if closed in done:
                return None
            if probe:
                writer.write(b"< GET DEVICE_ID >")
        raise TimeoutError("the charger stopped answering")

    def _fold(self, body: str) -> Bay | None:
        """Fold one frame into the state; return the bay when it changed."""
        frame = parse_frame(body)
        if frame is None or frame.kind not in ("REP", "REPORT"):
            return None
        if frame.channel is None:
            self._device_value(frame)
            return None
        changes = decode_bay(frame)
        if changes is None or frame.channel == 0:
            return None
        before = self._bays.get(frame.channel, Bay(frame.channel))
        after = apply(before, changes)
        self._bays[frame.channel] = after
        return after if after != before else None

    def _device_value(self, frame: Frame) -> None:
        if frame.param in DEVICE_PARAMS:
            self._device[frame.param] = frame.value.strip()
