"""The alerts engine: condition transitions in, alerts in the database out.

Trackers report a unit's alert conditions only when they change; the engine batches
those, lets AlertService open and resolve alerts in the database thread, and hands the
result to the notifiers there. AlertService announces what it opened and resolved, and
the announcement's receiver (realtime/receivers.py) sends the frames to the walls: the
one way an alert frame leaves, whoever raised, acknowledged or resolved the alert.

No alert is raised or resolved during a grace period after the poller starts, or after
its event loop stalled (SIGSTOP, a frozen VM): its devices reconnect then, and every one
would be "offline" for half a second. Conditions are still gathered, the newest replacing
older ones, and what holds when the grace ends is applied.
"""

from __future__ import annotations

import asyncio
import logging
import time

from django.conf import settings

from micboard.services.alerts import AlertService
from realtime.poller.database import run_db
from realtime.poller.notifiers import AlertNotifier, configured_notifiers, notify

logger = logging.getLogger(__name__)

STALL_PROBE = 0.5  # seconds between two looks at the event loop's clock


class AlertEngine:
    def __init__(self, notifiers: list[AlertNotifier] | None = None) -> None:
        self._notifiers = configured_notifiers() if notifiers is None else notifiers
        self._pending: dict[int, frozenset[str]] = {}
        self._grace = float(settings.MICBOARD_ALERT_GRACE)
        self._stall = float(settings.MICBOARD_ALERT_STALL)
        self._quiet_until = time.monotonic() + self._grace

    def submit(self, unit_id: int, conditions: frozenset[str]) -> None:
        """Queue the conditions now holding for a unit (the newest replace older ones)."""
        self._pending[unit_id] = conditions

    async def watch_for_stalls(self) -> None:
        """Start the grace again whenever the event loop stood still for a stall.

        A short sleep that wakes late is the loop standing still. Its timer is due long
        before the devices' silence timers, so on resume this runs before any reader
        reports its device offline.
        """
        while True:
            before = time.monotonic()
            await asyncio.sleep(STALL_PROBE)
            stood_still = time.monotonic() - before - STALL_PROBE
            if stood_still > self._stall:
                logger.warning(
                    "the poller stalled for %.1f s; alerts wait %.0f s for devices to settle",
                    stood_still,
                    self._grace,
                )
                self._quiet_until = time.monotonic() + self._grace

    async def flush(self) -> None:
        """Apply the queued conditions (called every alert interval), unless in a grace."""
        if not self._pending or time.monotonic() < self._quiet_until:
            return
        batch, self._pending = self._pending, {}
        try:
            await run_db(self._apply, batch)
        except Exception:
            logger.warning("alerts not evaluated; retrying later", exc_info=True)
            self._pending = {**batch, **self._pending}

    def _apply(self, batch: dict[int, frozenset[str]]) -> None:
        notify(AlertService.apply_conditions(batch), self._notifiers)
