"""What every device family shares: the normalised Reading and the device/simulator shapes.

Each family lives in `realtime/protocols/<name>/` with the same three modules:
`parse.py` (pure bytes/JSON -> readings), `client.py` (talks to one device) and
`simulator.py` (a real loopback server that behaves like the device).
"""

from __future__ import annotations

import enum
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Protocol


class ProtocolName(enum.StrEnum):
    SHURE_TCP = "shure_tcp"
    SHURE_API = "shure_api"
    SENNHEISER_SSC = "sennheiser_ssc"


@dataclass(frozen=True, slots=True)
class Reading:
    """The full known state of one receive channel at one moment.

    Clients merge partial updates (a REP for one parameter, a SAMPLE for meters, an SSE
    push for one path) into their per-channel state and yield the merged whole, so a
    consumer never has to tell "not in this update" from "unknown". Unknown is None.
    `channel` is 1-based, as on the receiver's front panel.
    """

    channel: int
    timestamp: float = field(default_factory=time.time)
    rx_reachable: bool = True
    tx_on: bool | None = None
    battery_bars: int | None = None  # 0..5
    battery_percent: int | None = None  # 0..100
    battery_minutes: int | None = None  # runtime remaining; None also while "calculating"
    battery_type: str | None = None  # e.g. "LION", "ALKA", "NIMH"
    rf_a_dbm: float | None = None
    rf_b_dbm: float | None = None
    antenna: str | None = None  # "A", "B" or None (no signal / unknown)
    rf_quality: int | None = None  # 0..100 where the device gives one (RSQI, AD quality)
    audio_rms_dbfs: float | None = None
    audio_peak_dbfs: float | None = None
    audio_clipped: bool = False  # a clip/peak flag seen since the previous reading
    tx_offset_db: float | None = None
    frequency_khz: int | None = None
    channel_name: str | None = None
    tx_model: str | None = None
    tx_muted: bool | None = None
    interference: bool = False

    def with_changes(self, **changes: object) -> Reading:
        """Return a copy with the given fields replaced and a fresh timestamp."""
        changes.setdefault("timestamp", time.time())
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """One receive channel as discovered on a device."""

    number: int  # 1-based
    name: str = ""
    frequency_khz: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What discovery learns about one receiver."""

    protocol: ProtocolName
    host: str
    port: int
    manufacturer: str
    model: str
    name: str = ""
    serial: str = ""
    firmware: str = ""
    channels: tuple[ChannelInfo, ...] = ()


class DeviceClient(Protocol):
    """The shape every family's client has; the poller drives nothing else."""

    async def discover(self) -> DeviceInfo: ...

    def readings(self) -> AsyncIterator[Reading]:
        """Yield readings forever: connect, start live updates, reconnect with backoff.

        While the receiver is unreachable, yield a Reading with rx_reachable=False for
        every known channel once (and again on each failed reconnect at most every 5 s).
        """
        ...

    async def close(self) -> None: ...


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
