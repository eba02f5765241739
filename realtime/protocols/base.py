"""What every device family's client shares: the normalised Reading and the client shape.

Each family lives in `realtime/protocols/<name>/`: `parse.py` (pure bytes/JSON -> readings)
and `client.py` (talks to one device), with their helpers; its simulator lives in
`realtime/simulation/<name>/`. What discovery learns about a device (`DeviceInfo`) and the
protocol names are the domain's: `micboard/devices.py`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Protocol

from micboard.devices import DeviceInfo


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
    # An IEM transmitter's RF output (PSM1000 RF_TX_LVL: 10, 50 or 100 mW). Only a
    # transmitter reports one, and it has no pack whose battery it could report.
    rf_power_mw: int | None = None

    def with_changes(self, **changes: object) -> Reading:
        """Return a copy with the given fields replaced and a fresh timestamp."""
        changes.setdefault("timestamp", time.time())
        return replace(self, **changes)  # type: ignore[arg-type]


class DeviceClient(Protocol):
    """The shape every family's client has; the poller drives nothing else."""

    # Why the last attempt to reach the receiver failed, in words (`failures.py`); None
    # while it answers. The Devices page shows it beside an offline receiver.
    failure: str | None

    async def discover(self) -> DeviceInfo: ...

    def readings(self) -> AsyncIterator[Reading]:
        """Yield readings forever: connect, start live updates, reconnect with backoff.

        While the receiver is unreachable, yield a Reading with rx_reachable=False for
        every known channel once (and again on each failed reconnect at most every 5 s).
        """
        ...

    async def close(self) -> None: ...
