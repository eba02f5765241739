"""What the clients of UDP families (ew G3/G4, SSCv1) share: a subscription kept alive.

UDP has no connection, so a session is: open a socket towards the device, send the
subscription now and again well before it lapses, and take silence for `silence_timeout`
as the device gone. On close, the family's `_goodbye()` asks the device to stop sending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import Any, ClassVar

from realtime.protocols.base import Reading, Reconnecting

logger = logging.getLogger(__name__)


class DatagramQueue(asyncio.DatagramProtocol):
    """Queue every datagram that arrives from the device."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, ...]) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        # An ICMP "port unreachable" from a powered-off device: silence will tell.
        logger.debug("udp: %r", exc)


class UdpSubscriber(Reconnecting[Reading]):
    """A client that subscribes over UDP; subclasses say what to send and how to read."""

    greeting: ClassVar[bytes] = b""  # asked once at the start of each session

    def __init__(
        self,
        host: str,
        port: int,
        *,
        local_port: int = 0,
        silence_timeout: float,
        discovery_timeout: float,
        reply_window: float,
        backoff_initial: float,
        backoff_max: float,
        unreachable_repeat: float,
        seed: int | None,
    ) -> None:
        super().__init__(
            host,
            port,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            unreachable_repeat=unreachable_repeat,
            seed=seed,
        )
        self.local_port = local_port
        self.silence_timeout = silence_timeout
        self.discovery_timeout = discovery_timeout
        self.reply_window = reply_window
        self._transport: asyncio.DatagramTransport | None = None

    def readings(self) -> AsyncGenerator[Reading, None]:
        """Yield merged readings until close(); silence means unreachable."""
        return self._follow()

    async def close(self) -> None:
        """Tell the device to stop sending and end readings()."""
        self._closed.set()
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.sendto(self._goodbye())
            transport.close()

    def _goodbye(self) -> bytes:
        """Return what asks the device to stop sending to us."""
        raise NotImplementedError

    def _subscription(self) -> tuple[bytes, float]:
        """Return the subscribe request and how often to send it so it never lapses."""
        raise NotImplementedError

    async def _open(self) -> tuple[asyncio.DatagramTransport, DatagramQueue]:
        loop = asyncio.get_running_loop()
        return await loop.create_datagram_endpoint(
            DatagramQueue,
            local_addr=("0.0.0.0", self.local_port),
            remote_addr=(self.host, self.port),
        )

    async def _ask(self, request: bytes) -> list[bytes]:
        """Send one request on a fresh socket; return what came until a quiet spell."""
        transport, datagrams = await self._open()
        heard: list[bytes] = []
        wait = self.discovery_timeout  # the first answer may take a while
        try:
            transport.sendto(request)
            while True:
                async with asyncio.timeout(wait):
                    heard.append(await datagrams.queue.get())
                wait = self.reply_window
        except TimeoutError:
            return heard
        finally:
            transport.close()

    async def _datagrams(self) -> AsyncGenerator[bytes, None]:
        """Subscribe and yield what arrives; TimeoutError after `silence_timeout` of quiet."""
        transport, datagrams = await self._open()
        self._transport = transport
        renew = asyncio.create_task(self._renew(transport))
        if self.greeting:
            transport.sendto(self.greeting)
        try:
            while True:
                async with asyncio.timeout(self.silence_timeout):
                    datagram = await datagrams.queue.get()
                yield datagram
        finally:
            renew.cancel()
            if self._transport is transport:
                self._transport = None
                transport.sendto(self._goodbye())
                transport.close()

    async def _renew(self, transport: asyncio.DatagramTransport) -> None:
        request, every = self._subscription()
        while True:
            transport.sendto(request)
            await asyncio.sleep(min(every, self.silence_timeout / 2))
