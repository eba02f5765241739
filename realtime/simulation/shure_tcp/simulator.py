"""A Shure receiver on a real TCP socket that speaks the 2202 protocol like the hardware.

It answers GET/SET (silence for parameters the family lacks, `< REP ERR >` for bad
syntax), streams meters at each client's METER_RATE, pushes REP whenever a value
changes (battery step, runtime minute, transmitter on/off, rename), and writes several
frames per send, now and then splitting one across writes. FaultRates makes it misbehave
on its own; the control methods make it misbehave on cue.

    sim = ShureTcpSimulator("AD4Q", seed=1)
    await sim.start()              # sim.port holds the bound port
    sim.set_battery(1, bars=2)     # every client sees `< REP 1 TX_BATT_BARS 002 >` at once
    await sim.stop()

One task per device runs the clock and the meters, so a stage can run dozens in a
process (see `fleet.py`). METER_RATE is kept per connection. Slow state (battery, random
faults) follows the scaled clock (`time_scale`); RF and speech follow real time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import math
import random
from collections.abc import Callable, Sequence

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.shure_tcp.families import MODELS
from realtime.protocols.shure_tcp.fields import to_int
from realtime.protocols.shure_tcp.parse import Frame, parse_frame
from realtime.simulation.base import FaultRates, pack_to_change
from realtime.simulation.shure_tcp.connection import SETTERS, Connection
from realtime.simulation.shure_tcp.dynamics import Channel, FaultClock, fresh_battery, make_channels
from realtime.simulation.shure_tcp.render import (
    LIVE,
    METER_FRAMES,
    Identity,
    device_params,
    state_renderers,
)

SLOW_STEP_SECONDS = 1.0
METER_RATES_MS = range(100, 65536)
BATCH_WINDOW_SECONDS = 0.005  # meters due this close together go out in one write
SPLIT_FLUSH_SECONDS = 0.01
MAX_BUFFERED_BYTES = 256 * 1024  # a client that stops reading loses meters, not state
GARBAGE = (
    "\x00\xff\xfe",
    "< REP 1 BATT_BARS abc >",
    "<<>>",
    "< SAMPLE 1 ALL ZZ 999 >",
    "junk with no frame>",
    "< REP 9 CHAN_NAME {ghost} >",
    "<" + "X" * 3000,
)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ShureTcpSimulator:
    """A simulated ULX-D, QLX-D, Axient Digital, SLX-D, SLX-D+ or PSM1000 on loopback TCP."""

    def __init__(
        self,
        model: str = "ULXD4Q",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        channels: int | None = None,
        faults: FaultRates = FaultRates(),  # noqa: B008 - frozen, so sharing is safe
        time_scale: float = 1.0,
        device_id: str | None = None,
        reboot_seconds: float = 3.0,
        slow_answer_seconds: tuple[float, float] = (1.0, 3.0),
        channel_names: Sequence[str] = (),
    ) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
        self.spec = MODELS[model]
        count = channels or self.spec.channels
        if not 1 <= count <= self.spec.channels:
            raise ValueError(f"{model} has 1..{self.spec.channels} channels, not {count}")
        self.host = host
        self.port = port
        self.time_scale = time_scale
        self.reboot_seconds = reboot_seconds
        self.slow_answer_seconds = slow_answer_seconds
        self.commands: collections.deque[tuple[int, str]] = collections.deque(maxlen=1000)
        self.fault_counts: collections.Counter[str] = collections.Counter()
        self._rng = random.Random(seed)
        self._faults = FaultClock(faults, self._rng)
        self._identity = Identity(device_id or f"RX{seed % 1_000_000:06d}", self.spec.firmware)
        self._device = device_params(self.spec, self._identity)
        width = self.spec.family.chan_name_width
        names = [name[:width] if width else name for name in channel_names]
        self._channels = make_channels(count, self.spec.tx_model, self._rng, 0.0, names)
        self._state = state_renderers(self.spec)
        self._live = LIVE[self.spec.family.key]
        self._published = [self._render(ch) for ch in self._channels]
        self._connections: set[Connection] = set()
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Future[None] | None = None
        self._started_at = 0.0
        self._last_step = 0.0
        self._reachable = True
        self._reachable_again_at: float | None = None
        self._offline_until = 0.0
        self._controller_access = True

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening; with port 0 the bound port is stored in `port`."""
        self._started_at = self._last_step = asyncio.get_running_loop().time()
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._task = asyncio.create_task(self._run(), name=f"shure-sim-{self.port}")

    async def stop(self) -> None:
        """Stop the clock, drop every client and close the listening socket."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def device_info(self) -> DeviceInfo:
        """Return what discovery should find on this device."""
        has_id = "DEVICE_ID" in self._device
        return DeviceInfo(
            protocol=Protocol.SHURE_TCP,
            host=self.host,
            port=self.port,
            manufacturer="Shure",
            model=self.spec.name,
            name=self._identity.device_id,
            serial=self._identity.device_id if has_id else "",
            firmware=self.spec.firmware,
            channels=tuple(ChannelInfo(c.number, c.name, c.frequency_khz) for c in self._channels),
        )

    # ------------------------------------------------------------------ controls

    def set_battery(
        self,
        channel: int,
        *,
        bars: int | None = None,
        percent: int | None = None,
        minutes: int | None = None,
    ) -> None:
        """Force a transmitter's battery and push the change as the device would."""
        self._channel(channel).battery.force(bars=bars, percent=percent, minutes=minutes)
        self._publish()

    def insert_pack(self, channel: int, *, health: int, cycles: int, percent: int = 100) -> None:
        """Put a (Shure rechargeable) pack into a transmitter, as a person does."""
        battery = self._channel(channel).battery
        battery.kind, battery.health, battery.cycles = "LION", health, cycles
        battery.force(percent=percent)
        self._publish()

    def set_tx_power(self, channel: int, *, on: bool) -> None:
        """Switch a transmitter on or off."""
        self._channel(channel).power(on)
        self._publish()

    def set_tx_mute(self, channel: int, *, muted: bool) -> None:
        """Press a transmitter's mute: its meters drop to the floor and TX_MUTE shows it."""
        self._channel(channel).mute(muted)
        self._publish()

    def set_channel_name(self, channel: int, name: str) -> None:
        """Rename a channel on the front panel."""
        self._channel(channel).name = name
        self._publish()

    def send_garbage(self) -> None:
        """Write a piece of junk to every client right now, between whole frames."""
        junk = self._rng.choice(GARBAGE)
        for conn in list(self._connections):
            self._send(conn, [junk])

    def set_reachable(self, reachable: bool) -> None:
        """False stalls every connection and resets new ones (a pulled cable)."""
        self._reachable = reachable
        self._reachable_again_at = None
        self._wake_up()

    def reboot(self) -> None:
        """Drop every client and refuse connections for `reboot_seconds`."""
        self._offline_until = asyncio.get_running_loop().time() + self.reboot_seconds
        self._drop_connections()
        self._wake_up()

    def set_controller_access(self, allowed: bool) -> None:
        """SLX-D only: while not allowed the receiver ignores every command and sends nothing."""
        if not self.spec.family.needs_controller_access:
            raise ValueError(f"{self.spec.name} has no controller access setting")
        self._controller_access = allowed
        self._wake_up()

    # ------------------------------------------------------------------ observation

    @property
    def connection_count(self) -> int:
        """Return how many clients are connected."""
        return len(self._connections)

    # ------------------------------------------------------------------ connections

    def _accepting(self) -> bool:
        return self._reachable and asyncio.get_running_loop().time() >= self._offline_until

    def _answering(self) -> bool:
        return self._controller_access and self._accepting()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._accepting():
            writer.transport.abort()
            return
        conn = Connection(next(self._ids), writer, self.spec.family.line_end)
        self._connections.add(conn)
        try:
            while data := await reader.read(4096):
                if self._answering():  # otherwise input goes nowhere, as on a dead link
                    self._receive(conn, data)
        except ConnectionError:
            pass
        finally:
            self._connections.discard(conn)
            writer.close()

    def _receive(self, conn: Connection, data: bytes) -> None:
        for body in conn.commands(data):
            self.commands.append((conn.ident, body))
            replies = self._answer(conn, parse_frame(body))
            if replies:
                self._reply(conn, replies)

    def _drop_connections(self) -> None:
        for conn in list(self._connections):
            conn.writer.transport.abort()

    # ------------------------------------------------------------------ commands

    def _answer(self, conn: Connection, frame: Frame | None) -> list[str]:
        if frame is None or frame.kind not in ("GET", "SET"):
            return [self._error()]
        if frame.kind == "GET":
            return self._get(conn, frame)
        return self._set(conn, frame)

    def _get(self, conn: Connection, frame: Frame) -> list[str]:
        if frame.channel is None:
            value = self._device.get(frame.param)
            return [] if value is None else [self._rep(None, frame.param, value)]
        channels = self._targets(frame.channel)
        if channels is None:
            return [self._error()]
        if frame.param == "ALL":
            return self._dump(conn, channels)
        key = " ".join((frame.param, *frame.args))
        values = [self._value(conn, ch, key) for ch in channels]
        return [self._rep(ch.number, key, v) for ch, v in zip(channels, values, strict=True) if v]

    def _dump(self, conn: Connection, channels: list[Channel]) -> list[str]:
        """Answer `GET n ALL`: the device-level values, then each channel's (any n)."""
        if not self.spec.family.has_get_all:
            return []
        frames = [self._rep(None, key, value) for key, value in self._device.items()]
        for ch in channels:
            keys = [*self._state, *self._live, "METER_RATE"]
            frames += [self._rep(ch.number, key, self._value(conn, ch, key) or "") for key in keys]
        return frames

    def _value(self, conn: Connection, ch: Channel, key: str) -> str | None:
        """Return a channel parameter as the wire shows it; None if the family lacks it."""
        if key == "METER_RATE":
            return self.spec.family.meter_rate(conn.rates.get(ch.number, 0))
        state = self._state.get(key)
        if state is not None:
            return state(ch, self.spec)
        live = self._live.get(key)
        return None if live is None else live(ch.meters(self._meter_clock(), self._rng))

    def _set(self, conn: Connection, frame: Frame) -> list[str]:
        channels = self._targets(frame.channel) if frame.channel is not None else None
        if channels is None or not frame.args:
            return [self._error()]
        if frame.param == "METER_RATE":
            return self._set_meter_rate(conn, channels, frame.value)
        if frame.param not in self._state:
            return []  # a parameter this family lacks: silence, as on the hardware
        setter = SETTERS.get(frame.param)
        if setter is None or not all(setter(ch, frame.value) for ch in channels):
            return [self._error()]
        pushed = self._publish()
        render = self._state[frame.param]
        unchanged = [ch for ch in channels if (ch.number, frame.param) not in pushed]
        return [self._rep(ch.number, frame.param, render(ch, self.spec)) for ch in unchanged]

    def _set_meter_rate(self, conn: Connection, channels: list[Channel], text: str) -> list[str]:
        rate = to_int(text)
        if rate is None or (rate and rate not in METER_RATES_MS):
            return [self._error()]
        due = asyncio.get_running_loop().time() + rate / 1000
        for ch in channels:
            conn.rates.pop(ch.number, None)
            if rate:
                conn.rates[ch.number], conn.due[ch.number] = rate, due
        self._wake_up()
        echo = self.spec.family.meter_rate(rate)
        return [self._rep(ch.number, "METER_RATE", echo) for ch in channels]

    def _targets(self, channel: int) -> list[Channel] | None:
        if channel == 0 and not self.spec.family.has_channel_zero:
            return None  # the PSM1000 has no "every channel" index
        if channel == 0:
            return self._channels
        return [self._channels[channel - 1]] if channel <= len(self._channels) else None

    def _channel(self, number: int) -> Channel:
        if not 1 <= number <= len(self._channels):
            raise ValueError(f"channel {number} out of 1..{len(self._channels)}")
        return self._channels[number - 1]

    # ------------------------------------------------------------------ output

    def _rep(self, channel: int | None, key: str, value: str) -> str:
        family = self.spec.family
        where = "" if channel is None else f"{channel} "
        return f"< {family.reply_keyword} {where}{key} {value} >{family.line_end}"

    def _error(self) -> str:
        family = self.spec.family
        return f"< {family.reply_keyword} ERR >{family.line_end}"

    def _fault_due(self, kind: str) -> bool:
        due = self._faults.due(kind, self._sim_seconds())
        if due:
            self.fault_counts[kind] += 1
        return due

    def _reply(self, conn: Connection, frames: list[str]) -> None:
        if self._fault_due("slow_answer"):
            delay = self._rng.uniform(*self.slow_answer_seconds)
            asyncio.get_running_loop().call_later(delay, self._send, conn, frames)
        else:
            self._send(conn, frames)

    def _send(self, conn: Connection, frames: list[str], *, droppable: bool = False) -> None:
        """Write frames in one send, after any held-back tail; maybe add junk or split."""
        if not self._answering() or conn.writer.is_closing():
            return
        if droppable and conn.writer.transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
            return
        junk = self._rng.choice(GARBAGE) if self._fault_due("malformed_frame") else ""
        text, conn.tail = conn.tail + junk + "".join(frames), ""
        if len(text) > 1 and self._fault_due("split_frame"):
            cut = self._rng.randrange(1, len(text))
            text, conn.tail = text[:cut], text[cut:]
            asyncio.get_running_loop().call_later(SPLIT_FLUSH_SECONDS, self._flush_tail, conn)
        conn.writer.write(text.encode("latin-1"))

    def _flush_tail(self, conn: Connection) -> None:
        if conn.tail:
            self._send(conn, [])

    def _publish(self) -> set[tuple[int, str]]:
        """Push a REP for every state value that changed; return what was pushed."""
        frames: list[str] = []
        pushed: set[tuple[int, str]] = set()
        for ch, published in zip(self._channels, self._published, strict=True):
            for key, value in self._render(ch).items():
                if published.get(key) != value:
                    published[key] = value
                    frames.append(self._rep(ch.number, key, value))
                    pushed.add((ch.number, key))
        for conn in list(self._connections) if frames else ():
            self._send(conn, frames)
        return pushed

    def _render(self, ch: Channel) -> dict[str, str]:
        return {key: render(ch, self.spec) for key, render in self._state.items()}

    # ------------------------------------------------------------------ the clock

    def _meter_clock(self) -> float:
        return asyncio.get_running_loop().time() - self._started_at

    def _sim_seconds(self) -> float:
        return self._meter_clock() * self.time_scale

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_step = loop.time()
        while True:
            now = loop.time()
            if now >= next_step:
                self._slow_step(now)
                next_step = now + SLOW_STEP_SECONDS
            await self._sleep_until(min(next_step, self._emit_meters(now)))

    async def _sleep_until(self, when: float) -> None:
        loop = asyncio.get_running_loop()
        self._wake = loop.create_future()
        handle = loop.call_at(when, _resolve, self._wake)
        try:
            await self._wake
        finally:
            handle.cancel()
            self._wake = None

    def _wake_up(self) -> None:
        if self._wake is not None:
            _resolve(self._wake)

    def _emit_meters(self, now: float) -> float:
        """Send every meter frame that is due; return when the next one is."""
        if not self._answering():
            return math.inf
        soonest = math.inf
        for conn in list(self._connections):
            frames: list[str] = []
            for number, rate in conn.rates.items():
                if conn.due[number] <= now + BATCH_WINDOW_SECONDS:
                    frames += self._meter_frames(self._channels[number - 1])
                    conn.due[number] = _next_due(conn.due[number], rate / 1000, now)
                soonest = min(soonest, conn.due[number])
            if frames:
                self._send(conn, frames, droppable=True)
        return soonest

    def _meter_frames(self, ch: Channel) -> list[str]:
        family = self.spec.family
        meters = ch.meters(self._meter_clock(), self._rng)
        head = f"< {family.meter_keyword} {ch.number}"
        pairs = METER_FRAMES[family.key](meters)
        return [f"{head} {param} {value} >{family.line_end}" for param, value in pairs]

    def _slow_step(self, now: float) -> None:
        """Drain batteries, bring back power-cycled transmitters, roll for faults, push."""
        minutes = (now - self._last_step) * self.time_scale / 60.0
        self._last_step = now
        sim_minutes = self._sim_seconds() / 60.0
        for ch in self._channels:
            if ch.tx_on:
                ch.battery.drain(minutes)
            elif ch.back_on_at is not None and sim_minutes >= ch.back_on_at:
                ch.power(True)
        self._roll_faults(now)
        if self._reachable_again_at is not None and now >= self._reachable_again_at:
            self.set_reachable(True)
        self._publish()

    def _roll_faults(self, now: float) -> None:
        actions: dict[str, Callable[[float], None]] = {
            "tx_power_cycle": self._fault_power_cycle,
            "rx_unreachable": self._fault_cable_pull,
            "reboot": lambda _now: self.reboot(),
            "battery_swap": self._fault_battery_swap,
            "pack_change": self._fault_pack_change,
        }
        for kind, action in actions.items():
            if self._fault_due(kind):
                action(now)

    def _fault_power_cycle(self, now: float) -> None:
        ch = self._rng.choice(self._channels)
        if ch.tx_on:
            ch.power(False)
            ch.back_on_at = self._sim_seconds() / 60.0 + self._rng.uniform(1.0, 10.0)

    def _fault_cable_pull(self, now: float) -> None:
        self.set_reachable(False)
        self._reachable_again_at = now + self._rng.uniform(5.0, 60.0)

    def _fault_battery_swap(self, now: float) -> None:
        ch = self._rng.choice(self._channels)
        ch.battery = fresh_battery(self._rng, kind=self._rng.choice(("LION", "LION", "ALKA")))

    def _fault_pack_change(self, now: float) -> None:
        levels = [ch.battery.percent if ch.tx_on else None for ch in self._channels]
        number = pack_to_change(levels)
        if number is not None:
            self._channels[number - 1].battery = fresh_battery(self._rng)


def _next_due(due: float, interval: float, now: float) -> float:
    """Return the next meter time; a schedule that fell behind restarts instead of bursting."""
    due += interval
    return due if due > now else now + interval
