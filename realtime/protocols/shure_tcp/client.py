"""Talk to one Shure receiver over TCP 2202 and yield normalised Readings.

One connection per receiver, kept open. Each session asks for a full dump (`GET n ALL`),
turns metering on (`SET n METER_RATE`) and merges every REP and SAMPLE into per-channel
state. With meters on, silence means the receiver is gone: after `silence_timeout` the
client hangs up, yields `rx_reachable=False` for every channel and reconnects with
exponential backoff and jitter (gently: QLX-D firmware 2.2.11+ locks up when metering
clients come and go abruptly). Metering is always switched off before hanging up.

    client = ShureTcpClient("10.0.0.21")
    info = await client.discover()
    async with contextlib.aclosing(client.readings()) as readings:
        async for reading in readings:
            ...
    await client.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from typing import ClassVar

from micboard.devices import DeviceInfo
from realtime.protocols.base import Reading, Reconnecting
from realtime.protocols.shure_tcp.families import MODELS, ModelSpec, spec_for_model
from realtime.protocols.shure_tcp.fields import CHANNEL_PARAMS
from realtime.protocols.shure_tcp.parse import (
    ChannelFields,
    ChannelUpdate,
    FrameSplitter,
    channel_fields,
    decode_body,
    merge_update,
)
from realtime.protocols.shure_tcp.probe import ProbeReplies, describe, identify, probe_commands

logger = logging.getLogger(__name__)

DEFAULT_PORT = 2202
READ_SIZE = 65536
CLOSE_TIMEOUT = 1.0


class ShureTcpClient(Reconnecting[Reading]):
    """A DeviceClient for ULX-D, QLX-D, Axient Digital, SLX-D(+) and PSM1000 on TCP 2202."""

    family: ClassVar[str] = "shure_tcp"

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        model: str | None = None,
        meter_interval_ms: int = 100,
        silence_timeout: float = 5.0,
        connect_timeout: float = 2.0,
        discovery_timeout: float = 3.0,
        reply_window: float = 0.3,
        backoff_initial: float = 1.0,
        backoff_max: float = 20.0,
        unreachable_repeat: float = 5.0,
        seed: int | None = None,
    ) -> None:
        if not 100 <= meter_interval_ms <= 65535:
            raise ValueError("meter_interval_ms must be within 100..65535")
        hinted = spec_for_model(model) if model is not None else None
        if model is not None and hinted is None:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
        super().__init__(
            host,
            port,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            unreachable_repeat=unreachable_repeat,
            seed=seed,
        )
        self.meter_interval_ms = meter_interval_ms
        self.silence_timeout = silence_timeout
        self.connect_timeout = connect_timeout
        self.discovery_timeout = discovery_timeout
        self.reply_window = reply_window
        self._spec = hinted
        self._info: DeviceInfo | None = None
        self._channels: dict[int, ChannelFields] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reset_channels()

    @property
    def info(self) -> DeviceInfo | None:
        """Return what the last discovery learned, if any."""
        return self._info

    async def discover(self) -> DeviceInfo:
        """Ask the device who it is on a short-lived connection and describe it."""
        reader, writer = await self._connect()
        try:
            return await self._probe(reader, writer)
        finally:
            await _hang_up(writer, goodbye=b"")

    def readings(self) -> AsyncGenerator[Reading, None]:
        """Yield merged readings until close(): connect, meter, reconnect with backoff."""
        return self._follow()

    async def close(self) -> None:
        """Switch metering off, hang up, and end readings()."""
        self._closed.set()
        writer, self._writer = self._writer, None
        if writer is not None:
            await _hang_up(writer, goodbye=self._meter_off())

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with asyncio.timeout(self.connect_timeout):
            return await asyncio.open_connection(self.host, self.port)

    async def _session(self) -> AsyncGenerator[Reading, None]:
        reader, writer = await self._connect()
        self._writer = writer
        try:
            if self._spec is None:
                await self._probe(reader, writer)
            spec = self._require_spec()
            self._reset_channels()
            writer.write(self._subscribe_commands(spec))
            async for reading in self._pump(reader, spec):
                yield reading
        finally:
            if self._writer is writer:
                self._writer = None
                await _hang_up(writer, goodbye=self._meter_off())

    def _require_spec(self) -> ModelSpec:
        if self._spec is None:
            raise ConnectionError("device not identified")
        return self._spec

    async def _probe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> DeviceInfo:
        writer.write(probe_commands())
        replies = ProbeReplies()
        await self._collect(reader, replies)
        spec = identify(replies)
        self._spec = spec
        self._info = describe(replies, spec, self.host, self.port)
        return self._info

    async def _collect(self, reader: asyncio.StreamReader, replies: ProbeReplies) -> None:
        """Read answers until the device has been quiet for `reply_window`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.discovery_timeout
        quiet_after = deadline  # the first answer may take a while
        splitter = FrameSplitter()
        while True:
            try:
                async with asyncio.timeout_at(min(quiet_after, deadline)):
                    data = await reader.read(READ_SIZE)
            except TimeoutError:
                return
            if not data:
                raise ConnectionResetError("the device closed the connection")
            for body in splitter.feed(data):
                replies.add(body)
            quiet_after = loop.time() + self.reply_window

    def _subscribe_commands(self, spec: ModelSpec) -> bytes:
        numbers = range(1, spec.channels + 1)
        if spec.family.has_get_all:
            gets = [f"< GET {n} ALL >" for n in numbers]
        else:
            gets = [f"< GET {n} {param} >" for n in numbers for param in _plain_params(spec)]
        rate = spec.family.meter_rate(self.meter_interval_ms)
        meters = [f"< SET {n} METER_RATE {rate} >" for n in numbers]
        return _encode(gets + meters, spec.family.line_end)

    def _meter_off(self) -> bytes:
        """Return the commands that switch this client's metering off on every channel."""
        spec = self._spec
        if spec is None:
            return b""  # still probing: nothing was metered yet
        family = spec.family
        off = family.meter_rate(0)
        channels = [0] if family.has_channel_zero else range(1, spec.channels + 1)
        return _encode([f"< SET {n} METER_RATE {off} >" for n in channels], family.line_end)

    async def _pump(self, reader: asyncio.StreamReader, spec: ModelSpec) -> AsyncIterator[Reading]:
        splitter = FrameSplitter()
        silence = SilenceWatch(reader, self.silence_timeout)
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    raise ConnectionResetError("the receiver closed the connection")
                silence.heard()
                for reading in self._merge(splitter.feed(data), spec):
                    yield reading
        finally:
            silence.cancel()

    def _merge(self, bodies: Iterable[str], spec: ModelSpec) -> list[Reading]:
        """Fold frames into channel state; return a reading of each channel with news, once.

        Every reading of one read gets the same timestamp: its frames arrived together.
        """
        clipped: dict[int, bool] = {}  # channels with news -> a clip seen in this read
        for body in bodies:
            update = decode_body(body, spec.family)
            if not isinstance(update, ChannelUpdate):
                continue
            known = self._channels.get(update.channel)
            if known is not None and merge_update(known, update):
                # A clip anywhere in the read must survive a later, clean sample.
                seen = clipped.get(update.channel, False)
                clipped[update.channel] = seen or bool(update.changes.get("audio_clipped"))
        now = time.time()
        return [self._reading(n, now, clip) for n, clip in clipped.items()]

    def _reading(self, channel: int, now: float, clipped: bool) -> Reading:
        known = self._channels[channel]
        if clipped and not known["audio_clipped"]:
            known = {**known, "audio_clipped": True}
        return Reading(timestamp=now, **known)  # type: ignore[arg-type]

    def _reset_channels(self) -> None:
        """Start each known channel afresh, keeping only its name and frequency."""
        if self._spec is None:
            return
        for n in range(1, self._spec.channels + 1):
            self._channels[n] = self._fresh_channel(n, rx_reachable=True)

    def _fresh_channel(self, number: int, *, rx_reachable: bool) -> ChannelFields:
        old = self._channels.get(number, {})
        return channel_fields(
            Reading(
                channel=number,
                rx_reachable=rx_reachable,
                channel_name=old.get("channel_name"),  # type: ignore[arg-type]
                frequency_khz=old.get("frequency_khz"),  # type: ignore[arg-type]
            )
        )

    def _unreachable(self) -> list[Reading]:
        """Return an rx_reachable=False reading per channel."""
        for n in self._channels:
            self._channels[n] = self._fresh_channel(n, rx_reachable=False)
        return [Reading(**known) for known in self._channels.values()]  # type: ignore[arg-type]


def _plain_params(spec: ModelSpec) -> list[str]:
    """Return the non-meter parameters to GET one by one on a family without `GET n ALL`."""
    table = CHANNEL_PARAMS[spec.family.key]
    return [name for name, param in table.items() if not param.meter and " " not in name]


def _encode(commands: list[str], line_end: str) -> bytes:
    return "".join(command + line_end for command in commands).encode("ascii")


class SilenceWatch:
    """Fail a connection's pending read once nothing has arrived for `limit` seconds.

    One timer per connection, re-armed only when it fires, instead of a timeout around
    every read: at 10 Hz metering from hundreds of receivers those timeouts cost the
    poller more than parsing the frames.
    """

    def __init__(self, reader: asyncio.StreamReader, limit: float) -> None:
        self._reader = reader
        self._limit = limit
        self._loop = asyncio.get_running_loop()
        self._heard_at = self._loop.time()
        self._timer = self._loop.call_later(limit, self._check)

    def heard(self) -> None:
        self._heard_at = self._loop.time()

    def cancel(self) -> None:
        self._timer.cancel()

    def _check(self) -> None:
        silent_for = self._loop.time() - self._heard_at
        if silent_for >= self._limit:
            self._reader.set_exception(TimeoutError(f"silent for {silent_for:.1f} s"))
        else:
            self._timer = self._loop.call_later(self._limit - silent_for, self._check)


async def _hang_up(writer: asyncio.StreamWriter, *, goodbye: bytes) -> None:
    """Send `goodbye` (metering off) if the link still takes it, then close the socket."""
    with contextlib.suppress(OSError, TimeoutError):
        if goodbye and not writer.is_closing():
            writer.write(goodbye)
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await writer.drain()
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await writer.wait_closed()
    except (OSError, TimeoutError):
        writer.transport.abort()
