"""What the UDP simulators (ew G3/G4, SSCv1) share: a socket, a clock, and subscribers.

A UDP device keeps a list of who asked to be sent updates, each with an expiry: nothing
tells it a client went away, so a subscription that is not renewed simply lapses. The
subclass decides what a datagram asks for (`_handle`) and what each tick sends
(`_on_tick`); this base keeps the socket, the clock and that bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, ClassVar, Generic, Protocol, TypeVar

Address = tuple[str, int]


class Expiring(Protocol):
    expires_at: float


S = TypeVar("S", bound=Expiring)


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, device: UdpDevice[Any]) -> None:
        self.device = device

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.device.attach(transport)  # type: ignore[arg-type]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, ...]) -> None:
        self.device.receive(data, (str(addr[0]), int(addr[1])))


class UdpDevice(Generic[S]):
    """A simulated device on a UDP port (0 picks a free one) with expiring subscribers."""

    tick: ClassVar[float]

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reachable = True
        self._subscriptions: dict[Address, list[S]] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._clock: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(
            lambda: _Endpoint(self), local_addr=(self.host, self.port)
        )
        self._clock = asyncio.create_task(self._run_clock())

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
        if self._transport is not None:
            self._transport.close()

    def attach(self, transport: asyncio.DatagramTransport) -> None:
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    def set_reachable(self, reachable: bool) -> None:
        """False: hear nothing and send nothing, like a pulled cable (subscriptions lapse)."""
        self.reachable = reachable

    @property
    def subscribers(self) -> int:
        """How many clients are being sent updates now."""
        return len({address for address, _ in self._live_subscriptions()})

    def receive(self, data: bytes, sender: Address) -> None:
        if self.reachable:
            self._handle(data, sender)

    def _handle(self, data: bytes, sender: Address) -> None:
        raise NotImplementedError

    def _on_tick(self, now: float, dt: float) -> None:
        """Advance the simulated world by `dt` seconds and send what is due."""
        raise NotImplementedError

    def _subscribe(self, sender: Address, subscriptions: list[S]) -> None:
        """Replace what `sender` is subscribed to (a renewal replaces, it never adds)."""
        self._subscriptions[sender] = subscriptions

    def _unsubscribe(self, sender: Address) -> None:
        self._subscriptions.pop(sender, None)

    def _live_subscriptions(self) -> list[tuple[Address, S]]:
        now = time.monotonic()
        return [
            (address, subscription)
            for address, subscriptions in self._subscriptions.items()
            for subscription in subscriptions
            if subscription.expires_at > now
        ]

    def _send(self, payload: bytes, address: Address) -> None:
        if self._transport is not None and self.reachable and payload:
            self._transport.sendto(payload, address)

    async def _run_clock(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.tick)
            now = time.monotonic()
            self._on_tick(now, now - last)
            last = now
