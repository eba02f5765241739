"""The alerts engine: condition transitions in, alerts in the database out.

Trackers report a unit's alert conditions only when they change; the engine batches
those, lets AlertService open and resolve alerts in the database thread, and hands the
result to the notifiers there. AlertService announces what it opened and resolved, and
the announcement's receiver (realtime/receivers.py) sends the frames to the walls: the
one way an alert frame leaves, whoever raised, acknowledged or resolved the alert.
"""

from __future__ import annotations

import logging

from micboard.services.alerts import AlertService
from realtime.poller.database import run_db
from realtime.poller.notifiers import AlertNotifier, configured_notifiers, notify

logger = logging.getLogger(__name__)


class AlertEngine:
    def __init__(self, notifiers: list[AlertNotifier] | None = None) -> None:
        self._notifiers = configured_notifiers() if notifiers is None else notifiers
        self._pending: dict[int, frozenset[str]] = {}

    def submit(self, unit_id: int, conditions: frozenset[str]) -> None:
        """Queue the conditions now holding for a unit (the newest replace older ones)."""
        self._pending[unit_id] = conditions

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        try:
            await run_db(self._apply, batch)
        except Exception:
            logger.warning("alerts not evaluated; retrying later", exc_info=True)
            self._pending = {**batch, **self._pending}

    def _apply(self, batch: dict[int, frozenset[str]]) -> None:
        notify(AlertService.apply_conditions(batch), self._notifiers)
