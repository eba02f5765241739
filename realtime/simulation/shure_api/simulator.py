"""A simulated Shure System API server: real HTTPS REST and WebSocket push on loopback.

It serves D.1 of the protocol notes: a Relay-paged inventory with ONLINE, OFFLINE and
DISCOVERED devices, audio channels with base64-JSON ids, battery packs that drain (D.4), a
WebSocket that greets with a transportId, bodiless-POST subscriptions and envelope+body
events. Errors: 401 on a bad key, 400 on a JSON Content-Type with an empty body, 404 on an
unknown id.

One server fronts many devices, so the `SimulatedDevice` controls take an optional
`device_id` (default: the first device) and map as follows:

- `set_reachable(False)` pulls the server's cable: every connection drops, new ones are
  refused (`stall=True`: they stay open but go silent). With `device_id`, only that
  device goes OFFLINE (DEVICE_STATE_CHANGE).
- `set_battery(1, ...)` sets a battery device's charge (packs are one channel, number 1);
  the API has no bars, so `bars` alone sets the percentage to bars x 20.
- `set_tx_power(channel, on=...)` silences a receiver channel (activity LOW); for a pack,
  which is itself the transmitter, it switches the device OFFLINE/ONLINE.
- `reboot(device_id)` sends OFFLINE, then ONLINE after `reboot_seconds`.

Extra controls for tests: `set_activity` pins a channel's level, `inject_malformed_frame`
and `inject_split_frame` spoil the push stream, `push_connections` counts push sockets.
The same seed gives the same device ids, serials, battery levels and activity sequence.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
import ssl
from collections.abc import Callable, Sequence

import trustme

from micboard.devices import DeviceInfo
from realtime.protocols.shure_api.parse import ActivityLevel, DeviceState
from realtime.simulation.base import FaultRates, pack_to_change
from realtime.simulation.shure_api.devices import (
    SimChannel,
    SimDevice,
    SimDeviceSpec,
    build_devices,
    channel_event,
    default_stage,
    device_event,
)
from realtime.simulation.shure_api.https_server import HttpRequest, HttpResponse, HttpsServer
from realtime.simulation.shure_api.push_broker import DEVICES, PushBroker
from realtime.simulation.shure_api.rest_api import ListMode, SimRestApi

PUSH_PATH = "/api/v1/subscriptions/websocket/create"
DEFAULT_API_KEY = "simulated-shared-key"
FAULT_TICK = 1.0  # seconds between fault rolls
_SPEECH = (ActivityLevel.GOOD, ActivityLevel.LOW, ActivityLevel.CLIPPING)
_SPEECH_WEIGHTS = (0.6, 0.35, 0.05)
_GARBAGE = (
    "not json at all",
    '{"envelope": {"eventName": "AUDIO_CHANNEL_ACTIVITY"}',
    '{"envelope": 42, "body": []}',
    '{"transportId": 7}',
    "[]",
)


class ShureSystemApiSimulator:
    """Serve a simulated System API over real TLS; control it like any SimulatedDevice."""

    def __init__(
        self,
        devices: Sequence[SimDeviceSpec] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        seed: int = 0,
        faults: FaultRates | None = None,
        activity_interval: float = 5.0,
        battery_tick: float = 60.0,
        reboot_seconds: float = 5.0,
        page_size: int = 100,
        list_mode: ListMode = "relay",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.api_key = host, port, api_key
        self._rng = random.Random(seed)
        specs = default_stage() if devices is None else devices
        self.devices = {d.device_id: d for d in build_devices(specs, self._rng)}
        self._faults = faults or FaultRates()
        self._intervals = (activity_interval, battery_tick, reboot_seconds)
        self.ca = None if ssl_context else trustme.CA()
        self._broker = PushBroker(self._rng)
        self._rest = SimRestApi(
            self.devices, self._broker, api_key=api_key, page_size=page_size, list_mode=list_mode
        )
        self._http = HttpsServer(
            host=host,
            port=port,
            ssl_context=ssl_context or self._self_signed_context(),
            push_path=PUSH_PATH,
            on_request=self._answer,
            on_push_opened=self._broker.open,
            on_push_closed=self._broker.close,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._slow_answers = 0

    @property
    def base_url(self) -> str:
        """Return the server URL a client is configured with."""
        return f"https://{self.host}:{self.port}"

    @property
    def push_connections(self) -> int:
        """Return how many push WebSockets are open right now."""
        return self._broker.socket_count

    def client_ssl_context(self) -> ssl.SSLContext:
        """Return a client TLS context that trusts this simulator's self-signed CA."""
        if self.ca is None:
            raise RuntimeError("the simulator was given its own ssl_context; trust its CA")
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    async def start(self) -> None:
        """Listen (the bound port is stored in `port`) and start the device dynamics."""
        await self._http.start()
        self.port = self._http.port
        activity_interval, battery_tick, _ = self._intervals
        self._spawn(activity_interval, self._push_activity)
        self._spawn(battery_tick, self._drain_batteries)
        if any(dataclasses.astuple(self._faults)):
            self._spawn(FAULT_TICK, self._roll_faults)

    async def stop(self) -> None:
        """Stop the dynamics and timers, drop every connection and stop listening."""
        for task in self._tasks:
            task.cancel()
        for timer in self._timers:
            timer.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.stop()

    def device_info(self, device_id: str | None = None) -> DeviceInfo:
        """Describe a device (default: the first) as a correct client discovers it."""
        return self._device(device_id).device_info(self.host, self.port)

    def set_battery(
        self,
        channel: int,
        *,
        bars: int | None = None,
        percent: int | None = None,
        minutes: int | None = None,
        device_id: str | None = None,
    ) -> None:
        """Force a battery device's charge and push DEVICE_BATTERY_LEVEL."""
        device = self._device(device_id)
        if device.battery is None or channel != 1:
            raise ValueError(f"{device.model} reports no battery on channel {channel}")
        if percent is None and bars is not None:
            percent = bars * 20  # the API has no bars; D.4 steps them about every 20 %
        device.battery.force(percent=percent, minutes=minutes)
        self._publish_battery(device)

    def set_tx_power(self, channel: int, *, on: bool, device_id: str | None = None) -> None:
        """Switch a transmitter on or off as the System API can show it."""
        device = self._device(device_id)
        if not device.channels and device.battery is not None:
            self._switch_power(device, on=on)
            return
        target = self._channel(device, channel)
        target.tx_on = on
        self._publish_activity(device, target)

    def set_reachable(
        self, reachable: bool, *, device_id: str | None = None, stall: bool = False
    ) -> None:
        """Pull or restore the server's cable, or with `device_id` one device's link.

        A pulled cable drops every connection and refuses new ones; with `stall=True` the
        connections stay open but go silent (no answers, no pushes, no pongs) instead.
        """
        if device_id is not None:
            self._set_state(self._device(device_id), _online_if(reachable))
        elif reachable:
            self._http.accepting = True
            self._http.flowing.set()
        elif stall:
            self._http.flowing.clear()
        else:
            self._http.accepting = False
            self._http.drop_connections()

    def reboot(self, device_id: str | None = None) -> None:
        """Reboot a device: OFFLINE now, ONLINE again after `reboot_seconds`."""
        device = self._device(device_id)
        self._set_state(device, DeviceState.OFFLINE)
        self._later(self._intervals[2], lambda: self._finish_reboot(device))

    def set_activity(
        self, channel: int, level: ActivityLevel | None, *, device_id: str | None = None
    ) -> None:
        """Pin a channel's audio activity (None: back to random speech) and push it now."""
        device = self._device(device_id)
        target = self._channel(device, channel)
        target.pinned = level
        self._publish_activity(device, target)

    def inject_malformed_frame(self, text: str | None = None) -> None:
        """Send a frame no client can use to every push socket."""
        self._broker.publish_raw(text if text is not None else self._rng.choice(_GARBAGE))

    def inject_split_frame(self) -> None:
        """Send the next push event as two WebSocket fragments."""
        self._broker.split_next = True

    async def _answer(self, request: HttpRequest) -> HttpResponse:
        if self._slow_answers:
            self._slow_answers -= 1
            await asyncio.sleep(self._rng.uniform(1.0, 3.0))
        return self._rest.handle(request)

    def _self_signed_context(self) -> ssl.SSLContext:
        assert self.ca is not None  # only called when no context was given
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(self.host, "localhost").configure_cert(context)
        return context

    def _spawn(self, interval: float, step: Callable[[], None]) -> None:
        self._tasks.append(asyncio.create_task(_every(interval, step)))

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        self._timers.append(asyncio.get_running_loop().call_later(delay, action))

    def _device(self, device_id: str | None) -> SimDevice:
        key = device_id if device_id is not None else next(iter(self.devices))
        if key not in self.devices:
            raise ValueError(f"no simulated device {key}")
        return self.devices[key]

    def _channel(self, device: SimDevice, channel: int) -> SimChannel:
        if not 1 <= channel <= len(device.channels):
            raise ValueError(f"{device.model} has no audio channel {channel}")
        return device.channels[channel - 1]

    def _online(self) -> list[SimDevice]:
        return [d for d in self.devices.values() if d.state is DeviceState.ONLINE]

    def _push_activity(self) -> None:
        for device in self._online():
            for channel in device.channels:
                self._publish_activity(device, channel)

    def _drain_batteries(self) -> None:
        for device in self._online():
            if device.battery is not None:
                device.battery.tick_minute()
                self._publish_battery(device)

    def _next_level(self, channel: SimChannel) -> ActivityLevel:
        if channel.pinned is not None:
            return channel.pinned
        if not channel.tx_on or channel.muted:
            return ActivityLevel.LOW  # no transmitter, no audio
        return self._rng.choices(_SPEECH, _SPEECH_WEIGHTS)[0]

    def _publish_activity(self, device: SimDevice, channel: SimChannel) -> None:
        if device.state is not DeviceState.ONLINE:
            return
        channel.activity = self._next_level(channel)
        body: dict[str, object] = {"audioLevel": channel.activity.value}
        event = channel_event("AUDIO_CHANNEL_ACTIVITY", device, channel, body)
        self._broker.publish((device.device_id, channel.channel_id, "activity"), event)

    def _publish_battery(self, device: SimDevice) -> None:
        if device.battery is None or device.state is not DeviceState.ONLINE:
            return
        event = device_event("DEVICE_BATTERY_LEVEL", device, device.battery.level_body())
        self._broker.publish((device.device_id, "battery-level"), event)

    def _set_state(self, device: SimDevice, state: DeviceState) -> None:
        if device.state is state:
            return
        device.state = state
        event = device_event("DEVICE_STATE_CHANGE", device, device.node_body())
        self._broker.publish(DEVICES, event)

    def _switch_power(self, device: SimDevice, *, on: bool) -> None:
        if on and device.battery is not None:
            device.battery.power_on()
        self._set_state(device, _online_if(on))

    def _finish_reboot(self, device: SimDevice) -> None:
        for channel in device.channels:
            channel.activity = ActivityLevel.LOW
        self._switch_power(device, on=True)

    def _roll_faults(self) -> None:
        for kind in dataclasses.fields(self._faults):
            rate = getattr(self._faults, kind.name)
            if rate and self._rng.random() < rate * FAULT_TICK / 3600:
                _FAULT_ACTIONS[kind.name](self)

    def _fault_tx_power_cycle(self) -> None:
        candidates = [d for d in self._online() if d.channels]
        if candidates:
            device = self._rng.choice(candidates)
            number = self._rng.randrange(len(device.channels)) + 1
            self.set_tx_power(number, on=False, device_id=device.device_id)
            restore = functools.partial(
                self.set_tx_power, number, on=True, device_id=device.device_id
            )
            self._later(self._rng.uniform(5, 60), restore)

    def _fault_rx_unreachable(self) -> None:
        self.set_reachable(False)
        self._later(self._rng.uniform(5, 60), lambda: self.set_reachable(True))

    def _fault_reboot(self) -> None:
        if candidates := self._online():
            self.reboot(self._rng.choice(candidates).device_id)

    def _fault_slow_answer(self) -> None:
        self._slow_answers += 1

    def _fault_battery_swap(self) -> None:
        packs = [d for d in self._online() if d.battery is not None]
        if packs:
            self.set_battery(1, percent=100, device_id=self._rng.choice(packs).device_id)

    def _fault_pack_change(self) -> None:
        packs = [d for d in self._online() if d.battery is not None]
        number = pack_to_change([d.battery.percent for d in packs if d.battery is not None])
        if number is not None:
            self.set_battery(1, percent=100, device_id=packs[number - 1].device_id)


_FAULT_ACTIONS: dict[str, Callable[[ShureSystemApiSimulator], None]] = {
    "tx_power_cycle": ShureSystemApiSimulator._fault_tx_power_cycle,
    "rx_unreachable": ShureSystemApiSimulator._fault_rx_unreachable,
    "reboot": ShureSystemApiSimulator._fault_reboot,
    "slow_answer": ShureSystemApiSimulator._fault_slow_answer,
    "malformed_frame": lambda sim: sim.inject_malformed_frame(),
    "split_frame": ShureSystemApiSimulator.inject_split_frame,
    "battery_swap": ShureSystemApiSimulator._fault_battery_swap,
    "pack_change": ShureSystemApiSimulator._fault_pack_change,
}


def _online_if(on: bool) -> DeviceState:
    return DeviceState.ONLINE if on else DeviceState.OFFLINE


async def _every(interval: float, step: Callable[[], None]) -> None:
    while True:
        await asyncio.sleep(interval)
        step()
