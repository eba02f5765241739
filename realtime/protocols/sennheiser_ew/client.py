"""Talk to one evolution wireless G3/G4 receiver over UDP 53212 and yield Readings.

The receiver sends nothing until asked: `Push <timeout s> <cycle ms> 7` makes it send the
cyclic attributes every cycle and the configuration attributes on change, for `timeout`
seconds [V: TI 1254 pp. 11-12]. The client renews the Push well before it lapses, so a
receiver that reboots starts sending again at the next renewal. UDP has no connection, so
silence is the only sign the receiver is gone: after `silence_timeout` the client yields
`rx_reachable=False` and keeps asking with backoff. When the configuration index of a
cyclic push changes, a name or frequency change may have been lost with a datagram, so
the client asks for all configuration attributes again (`Push 0 0 1`) [V: TI 1254 p. 8].
On close it sends `Push 0 0 0`, which stops the receiver sending [V: TI 1254 p. 12].

The receiver answers to the address the request came from, as every UDP server our open
sources talk to does [S: Companion's module binds local port 53212 as well; set
`local_port=53212` if a receiver answers only there]. One channel per receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncGenerator

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.base import Reading
from realtime.protocols.failures import describe_failure
from realtime.protocols.sennheiser_ew.parse import Line, decode_datagram

logger = logging.getLogger(__name__)

DEFAULT_PORT = 53212
DEFAULT_MODEL = "EM 300-500 G4"
CHANNEL = 1  # every ew G3/G4 receiver has one receive channel
PUSH_TIMEOUT_S = 60  # the longest the doc allows is 300 s; 60 recovers a rebooted unit soon


class EwDatagrams(asyncio.DatagramProtocol):
    """Queue every datagram that arrives from the receiver."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        # An ICMP "port unreachable" from a powered-off receiver: silence will tell.
        logger.debug("sennheiser_ew: %r", exc)


class SennheiserEwClient:
    """A DeviceClient for ew G3/G4 receivers (EM 100, EM 300-500, and the IEM G4 racks)."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        model: str | None = None,
        cycle_ms: int = 100,
        local_port: int = 0,
        silence_timeout: float = 5.0,
        discovery_timeout: float = 2.0,
        reply_window: float = 0.3,
        backoff_initial: float = 1.0,
        backoff_max: float = 20.0,
        unreachable_repeat: float = 5.0,
        seed: int | None = None,
    ) -> None:
        if not 100 <= cycle_ms <= 60000 or cycle_ms % 100:
            raise ValueError("cycle_ms must be a multiple of 100 within 100..60000")
        self.host = host
        self.port = port
        self.model = model or DEFAULT_MODEL
        self.cycle_ms = cycle_ms
        self.local_port = local_port
        self.silence_timeout = silence_timeout
        self.discovery_timeout = discovery_timeout
        self.reply_window = reply_window
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.unreachable_repeat = unreachable_repeat
        self._down_reported_at: float | None = None
        self.failure: str | None = None
        self._rng = random.Random(seed)
        self._known: dict[str, object] = {}
        self._config_index: int | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._closed = asyncio.Event()

    async def discover(self) -> DeviceInfo:
        """Ask for the configuration attributes once and describe the receiver."""
        transport, datagrams = await self._open()
        try:
            transport.sendto(b"Push 0 0 1\r")
            heard = await self._collect(datagrams)
        finally:
            transport.close()
        if not heard:
            raise TimeoutError("no answer from the receiver")
        self._merge(heard)
        return self._describe()

    async def readings(self) -> AsyncGenerator[Reading, None]:
        """Yield merged readings until close(); silence means unreachable."""
        failures = 0
        while not self._closed.is_set():
            try:
                async for reading in self._session():
                    failures, self.failure, self._down_reported_at = 0, None, None
                    yield reading
            except (OSError, TimeoutError) as error:
                logger.info("sennheiser_ew %s:%s: %r", self.host, self.port, error)
                self.failure = describe_failure(error)
            if self._closed.is_set():
                return
            failures += 1
            if self._down_due():
                yield self._unreachable()
            await self._pause(failures)

    async def close(self) -> None:
        """Tell the receiver to stop pushing and end readings()."""
        self._closed.set()
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.sendto(b"Push 0 0 0\r")
            transport.close()

    async def _open(self) -> tuple[asyncio.DatagramTransport, EwDatagrams]:
        loop = asyncio.get_running_loop()
        transport, datagrams = await loop.create_datagram_endpoint(
            EwDatagrams,
            local_addr=("0.0.0.0", self.local_port),
            remote_addr=(self.host, self.port),
        )
        return transport, datagrams

    async def _collect(self, datagrams: EwDatagrams) -> list[Line]:
        """Read lines until the receiver has been quiet for `reply_window`."""
        heard: list[Line] = []
        wait = self.discovery_timeout
        while True:
            try:
                async with asyncio.timeout(wait):
                    heard += decode_datagram(await datagrams.queue.get())
            except TimeoutError:
                return heard
            wait = self.reply_window

    async def _session(self) -> AsyncGenerator[Reading, None]:
        transport, datagrams = await self._open()
        self._transport = transport
        renew = asyncio.create_task(self._renew_push(transport))
        try:
            transport.sendto(b"Name\rFrequency\r")
            while True:
                async with asyncio.timeout(self.silence_timeout):
                    datagram = await datagrams.queue.get()
                lines = decode_datagram(datagram)
                if self._merge(lines):
                    yield self._reading()
                if self._config_changed(lines):
                    transport.sendto(b"Push 0 0 1\r")
        finally:
            renew.cancel()
            if self._transport is transport:
                self._transport = None
                transport.sendto(b"Push 0 0 0\r")
                transport.close()

    async def _renew_push(self, transport: asyncio.DatagramTransport) -> None:
        """Ask for pushes now and again at a third of their timeout, so none lapses."""
        command = f"Push {PUSH_TIMEOUT_S} {self.cycle_ms} 7\r".encode()
        while True:
            transport.sendto(command)
            await asyncio.sleep(min(PUSH_TIMEOUT_S / 3, self.silence_timeout / 2))

    def _merge(self, lines: list[Line]) -> bool:
        """Fold the lines into the known state; return True when any carried readings."""
        news = False
        for line in lines:
            if line.changes:
                self._known.update(line.changes)
                news = True
        return news

    def _config_changed(self, lines: list[Line]) -> bool:
        for line in lines:
            if line.config_index is None:
                continue
            changed = self._config_index is not None and line.config_index != self._config_index
            self._config_index = line.config_index
            return changed
        return False

    def _reading(self) -> Reading:
        return Reading(channel=CHANNEL, **self._known)  # type: ignore[arg-type]

    def _down_due(self) -> bool:
        """Return True when an unreachable reading is due (at most every few seconds)."""
        now = time.monotonic()
        last = self._down_reported_at
        if last is not None and now - last < self.unreachable_repeat:
            return False
        self._down_reported_at = now
        return True

    def _unreachable(self) -> Reading:
        """Keep only what the receiver is, not what it last measured."""
        kept: dict[str, object] = {
            k: self._known[k] for k in ("channel_name", "frequency_khz") if k in self._known
        }
        self._known = kept
        self._config_index = None
        return Reading(channel=CHANNEL, rx_reachable=False, **kept)  # type: ignore[arg-type]

    def _describe(self) -> DeviceInfo:
        name = str(self._known.get("channel_name") or "")
        frequency = self._known.get("frequency_khz")
        return DeviceInfo(
            protocol=Protocol.SENNHEISER_EW,
            host=self.host,
            port=self.port,
            manufacturer="Sennheiser",
            model=self.model,  # the protocol has no model query we could confirm [S]
            name=name,
            channels=(
                ChannelInfo(CHANNEL, name, frequency if isinstance(frequency, int) else None),
            ),
        )

    async def _pause(self, failures: int) -> None:
        delay = min(self.backoff_max, self.backoff_initial * 2 ** (failures - 1))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay * self._rng.uniform(0.8, 1.2)):
                await self._closed.wait()
