"""What every simulator offers: the control surface and the rates of its own faults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from micboard.devices import DeviceInfo


class SimulatedDevice(Protocol):
    """The control surface every simulator offers to tests, the stage and benchmarks.

    Values set here show up on the wire exactly as the real device would send them.
    """

    host: str
    port: int

    async def start(self) -> None:
        """Start listening; with port 0 the bound port is stored in `port`."""
        ...

    async def stop(self) -> None: ...

    def device_info(self) -> DeviceInfo: ...

    def set_battery(
        self,
        channel: int,
        *,
        bars: int | None = None,
        percent: int | None = None,
        minutes: int | None = None,
    ) -> None:
        """Force a transmitter's battery (and push the change as the device would)."""
        ...

    def set_tx_power(self, channel: int, *, on: bool) -> None: ...

    def set_reachable(self, reachable: bool) -> None:
        """False drops every connection and refuses or stalls new ones (a pulled cable)."""
        ...


@dataclass(frozen=True, slots=True)
class FaultRates:
    """How often a simulator misbehaves on its own: expected events per hour of each kind.

    Zero everywhere (the default) gives a well-behaved device; tests that need a fault
    trigger it directly through the SimulatedDevice controls instead of waiting for one.
    """

    tx_power_cycle: float = 0.0  # a transmitter switched off, then on again later
    rx_unreachable: float = 0.0  # receiver cable pulled for 5-60 s
    reboot: float = 0.0  # receiver offline a few seconds, then a full dump again
    slow_answer: float = 0.0  # one reply delayed by 1-3 s
    malformed_frame: float = 0.0  # garbage bytes on the wire
    split_frame: float = 0.0  # one message split across two writes
    battery_swap: float = 0.0  # a fresh battery: back to full
