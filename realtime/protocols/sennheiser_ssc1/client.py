"""Talk to one Digital 6000 EM 6000 over SSCv1 (JSON over UDP, port 45) and yield Readings.

A session subscribes once: the meters (`mm`) every `meter_interval_ms`, and each
channel's name, carrier, transmitter battery and warnings on change (`min` 0), for
`lifetime` seconds [V: TI 1109 §8.100 and its subscribe examples]. The device sends the
current value of each subscribed address at once; the client renews the subscription at
a third of its lifetime, so one lost datagram never lets it lapse. Silence for
`silence_timeout` means the receiver is gone: `rx_reachable=False`, then backoff. On close
the client cancels the subscription (`/osc/state/unsubscribe`) [S: named in SSC's
developer guides; the simulator honours it, and the lifetime ends it on a device that
does not].

The port is an argument because SSC's fixed port 45 is privileged: the simulator and the
tests use a free port instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncGenerator
from typing import Any

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.base import Reading
from realtime.protocols.failures import describe_failure
from realtime.protocols.sennheiser_ssc1.parse import CHANNELS, Message, decode_message

logger = logging.getLogger(__name__)

DEFAULT_PORT = 45
LIFETIME_S = 30
ON_CHANGE = {"min": 0, "max": 0}


class SscDatagrams(asyncio.DatagramProtocol):
    """Queue every datagram from the device."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, ...]) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        logger.debug("sennheiser_ssc1: %r", exc)  # ICMP unreachable: silence will tell


def _receivers(leaves: object) -> dict[str, Any]:
    return {f"rx{n}": leaves for n in range(1, CHANNELS + 1)}


def identity_request() -> dict[str, Any]:
    """Ask who the device is and what its channels are called and tuned to."""
    return {
        "device": {"name": None, "identity": {"product": None, "version": None}},
        **_receivers({"name": None, "carrier": None}),
    }


def subscription(meter_interval_ms: int) -> dict[str, Any]:
    state = _receivers(
        {"name": None, "carrier": None, "skx": {"battery": None}, "active_warnings": None}
    )
    return {
        "osc": {
            "state": {
                "subscribe": [
                    {
                        "#": {
                            "min": meter_interval_ms,
                            "max": meter_interval_ms,
                            "lifetime": LIFETIME_S,
                            "count": 1000,
                        },
                        "mm": None,
                    },
                    {"#": {**ON_CHANGE, "lifetime": LIFETIME_S, "count": 1000}, **state},
                ]
            }
        }
    }


def _encode(tree: dict[str, Any]) -> bytes:
    return json.dumps(tree, separators=(",", ":")).encode()


UNSUBSCRIBE = _encode({"osc": {"state": {"unsubscribe": [{"mm": None}, _receivers(None)]}}})


class SennheiserSsc1Client:
    """A DeviceClient for Digital 6000 receivers (EM 6000, EM 6000 Dante) over SSCv1."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        meter_interval_ms: int = 100,
        silence_timeout: float = 5.0,
        discovery_timeout: float = 2.0,
        reply_window: float = 0.3,
        backoff_initial: float = 1.0,
        backoff_max: float = 20.0,
        unreachable_repeat: float = 5.0,
        seed: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.meter_interval_ms = meter_interval_ms
        self.silence_timeout = silence_timeout
        self.discovery_timeout = discovery_timeout
        self.reply_window = reply_window
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.unreachable_repeat = unreachable_repeat
        self.failure: str | None = None
        self._rng = random.Random(seed)
        self._known: dict[int, dict[str, object]] = {n: {} for n in range(1, CHANNELS + 1)}
        self._identity: dict[str, str] = {}
        self._device_name = ""
        self._down_reported_at: float | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._closed = asyncio.Event()

    async def discover(self) -> DeviceInfo:
        """Ask the device for its identity and channels, and describe it."""
        transport, datagrams = await self._open()
        try:
            transport.sendto(_encode(identity_request()))
            heard = await self._collect(datagrams)
        finally:
            transport.close()
        if not heard:
            raise TimeoutError("no answer from the receiver")
        for message in heard:
            self._merge(message)
        return self._describe()

    async def readings(self) -> AsyncGenerator[Reading, None]:
        failures = 0
        while not self._closed.is_set():
            try:
                async for reading in self._session():
                    failures, self.failure, self._down_reported_at = 0, None, None
                    yield reading
            except (OSError, TimeoutError) as error:
                logger.info("sennheiser_ssc1 %s:%s: %r", self.host, self.port, error)
                self.failure = describe_failure(error)
            if self._closed.is_set():
                return
            failures += 1
            if self._down_due():
                for reading in self._unreachable():
                    yield reading
            await self._pause(failures)

    async def close(self) -> None:
        self._closed.set()
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.sendto(UNSUBSCRIBE)
            transport.close()

    async def _open(self) -> tuple[asyncio.DatagramTransport, SscDatagrams]:
        loop = asyncio.get_running_loop()
        return await loop.create_datagram_endpoint(SscDatagrams, remote_addr=(self.host, self.port))

    async def _collect(self, datagrams: SscDatagrams) -> list[Message]:
        heard: list[Message] = []
        wait = self.discovery_timeout
        while True:
            try:
                async with asyncio.timeout(wait):
                    message = decode_message(await datagrams.queue.get())
            except TimeoutError:
                return heard
            if message is not None:
                heard.append(message)
            wait = self.reply_window

    async def _session(self) -> AsyncGenerator[Reading, None]:
        transport, datagrams = await self._open()
        self._transport = transport
        renew = asyncio.create_task(self._renew(transport))
        try:
            while True:
                async with asyncio.timeout(self.silence_timeout):
                    datagram = await datagrams.queue.get()
                message = decode_message(datagram)
                if message is None:
                    continue
                now = time.time()
                for channel in self._merge(message):
                    yield Reading(channel=channel, timestamp=now, **self._known[channel])  # type: ignore[arg-type]
        finally:
            renew.cancel()
            if self._transport is transport:
                self._transport = None
                transport.sendto(UNSUBSCRIBE)
                transport.close()

    async def _renew(self, transport: asyncio.DatagramTransport) -> None:
        request = _encode(subscription(self.meter_interval_ms))
        while True:
            transport.sendto(request)
            await asyncio.sleep(min(LIFETIME_S / 3, self.silence_timeout / 2))

    def _merge(self, message: Message) -> list[int]:
        """Fold a message into the channels; return the channels with news, in order."""
        if message.identity:
            self._identity.update(message.identity)
        if message.device_name is not None:
            self._device_name = message.device_name
        news = set(message.channels)
        for channel, changes in message.channels.items():
            self._known[channel].update(changes)
        for channel, changes in message.meters.items():
            if self._known[channel].get("tx_on") is not False:
                self._known[channel].update(changes)
            news.add(channel)
        return sorted(news)

    def _down_due(self) -> bool:
        now = time.monotonic()
        last = self._down_reported_at
        if last is not None and now - last < self.unreachable_repeat:
            return False
        self._down_reported_at = now
        return True

    def _unreachable(self) -> list[Reading]:
        readings = []
        for channel, known in self._known.items():
            kept: dict[str, object] = {
                k: known[k] for k in ("channel_name", "frequency_khz") if k in known
            }
            self._known[channel] = kept
            readings.append(Reading(channel=channel, rx_reachable=False, **kept))  # type: ignore[arg-type]
        return readings

    def _describe(self) -> DeviceInfo:
        channels = []
        for number, known in self._known.items():
            frequency = known.get("frequency_khz")
            channels.append(
                ChannelInfo(
                    number,
                    str(known.get("channel_name") or ""),
                    frequency if isinstance(frequency, int) else None,
                )
            )
        return DeviceInfo(
            protocol=Protocol.SENNHEISER_SSC1,
            host=self.host,
            port=self.port,
            manufacturer="Sennheiser",
            model=self._identity.get("product", "EM6000"),
            name=self._device_name,
            firmware=self._identity.get("version", ""),
            channels=tuple(channels),
        )

    async def _pause(self, failures: int) -> None:
        delay = min(self.backoff_max, self.backoff_initial * 2 ** (failures - 1))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay * self._rng.uniform(0.8, 1.2)):
                await self._closed.wait()
