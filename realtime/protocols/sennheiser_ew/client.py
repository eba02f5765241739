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

from collections.abc import AsyncGenerator
from typing import ClassVar

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.base import Reading, kept_identity
from realtime.protocols.sennheiser_ew.parse import Line, decode_datagram
from realtime.protocols.udp import UdpSubscriber

DEFAULT_PORT = 53212
DEFAULT_MODEL = "EM 300-500 G4"
CHANNEL = 1  # every ew G3/G4 receiver has one receive channel
PUSH_TIMEOUT_S = 60  # the longest the doc allows is 300 s; 60 recovers a rebooted unit soon


class SennheiserEwClient(UdpSubscriber):
    """A DeviceClient for ew G3/G4 receivers (EM 100, EM 300-500, and the IEM G4 racks)."""

    family: ClassVar[str] = "sennheiser_ew"
    greeting: ClassVar[bytes] = b"Name\rFrequency\r"

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
        super().__init__(
            host,
            port,
            local_port=local_port,
            silence_timeout=silence_timeout,
            discovery_timeout=discovery_timeout,
            reply_window=reply_window,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            unreachable_repeat=unreachable_repeat,
            seed=seed,
        )
        self.model = model or DEFAULT_MODEL
        self.cycle_ms = cycle_ms
        self._known: dict[str, object] = {}
        self._config_index: int | None = None

    async def discover(self) -> DeviceInfo:
        """Ask for the configuration attributes once and describe the receiver."""
        heard = [
            line
            for datagram in await self._ask(b"Push 0 0 1\r")
            for line in decode_datagram(datagram)
        ]
        if not heard:
            raise TimeoutError("no answer from the receiver")
        self._merge(heard)
        return self._describe()

    def _goodbye(self) -> bytes:
        return b"Push 0 0 0\r"  # stops the pushes [V: TI 1254 p. 12]

    def _subscription(self) -> tuple[bytes, float]:
        """Pushes for PUSH_TIMEOUT_S, renewed at a third of it so none lapses."""
        return f"Push {PUSH_TIMEOUT_S} {self.cycle_ms} 7\r".encode(), PUSH_TIMEOUT_S / 3

    async def _session(self) -> AsyncGenerator[Reading, None]:
        async for datagram in self._datagrams():
            lines = decode_datagram(datagram)
            if self._merge(lines):
                yield self._reading()
            if self._config_changed(lines) and self._transport is not None:
                self._transport.sendto(b"Push 0 0 1\r")

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

    def _unreachable(self) -> list[Reading]:
        self._known = kept_identity(self._known)
        self._config_index = None
        return [Reading(channel=CHANNEL, rx_reachable=False, **self._known)]  # type: ignore[arg-type]

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
