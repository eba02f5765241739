"""A simulated SSCv1 receiver: a real UDP server speaking JSON per datagram, as a Digital
6000 EM 6000 (by default) or, given an EW-DX product, with the EW-DX legacy tree (`/m`,
`/mates`, 424 for a battery with no transmitter: `protocols/sennheiser_ssc1/ewdx.py`).

A request is an address tree: a `null` leaf asks for the value, any other value sets it
(name and carrier only; the rest is read-only, as on the EM). `/osc/state/subscribe` takes
a list of trees, each with its `#` options (`min` ms between pushes, `lifetime` s): the
current values go out at once, then meters every `min` ms and the other addresses when
they change. `/osc/state/unsubscribe` ends a sender's subscriptions. Wire facts and their
sources: `realtime/protocols/sennheiser_ssc1/parse.py`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.sennheiser_ssc1.ewdx import TX_ABSENT_CODE
from realtime.protocols.sennheiser_ssc1.parse import EWDX, model_for
from realtime.simulation.base import FaultRates, pack_to_change
from realtime.simulation.udp import Address, UdpDevice

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


class SennheiserSsc1Simulator(UdpDevice[Subscription]):
    """One SSCv1 receiver (an EM 6000 by default) on a UDP port; port 0 picks a free one."""

    tick: ClassVar[float] = TICK

    def __init__(
        self,
        model: str = "EM6000",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "EM6000-1",
        channel_names: tuple[str, ...] | None = None,
        seed: int = 1,
        faults: FaultRates | None = None,
        time_scale: float = 1.0,
    ) -> None:
        super().__init__(host, port)
        self.model = model
        self.name = name
        self.faults = faults or FaultRates()
        self.time_scale = time_scale
        count, self.tree_kind = model_for(model)  # the client's table (parse.MODELS)
        names = channel_names or tuple(f"{name}-{n}" for n in range(1, count + 1))
        if len(names) != count:
            raise ValueError(f"{model} has {count} channels, not {len(names)} names")
        self.channels = [
            Channel(channel_name, 606_200 + 4_200 * n) for n, channel_name in enumerate(names)
        ]
        self.requests_heard: list[dict[str, Any]] = []
        self._rng = random.Random(seed)

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
        }
        if self.tree_kind == EWDX:
            return {**tree, **self._ewdx_state()}
        tree["mm"] = [self._meters(c) for c in self.channels]
        for number, channel in enumerate(self.channels, start=1):
            tree[f"rx{number}"] = {
                "name": channel.name,
                "carrier": channel.carrier,
                "skx": {"battery": self._battery(channel)},
                "active_warnings": self._warnings(channel),
            }
        return tree

    def _ewdx_state(self) -> dict[str, Any]:
        """The EW-DX legacy tree: `/m/rxN` meters, `/mates/txN/battery` of linked packs."""
        rng = self._rng
        meters, mates = {}, {}
        for number, channel in enumerate(self.channels, start=1):
            if channel.tx_on:
                meters[f"rx{number}"] = {
                    "rssi": rng.randint(-80, -50),
                    "rsqi": rng.randint(70, 100),
                    "divi": rng.choice((1, 2)),
                    "af": rng.randint(-50, -18),
                }
                minutes = int(channel.battery_percent / 100 * BATTERY_HOURS * 60)
                battery = {"gauge": round(channel.battery_percent), "lifetime": minutes}
                mates[f"tx{number}"] = {"battery": {**battery, "type": "Battery"}}
            else:
                meters[f"rx{number}"] = {"rssi": rng.randint(-110, -100), "rsqi": 0, "divi": 0}
        return {"m": meters, "mates": mates}

    def _answer(self, request: dict[str, Any], snapshot: dict[str, Any]) -> dict[str, Any]:
        """Return what the request names; on EW-DX, 424 for a battery with no transmitter."""
        answer = _select(request, snapshot)
        asked = request.get("mates")
        if self.tree_kind != EWDX or not isinstance(asked, dict):
            return answer
        absent = [
            {"mates": {name: {"battery": [TX_ABSENT_CODE, {"desc": "no transmitter"}]}}}
            for name in asked
            if name not in snapshot["mates"]
        ]
        return {**answer, "osc": {"error": absent}} if absent else answer

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

    def _handle(self, data: bytes, sender: Address) -> None:
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
            self._take_subscription(state, sender)
            return
        self._apply_sets(request)
        self._say(self._answer(request, self.state()), sender)

    def _take_subscription(self, state: dict[str, Any], sender: Address) -> None:
        if "unsubscribe" in state:
            self._unsubscribe(sender)
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
        self._subscribe(sender, fresh)
        snapshot = self.state()
        for subscription in fresh:
            subscription.last = self._answer(subscription.tree, snapshot)
            self._say(subscription.last, sender)

    def _apply_sets(self, request: dict[str, Any]) -> None:
        for number, channel in enumerate(self.channels, start=1):
            node = request.get(f"rx{number}")
            if not isinstance(node, dict):
                continue
            if isinstance(node.get("name"), str):
                channel.name = node["name"][:8]
            if isinstance(node.get("carrier"), int):
                channel.carrier = node["carrier"]

    def _say(self, tree: dict[str, Any], address: Address) -> None:
        if tree:
            self._send(json.dumps(tree, separators=(",", ":")).encode(), address)

    def _on_tick(self, now: float, dt: float) -> None:
        self._drain(dt)
        snapshot = self.state()
        for address, subscription in self._live_subscriptions():
            self._push(subscription, snapshot, address, now)

    def _push(
        self, subscription: Subscription, snapshot: dict[str, Any], address: Address, now: float
    ) -> None:
        current = self._answer(subscription.tree, snapshot)
        if subscription.every:
            if now >= subscription.next_push:
                subscription.next_push = now + subscription.every
                self._say(current, address)
        elif current != subscription.last:
            self._say(_changed(current, subscription.last), address)
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
