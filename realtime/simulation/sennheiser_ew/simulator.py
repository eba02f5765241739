"""A simulated evolution wireless G4 receiver: a real UDP server speaking the EM's commands.

It keeps the list of clients that asked for pushes (`Push timeout cycle mode`), each with
its own cycle and expiry, and sends each the cyclic attributes in one datagram in the
documented order, plus the configuration attributes on change when its mode asks for
them (TI 1254 pp. 8-12; the facts and their confidence are in
`realtime/protocols/sennheiser_ew/parse.py`). Get requests (`Name`, `Frequency`, `Mute`,
`Squelch`) are answered with the current value, set requests with the new one. The
battery drains on a clock `time_scale` times faster than the wall.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import ClassVar

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.simulation.base import FaultRates, pack_to_change
from realtime.simulation.udp import Address, UdpDevice

# What the EM reports (100, 70, 30, 0) for the charge left above each threshold.
BATTERY_STEPS = ((70.0, 100), (30.0, 70), (10.0, 30), (-1.0, 0))
BATTERY_HOURS = 8.0  # 2 x AA in an SK 100 G4, about 8 h
TICK = 0.1  # the finest push cycle the EM offers [V: TI 1254 p. 12]


@dataclass
class Subscriber:
    cycle: float  # seconds between cyclic pushes; 0 for none
    mode: int  # the third Push parameter (bit 0: configuration on change)
    expires_at: float
    next_push: float = 0.0


class SennheiserEwSimulator(UdpDevice[Subscriber]):
    """One EM 300-500 G4 (or another single-channel ew model) on a UDP port."""

    tick: ClassVar[float] = TICK

    def __init__(
        self,
        model: str = "EM 300-500 G4",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "EW-G4",
        frequency_khz: int = 606_200,
        seed: int = 1,
        faults: FaultRates | None = None,
        time_scale: float = 1.0,
    ) -> None:
        super().__init__(host, port)
        self.model = model
        self.name = name
        self.frequency_khz = frequency_khz
        self.faults = faults or FaultRates()
        self.time_scale = time_scale
        self.battery_percent = 100.0
        self.tx_on = True
        self.tx_muted = False
        self.rx_muted = False
        self.clipping = False
        self.config_index = 0
        self.commands_heard: list[str] = []
        self._rng = random.Random(seed)

    def device_info(self) -> DeviceInfo:
        return DeviceInfo(
            protocol=Protocol.SENNHEISER_EW,
            host=self.host,
            port=self.port,
            manufacturer="Sennheiser",
            model=self.model,
            name=self.name,
            channels=(ChannelInfo(1, self.name, self.frequency_khz),),
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
        """Set the battery; the EM reports only 100, 70, 30 or 0 (minutes are not sent)."""
        if percent is None and bars is not None:
            percent = bars * 20
        if percent is not None:
            self.battery_percent = float(percent)
            self._push_cyclic_now()

    def set_tx_power(self, channel: int, *, on: bool) -> None:
        self.tx_on = on
        self._push_cyclic_now()

    def set_name(self, name: str, *, announce: bool = True) -> None:
        """Rename the receiver at its front panel; `announce=False` loses the push."""
        self.name = name
        self.config_index = (self.config_index + 1) % 1000
        if announce:
            self._push_config(f"Name {name}")

    def set_tx_muted(self, muted: bool) -> None:
        self.tx_muted = muted
        self._push_cyclic_now()

    # The wire.

    def _handle(self, data: bytes, sender: Address) -> None:
        text = data.decode("ascii", errors="replace")
        for command in filter(None, (c.strip() for c in text.replace("\n", "\r").split("\r"))):
            self.commands_heard.append(command)
            answer = self._answer(command, sender)
            if answer:
                self._say(answer, sender)

    def _answer(self, command: str, sender: Address) -> str | None:
        keyword, *params = command.split()
        if keyword == "Push":
            return self._push(params, sender)
        if keyword == "Name":
            if params:
                self.set_name(" ".join(params)[:8], announce=False)
            return f"Name {self.name}\r"
        if keyword == "Frequency":
            return self._frequency(params)
        if keyword == "Mute":
            if params in (["0"], ["1"]):
                self.rx_muted = params == ["1"]
            return f"Mute {int(self.rx_muted)}\r"
        if keyword == "Squelch":
            return "Squelch 5\r"
        return None  # the doc names no reply to an unknown command [S]

    def _push(self, params: list[str], sender: Address) -> str:
        numbers = [int(p) for p in params if p.isdigit()]
        if len(numbers) != 3 or len(params) != 3:
            return f"1040: Invalid numbers of parameter [ Push {' '.join(params)} ]\r"
        timeout, cycle_ms, mode = numbers
        if timeout > 300 or cycle_ms > 60000 or mode > 7:
            return f"1020: Value out of range [ Push {' '.join(params)} ]\r"
        now = time.monotonic()
        if timeout == 0 and cycle_ms == 0 and mode == 0:
            self._unsubscribe(sender)
        elif timeout == 0:
            # An immediate, one-off update [V: TI 1254 p. 12].
            if cycle_ms:
                self._say(self._cyclic(), sender)
            if mode:
                self._say(self._configuration(), sender)
        else:
            self._subscribe(sender, [Subscriber(cycle_ms / 1000, mode, now + timeout, now)])
            if mode:
                self._say(self._configuration(), sender)
        return f"Push {timeout} {cycle_ms} {mode}\r"

    def _frequency(self, params: list[str]) -> str:
        if params:
            if not params[0].isdigit() or not 470_000 <= int(params[0]) <= 1_075_000:
                return f"1020: Value out of range [ Frequency {' '.join(params)} ]\r"
            self.frequency_khz = int(params[0])
            self.config_index = (self.config_index + 1) % 1000
        return f"Frequency {self.frequency_khz} 0 0\r"

    def _configuration(self) -> str:
        return (
            f"Name {self.name}\rFrequency {self.frequency_khz} 0 0\r"
            f"Squelch 5\rMute {int(self.rx_muted)}\r"
        )

    def _cyclic(self) -> str:
        """Return the cyclic attributes of this moment, in the EM's order."""
        rng = self._rng
        if self.tx_on:
            rf = [rng.randint(30, 70) for _ in range(2)]  # about -95..-79 dBm
            active = rng.choice((1, 2))
            af = 0 if self.tx_muted else rng.randint(20, 80)
            if self.clipping:
                af = 100
            hold = min(100, af + rng.randint(0, 15))
            bits = 0b0011 if self.tx_muted else 0
        else:
            rf, active, af, hold, bits = [rng.randint(0, 5), rng.randint(0, 5)], 1, 0, 0, 0b0101
        if self.rx_muted:
            bits |= 0b1001
        warnings = self._warnings(min(rf), bits)
        return (
            f"RF1 {max(0, rf[0] - 5)} {rf[0]} {int(active == 1)}\r"
            f"RF2 {max(0, rf[1] - 5)} {rf[1]} {int(active == 2)}\r"
            f"States 0 0\r"
            f"RF {rf[active - 1]} {active} {int(self.tx_on)}\r"
            f"AF {af} {hold} {bits}\r"
            f"Bat {self._battery_word()}\r"
            f"Msg {' '.join(warnings) or 'OK'}\r"
            f"Config {self.config_index}\r"
        )

    def _battery_word(self) -> str:
        if not self.tx_on:
            return "?"
        return str(next(step for above, step in BATTERY_STEPS if self.battery_percent > above))

    def _warnings(self, weakest_rf: int, bits: int) -> list[str]:
        warnings = []
        if self.clipping and self.tx_on:
            warnings.append("AF_Peak")
        if self.tx_on and self._battery_word() == "0":
            warnings.append("Low_Battery")
        if self.tx_on and weakest_rf < 10:
            warnings.append("Low_RF_Signal")
        if bits & 0b0100:
            warnings.append("RF_Mute")
        if bits & 0b0010:
            warnings.append("TX_Mute")
        if bits & 0b1000:
            warnings.append("RX_Mute")
        return warnings

    def _say(self, text: str, address: Address) -> None:
        self._send(text.encode("ascii", errors="replace"), address)

    def _push_cyclic_now(self) -> None:
        """Battery and pilot changes push the cyclic attributes to modes 4..7 at once."""
        for address, subscriber in self._live_subscriptions():
            if subscriber.mode & 0b100:
                self._say(self._cyclic(), address)

    def _push_config(self, line: str) -> None:
        for address, subscriber in self._live_subscriptions():
            if subscriber.mode & 0b001:
                self._say(f"{line}\r", address)

    def _on_tick(self, now: float, dt: float) -> None:
        self._drain(dt)
        self._roll_faults(dt)
        for address, subscriber in self._live_subscriptions():
            if subscriber.cycle and now >= subscriber.next_push:
                subscriber.next_push = now + subscriber.cycle
                self._say(self._cyclic(), address)

    def _drain(self, dt: float) -> None:
        if not self.tx_on:
            return
        before = self._battery_word()
        spent = 100.0 * dt * self.time_scale / (BATTERY_HOURS * 3600)
        self.battery_percent = max(0.0, self.battery_percent - spent)
        if self._battery_word() != before:
            self._push_cyclic_now()

    def _roll_faults(self, dt: float) -> None:
        """Switch the transmitter off now and then, and on again a little later."""
        hours = dt / 3600
        if self._rng.random() < self.faults.tx_power_cycle * hours and self.tx_on:
            self.set_tx_power(1, on=False)
            asyncio.get_running_loop().call_later(
                self._rng.uniform(5, 30), lambda: self.set_tx_power(1, on=True)
            )
        if self._rng.random() < self.faults.battery_swap * hours:
            self.set_battery(1, percent=100)
        low = pack_to_change([self.battery_percent if self.tx_on else None])
        if low is not None and self._rng.random() < self.faults.pack_change * hours:
            self.set_battery(low, percent=100)
        self.clipping = self.tx_on and self._rng.random() < 0.01
