"""A simulated Digital 6000 EM 6000: a real UDP server speaking SSCv1 (JSON per datagram).

A request is an address tree: a `null` leaf asks for the value, any other value sets it
(name and carrier only; the rest is read-only, as on the EM). `/osc/state/subscribe` takes
a list of trees, each with its `#` options (`min` ms between pushes, `lifetime` s): the
current values go out at once, then meters every `min` ms and the other addresses when
they change. `/osc/state/unsubscribe` ends a sender's subscriptions. Wire facts and their
sources: `realtime/protocols/sennheiser_ssc1/parse.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.simulation.base import FaultRates, pack_to_change

Address = tuple[str, int]
TICK = 0.05
BATTERY_HOURS = 7.0  # a BA 60 in an SK 6000, about 7 h [S: Sennheiser's data sheet figure]


@dataclass
class Subscription:
    tree: dict[str, Any]
    every: float  # seconds between pushes; 0: on change only
    expires_at: float
    next_push: float = 0.0
    last: dict[str, Any] = field(default_factory=dict)


@dataclass
class Channel:
    name: str
    carrier: int
    tx_on: bool = True
    battery_percent: float = 100.0
    clipping: bool = False


class Ssc1Protocol(asyncio.DatagramProtocol):
    def __init__(self, simulator: SennheiserSsc1Simulator) -> None:
        self.simulator = simulator

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.simulator.attach(transport)  # type: ignore[arg-type]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, ...]) -> None:
        self.simulator.receive(data, (str(addr[0]), int(addr[1])))


class SennheiserSsc1Simulator:
    """One EM 6000 (two channels) on a UDP port; port 0 picks a free one."""

    def __init__(
        self,
        model: str = "EM6000",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "EM6000-1",
        channel_names: tuple[str, str] = ("D6K-1", "D6K-2"),
        seed: int = 1,
        faults: FaultRates | None = None,
        time_scale: float = 1.0,
    ) -> None:
        self.model = model
        self.host = host
        self.port = port
        self.name = name
        self.faults = faults or FaultRates()
        self.time_scale = time_scale
        self.reachable = True
        self.channels = [
            Channel(channel_names[0], 606_200),
            Channel(channel_names[1], 610_400),
        ]
        self.requests_heard: list[dict[str, Any]] = []
        self._rng = random.Random(seed)
        self._subscriptions: dict[Address, list[Subscription]] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._clock: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(
            lambda: Ssc1Protocol(self), local_addr=(self.host, self.port)
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

    def device_info(self) -> DeviceInfo:
        return DeviceInfo(
            protocol=Protocol.SENNHEISER_SSC1,
            host=self.host,
            port=self.port,
            manufacturer="Sennheiser",
            model=self.model,
            name=self.name,
            firmware="2.6.0.8",
            channels=tuple(
                ChannelInfo(n, c.name, c.carrier) for n, c in enumerate(self.channels, start=1)
            ),
        )

    @property
    def subscribers(self) -> int:
        now = time.monotonic()
        return sum(
            1 for subs in self._subscriptions.values() if any(s.expires_at > now for s in subs)
        )

    # The SimulatedDevice controls.

    def set_battery(
        self,
        channel: int,
        *,
        bars: int | None = None,
        percent: int | None = None,
        minutes: int | None = None,
    ) -> None:
        if percent is None and bars is not None:
            percent = bars * 20
        if percent is not None:
            self.channels[channel - 1].battery_percent = float(percent)

    def set_tx_power(self, channel: int, *, on: bool) -> None:
        self.channels[channel - 1].tx_on = on

    def set_reachable(self, reachable: bool) -> None:
        self.reachable = reachable

    def set_name(self, channel: int, name: str) -> None:
        self.channels[channel - 1].name = name

    # The state as an SSC tree.

    def state(self) -> dict[str, Any]:
        tree: dict[str, Any] = {
            "device": {
                "name": self.name,
                "identity": {
                    "product": self.model,
                    "version": "2.6.0.8",
                    "vendor": "Sennheiser electronic GmbH & Co. KG",
                },
            },
            "mm": [self._meters(c) for c in self.channels],
        }
        for number, channel in enumerate(self.channels, start=1):
            tree[f"rx{number}"] = {
                "name": channel.name,
                "carrier": channel.carrier,
                "skx": {"battery": self._battery(channel)},
                "active_warnings": self._warnings(channel),
            }
        return tree

    def _meters(self, channel: Channel) -> list[int]:
        if not channel.tx_on:
            return [self._rng.randint(20, 40), 0, self._rng.randint(20, 40), 0, 0, 0, 0, 0, 0]
        rng = self._rng
        rf1, rf2 = rng.randint(90, 150), rng.randint(90, 150)  # about -82..-52 dBm
        div1 = int(rf1 >= rf2)
        af = 255 if channel.clipping else rng.randint(150, 220)  # about -53..-18 dBFS
        return [rf1, 0, rf2, 0, div1, 1 - div1, rng.randint(200, 255), af, int(channel.clipping)]

    def _battery(self, channel: Channel) -> list[str]:
        if not channel.tx_on:
            return []
        percent = channel.battery_percent
        state = (
            "100%" if percent > 70 else "70%" if percent > 30 else "30%" if percent > 10 else "low"
        )
        minutes = int(percent / 100 * BATTERY_HOURS * 60)
        return [state, f"{minutes // 60}:{minutes % 60:02d}"]

    def _warnings(self, channel: Channel) -> list[str]:
        if not channel.tx_on:
            return ["NoLink"]
        warnings = ["AFPeak"] if channel.clipping else []
        return warnings + (["LowBattery"] if channel.battery_percent <= 10 else [])

    # The wire.

    def receive(self, data: bytes, sender: Address) -> None:
        if not self.reachable:
            return
        try:
            request = json.loads(data)
        except ValueError:
            return  # SSC names no answer to broken JSON [S]
        if not isinstance(request, dict):
            return
        self.requests_heard.append(request)
        state = (
            request.get("osc", {}).get("state") if isinstance(request.get("osc"), dict) else None
        )
        if isinstance(state, dict) and ("subscribe" in state or "unsubscribe" in state):
            self._subscribe(state, sender)
            return
        self._apply_sets(request)
        self._send(_select(request, self.state()), sender)

    def _subscribe(self, state: dict[str, Any], sender: Address) -> None:
        if "unsubscribe" in state:
            self._subscriptions.pop(sender, None)
            return
        now = time.monotonic()
        fresh = []
        for entry in state.get("subscribe") or []:
            if not isinstance(entry, dict):
                continue
            options = entry.get("#", {})
            tree = {k: v for k, v in entry.items() if k != "#"}
            every = float(options.get("min", 0)) / 1000
            lifetime = float(options.get("lifetime", 10))
            fresh.append(Subscription(tree, every, now + lifetime, now + every))
        self._subscriptions[sender] = fresh
        snapshot = self.state()
        for subscription in fresh:
            subscription.last = _select(subscription.tree, snapshot)
            self._send(subscription.last, sender)

    def _apply_sets(self, request: dict[str, Any]) -> None:
        for number, channel in enumerate(self.channels, start=1):
            node = request.get(f"rx{number}")
            if not isinstance(node, dict):
                continue
            if isinstance(node.get("name"), str):
                channel.name = node["name"][:8]
            if isinstance(node.get("carrier"), int):
                channel.carrier = node["carrier"]

    def _send(self, tree: dict[str, Any], address: Address) -> None:
        if self._transport is not None and self.reachable and tree:
            self._transport.sendto(json.dumps(tree, separators=(",", ":")).encode(), address)

    async def _run_clock(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            self._drain(now - last)
            last = now
            snapshot = self.state()
            for address, subscriptions in list(self._subscriptions.items()):
                for subscription in subscriptions:
                    if subscription.expires_at > now:
                        self._push(subscription, snapshot, address, now)

    def _push(
        self, subscription: Subscription, snapshot: dict[str, Any], address: Address, now: float
    ) -> None:
        current = _select(subscription.tree, snapshot)
        if subscription.every:
            if now >= subscription.next_push:
                subscription.next_push = now + subscription.every
                self._send(current, address)
        elif current != subscription.last:
            self._send(_changed(current, subscription.last), address)
        subscription.last = current

    def _drain(self, dt: float) -> None:
        hours = dt / 3600
        for number, channel in enumerate(self.channels, start=1):
            if channel.tx_on:
                spent = 100.0 * dt * self.time_scale / (BATTERY_HOURS * 3600)
                channel.battery_percent = max(0.0, channel.battery_percent - spent)
            channel.clipping = channel.tx_on and self._rng.random() < 0.005
            if self._rng.random() < self.faults.tx_power_cycle * hours and channel.tx_on:
                self.set_tx_power(number, on=False)
                asyncio.get_running_loop().call_later(
                    self._rng.uniform(5, 30), functools.partial(self.set_tx_power, number, on=True)
                )
        levels = [c.battery_percent if c.tx_on else None for c in self.channels]
        low = pack_to_change(levels)
        if low is not None and self._rng.random() < self.faults.pack_change * hours:
            self.set_battery(low, percent=100)


def _select(request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """Return the part of `state` the request tree names (a leaf names its whole subtree)."""
    selected: dict[str, Any] = {}
    for key, wanted in request.items():
        if key not in state or key == "osc":
            continue
        if isinstance(wanted, dict) and isinstance(state[key], dict):
            selected[key] = _select(wanted, state[key])
        else:
            selected[key] = state[key]
    return selected


def _changed(current: dict[str, Any], last: dict[str, Any]) -> dict[str, Any]:
    """Return only the leaves of `current` that differ from `last`."""
    changed: dict[str, Any] = {}
    for key, value in current.items():
        before = last.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            inner = _changed(value, before)
            if inner:
                changed[key] = inner
        elif value != before:
            changed[key] = value
    return changed
