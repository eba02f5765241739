"""What every device family's client shares: the normalised Reading and the client shape.

Each family lives in `realtime/protocols/<name>/`: `parse.py` (pure bytes/JSON -> readings)
and `client.py` (talks to one device), with their helpers; its simulator lives in
`realtime/simulation/<name>/`. What discovery learns about a device (`DeviceInfo`) and the
protocol names are the domain's: `micboard/devices.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field, replace
from typing import ClassVar, Generic, Protocol, TypeVar

from micboard.devices import DeviceInfo
from realtime.protocols.failures import describe_failure

logger = logging.getLogger(__name__)

T = TypeVar("T")


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
    # A Shure rechargeable's health (% of design capacity) and charge cycles: with no
    # serial on the wire, these are how a pack is recognised (micboard/services/packs.py).
    battery_health: int | None = None
    battery_cycles: int | None = None
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


class Reconnecting(Generic[T]):
    """The one reconnect loop every client that keeps a session open runs.

    A subclass says how one session goes (`_session()`, which raises one of
    `session_errors` when the device is lost) and what to yield while it is down
    (`_unreachable()`); `_follow()` runs sessions until close(), says why the last one
    failed in `failure`, and waits with exponential backoff and jitter between them
    (close() cuts the wait short).
    """

    family: ClassVar[str]
    session_errors: ClassVar[tuple[type[BaseException], ...]] = (OSError, TimeoutError, EOFError)

    def __init__(
        self,
        host: str,
        port: int,
        *,
        backoff_initial: float,
        backoff_max: float,
        unreachable_repeat: float,
        seed: int | None,
    ) -> None:
        self.host = host
        self.port = port
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.unreachable_repeat = unreachable_repeat
        self.failure: str | None = None
        # True while a session delivers; the Chargers page and tests read it.
        self.reachable = False
        self._rng = random.Random(seed)
        self._closed = asyncio.Event()
        self._down_reported_at: float | None = None

    def _session(self) -> AsyncGenerator[T, None]:
        raise NotImplementedError

    def _unreachable(self) -> list[T]:
        """What to yield when the device is lost (due at most every `unreachable_repeat`)."""
        raise NotImplementedError

    async def _follow(self) -> AsyncGenerator[T, None]:
        failures = 0
        while not self._closed.is_set():
            async with contextlib.aclosing(self._session()) as session:
                try:
                    async for item in session:
                        failures, self.failure, self._down_reported_at = 0, None, None
                        self.reachable = True
                        yield item
                except self.session_errors as error:
                    logger.info("%s %s:%s: %r", self.family, self.host, self.port, error)
                    self.failure = describe_failure(error)
            self.reachable = False
            if self._closed.is_set():
                return
            failures += 1
            if self._down_due():
                for item in self._unreachable():
                    yield item
            await self._pause(failures)

    def _down_due(self) -> bool:
        """Return True when an unreachable report is due (at most every few seconds)."""
        now = time.monotonic()
        last = self._down_reported_at
        if last is not None and now - last < self.unreachable_repeat:
            return False
        self._down_reported_at = now
        return True

    async def _pause(self, failures: int) -> None:
        delay = min(self.backoff_max, self.backoff_initial * 2 ** min(failures - 1, 16))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay * self._rng.uniform(0.5, 1.0)):
                await self._closed.wait()


def kept_identity(known: dict[str, object]) -> dict[str, object]:
    """Keep only what a channel is (name, frequency), not what it last measured."""
    return {k: known[k] for k in ("channel_name", "frequency_khz") if k in known}
