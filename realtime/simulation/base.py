"""What every simulator offers: the control surface and the rates of its own faults."""

from __future__ import annotations

from collections.abc import Sequence
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
    # A tech changes the lowest pack if it is below PACK_CHANGE_BELOW: the demo's stage
    # crew, so a demo left running for hours keeps batteries at believable levels.
    pack_change: float = 0.0


PACK_CHANGE_BELOW = 30.0  # percent: about when a tile turns red (2 bars)


def pack_to_change(levels: Sequence[float | None]) -> int | None:
    """Return the 1-based channel whose pack a tech changes now: the lowest charge, if it is
    below PACK_CHANGE_BELOW; None marks a transmitter that is off (nobody is wearing it)."""
    known = [(level, number) for number, level in enumerate(levels, start=1) if level is not None]
    if not known:
        return None
    level, number = min(known)
    return number if level < PACK_CHANGE_BELOW else None
