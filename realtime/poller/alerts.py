"""The alerts engine: condition transitions in, alerts in the database and on walls out.

Trackers report a unit's alert conditions only when they change; the engine batches
those, lets AlertService open and resolve alerts in the database thread, hands the
result to the notifiers there, and pushes `alert` / `alert.resolved` frames to groups.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from micboard.services.alerts import AlertChanges, AlertService
from realtime import frames
from realtime.poller.database import run_db
from realtime.poller.notifiers import AlertNotifier, configured_notifiers, notify

logger = logging.getLogger(__name__)

GroupFrame = tuple[int, str]
SendFrame = Callable[[int, str], Awaitable[None]]


class AlertEngine:
    def __init__(self, send: SendFrame, notifiers: list[AlertNotifier] | None = None) -> None:
        self._send = send
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
            messages = await run_db(self._apply, batch)
        except Exception:
            logger.warning("alerts not evaluated; retrying later", exc_info=True)
            self._pending = {**batch, **self._pending}
            return
        for group_id, text in messages:
            await self._send(group_id, text)

    def _apply(self, batch: dict[int, frozenset[str]]) -> list[GroupFrame]:
        changes = AlertService.apply_conditions(batch)
        notify(changes, self._notifiers)
        return alert_frames(changes)


def alert_frames(changes: AlertChanges) -> list[GroupFrame]:
    """Return the frames announcing what changed, addressed to each alert's group."""
    messages: list[GroupFrame] = []
    for alert in changes.resolved:
        if alert.monitoring_group_id is not None:
            text = frames.alert_resolved(alert_id=alert.pk, unit_id=alert.wireless_unit_id)
            messages.append((alert.monitoring_group_id, text))
    for alert in changes.raised:
        if alert.monitoring_group_id is not None:
            text = frames.alert_raised(
                alert_id=alert.pk,
                unit_id=alert.wireless_unit_id,
                kind=alert.kind,
                severity=alert.severity,
                message=alert.message,
                created_at=alert.created_at,
            )
            messages.append((alert.monitoring_group_id, text))
    return messages
