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

import json
import time
from collections.abc import AsyncGenerator
from typing import Any, ClassVar

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.base import Reading, kept_identity
from realtime.protocols.sennheiser_ssc1 import ewdx
from realtime.protocols.sennheiser_ssc1.parse import D6000, EWDX, Message, decode_message, model_for
from realtime.protocols.udp import UdpSubscriber

DEFAULT_PORT = 45
LIFETIME_S = 30
ON_CHANGE = {"min": 0, "max": 0}


def _receivers(channels: int, leaves: object) -> dict[str, Any]:
    return {f"rx{n}": leaves for n in range(1, channels + 1)}


def identity_request(channels: int, tree_kind: str) -> dict[str, Any]:
    """Ask who the device is (and, on an EM 6000, its channels' names and carriers)."""
    device = {"device": {"name": None, "identity": {"product": None, "version": None}}}
    if tree_kind == EWDX:
        return device
    return {**device, **_receivers(channels, {"name": None, "carrier": None})}


def _trees(channels: int, tree_kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the meter tree (pushed at the meter interval) and the state tree (on change)."""
    if tree_kind == EWDX:
        return ewdx.meter_request(channels), ewdx.state_request(channels)
    state = _receivers(
        channels,
        {"name": None, "carrier": None, "skx": {"battery": None}, "active_warnings": None},
    )
    return {"mm": None}, state


def subscription(meter_interval_ms: int, channels: int, tree_kind: str = D6000) -> dict[str, Any]:
    meter_tree, state_tree = _trees(channels, tree_kind)
    every = {"min": meter_interval_ms, "max": meter_interval_ms}
    return {
        "osc": {
            "state": {
                "subscribe": [
                    {"#": {**every, "lifetime": LIFETIME_S, "count": 1000}, **meter_tree},
                    {"#": {**ON_CHANGE, "lifetime": LIFETIME_S, "count": 1000}, **state_tree},
                ]
            }
        }
    }


def _encode(tree: dict[str, Any]) -> bytes:
    return json.dumps(tree, separators=(",", ":")).encode()


def unsubscribe(channels: int, tree_kind: str) -> bytes:
    meter_tree, state_tree = _trees(channels, tree_kind)
    return _encode({"osc": {"state": {"unsubscribe": [meter_tree, state_tree]}}})


class SennheiserSsc1Client(UdpSubscriber):
    """A DeviceClient for SSCv1 receivers (EM 6000, EW-DX in legacy mode) over JSON on UDP."""

    family: ClassVar[str] = "sennheiser_ssc1"

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        model: str | None = None,
        meter_interval_ms: int = 100,
        silence_timeout: float = 5.0,
        discovery_timeout: float = 2.0,
        reply_window: float = 0.3,
        backoff_initial: float = 1.0,
        backoff_max: float = 20.0,
        unreachable_repeat: float = 5.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(
            host,
            port,
            silence_timeout=silence_timeout,
            discovery_timeout=discovery_timeout,
            reply_window=reply_window,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            unreachable_repeat=unreachable_repeat,
            seed=seed,
        )
        self.meter_interval_ms = meter_interval_ms
        # The channels the model has (`parse.MODELS`); discovery corrects it from the
        # product the device names.
        self.channels, self.tree_kind = model_for(model)
        self._known: dict[int, dict[str, object]] = {n: {} for n in range(1, self.channels + 1)}
        self._identity: dict[str, str] = {}
        self._device_name = ""

    async def discover(self) -> DeviceInfo:
        """Ask the device for its identity and channels, and describe it."""
        answers = await self._ask(_encode(identity_request(self.channels, self.tree_kind)))
        if not answers:
            raise TimeoutError("no answer from the receiver")
        product = _product(answers)
        if product is not None and model_for(product) != (self.channels, self.tree_kind):
            self.channels, self.tree_kind = model_for(product)
            self._known = {n: {} for n in range(1, self.channels + 1)}
            answers = await self._ask(_encode(identity_request(self.channels, self.tree_kind)))
        for message in (decode_message(a, self.channels, self.tree_kind) for a in answers):
            if message is not None:
                self._merge(message)
        return self._describe()

    def _goodbye(self) -> bytes:
        return unsubscribe(self.channels, self.tree_kind)

    def _subscription(self) -> tuple[bytes, float]:
        request = subscription(self.meter_interval_ms, self.channels, self.tree_kind)
        return _encode(request), LIFETIME_S / 3

    async def _session(self) -> AsyncGenerator[Reading, None]:
        async for datagram in self._datagrams():
            message = decode_message(datagram, self.channels, self.tree_kind)
            if message is None:
                continue
            now = time.time()
            for channel in self._merge(message):
                yield Reading(channel=channel, timestamp=now, **self._known[channel])  # type: ignore[arg-type]

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

    def _unreachable(self) -> list[Reading]:
        readings = []
        for channel, known in self._known.items():
            self._known[channel] = kept_identity(known)
            readings.append(Reading(channel=channel, rx_reachable=False, **self._known[channel]))  # type: ignore[arg-type]
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


def _product(answers: list[bytes]) -> str | None:
    for answer in answers:
        message = decode_message(answer)
        if message is not None and "product" in message.identity:
            return message.identity["product"]
    return None
