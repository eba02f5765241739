"""Events for the outputs, onto the bounded `{p}:outputs` stream (XADD MAXLEN ~).

Two places feed it. The receiver of committed domain changes (realtime/receivers.py)
adds alerts raised, acknowledged and resolved, and test events asked for on the outputs
page. The poller adds what it sees in unit states (realtime/poller/output_feed.py): a
unit going offline or coming back, a battery bar gained or lost, an RF dropout starting.
An entry carries ids and facts only; the worker (worker.py) looks up names. Nothing here
waits on an output: an XADD is all.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

import orjson

from micboard.events import DomainChange, EventKind
from micboard.integrations.types import OutputEventKind
from micboard.models import Alert
from micboard.tenancy import system_context
from realtime import keys
from realtime.redis_client import sync_client

STREAM_MAXLEN = 10_000  # about (MAXLEN ~): a worker stopped for long misses the oldest
FIELD = "e"

ALERT_KINDS = {
    EventKind.ALERT_RAISED: OutputEventKind.ALERT_RAISED,
    EventKind.ALERT_ACKNOWLEDGED: OutputEventKind.ALERT_ACKNOWLEDGED,
    EventKind.ALERT_RESOLVED: OutputEventKind.ALERT_RESOLVED,
}


def entry(
    kind: str,
    group_ids: Iterable[int],
    *,
    unit_id: int | None = None,
    alert_id: int | None = None,
    output_id: int | None = None,
    payload: dict[str, Any] | None = None,
    at: float | None = None,
) -> bytes:
    """Encode one stream entry: an event of `kind` for the outputs of these groups."""
    return orjson.dumps(
        {
            "id": uuid.uuid4().hex,
            "kind": kind,
            "at": time.time() if at is None else at,
            "groups": sorted(group_ids),
            "unit": unit_id,
            "alert": alert_id,
            "output": output_id,
            "payload": payload or {},
        }
    )


def feed_change(change: DomainChange) -> None:
    """Add the entries a committed change makes (alerts, test events), if any."""
    entries = _change_entries(change)
    if entries:
        pipe = sync_client().pipeline(transaction=False)
        for data in entries:
            pipe.xadd(keys.outputs(), {FIELD: data}, maxlen=STREAM_MAXLEN, approximate=True)
        pipe.execute()


def _change_entries(change: DomainChange) -> list[bytes]:
    if change.kind is EventKind.OUTPUT_TEST:
        (group_id,) = change.group_ids  # the service announces one output of one group
        return [
            entry(OutputEventKind.TEST, [group_id], output_id=output_id, payload={"test": True})
            for output_id in sorted(change.output_ids)
        ]
    kind = ALERT_KINDS.get(change.kind)
    if kind is None:
        return []
    with system_context():
        alerts = list(Alert.objects.filter(pk__in=change.alert_ids).order_by("pk"))
    return [
        entry(
            kind,
            [alert.monitoring_group_id],
            unit_id=alert.wireless_unit_id,
            alert_id=alert.pk,
            payload=_alert_payload(alert),
        )
        for alert in alerts
        if alert.monitoring_group_id is not None
    ]


def _alert_payload(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": alert.pk,
        "alert_kind": alert.kind,
        "severity": alert.severity,
        "message": alert.message,
        "raised_at": alert.created_at.isoformat(),
        "acknowledged_at": _iso(alert.acknowledged_at),
        "resolved_at": _iso(alert.resolved_at),
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
