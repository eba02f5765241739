"""AlertService: alerts are raised, resolved and acknowledged only through here.

The live path calls `apply_conditions` with the conditions that hold for each unit whose
conditions changed (a transition, never every reading); people acknowledge over HTTP.
Each of the three is announced (`micboard.events`), and so reaches every wall and kiosk
of the alert's group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from micboard import access
from micboard.events import EventKind, announce
from micboard.models import Alert, PerformerAssignment

if TYPE_CHECKING:
    from micboard.services.common import ActingUser

# Which assignment flag (PerformerAssignment.wants_alert) asks for each condition.
CONDITION_FLAG = {
    Alert.Kind.BATTERY_LOW: "battery_low",
    Alert.Kind.BATTERY_CRITICAL: "battery_low",
    Alert.Kind.SIGNAL_LOSS: "signal_loss",
    Alert.Kind.AUDIO_LOW: "audio_low",
    Alert.Kind.DEVICE_OFFLINE: "device_offline",
    Alert.Kind.PACK_WORN: "battery_low",
}
SEVERITY = {
    Alert.Kind.BATTERY_LOW: Alert.Severity.WARNING,
    Alert.Kind.BATTERY_CRITICAL: Alert.Severity.CRITICAL,
    Alert.Kind.SIGNAL_LOSS: Alert.Severity.CRITICAL,
    Alert.Kind.AUDIO_LOW: Alert.Severity.WARNING,
    Alert.Kind.DEVICE_OFFLINE: Alert.Severity.CRITICAL,
    Alert.Kind.PACK_WORN: Alert.Severity.WARNING,
}


@dataclass
class AlertChanges:
    """What one call opened and resolved, for pushing to walls and notifying people."""

    raised: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


class AlertService:
    """Raise, resolve and acknowledge alerts."""

    @staticmethod
    def raise_alert(
        assignment: PerformerAssignment, kind: str, *, performers: Sequence[str] = ()
    ) -> Alert | None:
        """Open an alert for this assignment's unit, group and condition, naming
        `performers` (by default the assignment's); None if one is open already."""
        condition = Alert.Kind(kind)
        alert = Alert(
            organization_id=assignment.organization_id,
            kind=condition,
            severity=SEVERITY[condition],
            wireless_unit_id=assignment.wireless_unit_id,
            assignment=assignment,
            monitoring_group_id=assignment.monitoring_group_id,
            message=_message(assignment, condition, performers),
        )
        try:
            # The savepoint keeps the caller's transaction usable after a duplicate, and
            # drops the announcement with it.
            with transaction.atomic():
                alert.save()
                _announce(EventKind.ALERT_RAISED, [alert])
        except IntegrityError:
            return None  # another poller opened it first (the open-alert constraint)
        return alert

    @staticmethod
    def acknowledge(alert: Alert, *, by_user: ActingUser) -> Alert:
        """Record that someone who may see the alert's group has seen it."""
        if by_user is None or not by_user.is_authenticated:
            raise PermissionDenied("Sign in to acknowledge an alert.")  # it records who
        access.require_alert_access(by_user, alert)
        if alert.acknowledged_at is not None:
            return alert
        with transaction.atomic():
            alert.acknowledged_by = by_user
            alert.acknowledged_at = timezone.now()
            alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
            _announce(EventKind.ALERT_ACKNOWLEDGED, [alert])
        return alert

    @staticmethod
    def apply_conditions(conditions: Mapping[int, frozenset[str]]) -> AlertChanges:
        """Make open alerts match the conditions now holding for each given unit.

        An alert belongs to a unit, a group and a condition: one is open while the
        condition holds and an active assignment of the unit in that group (of an active
        performer) asks for it, however many performers share the unit. Open alerts
        whose condition cleared, or whose unit left the group, are resolved. Costs two
        reads, one update and one insert per alert opened.
        """
        changes = AlertChanges()
        if not conditions:
            return changes
        with transaction.atomic():
            wanted = _wanted_alerts(conditions)
            open_alerts = list(Alert.objects.open().filter(wireless_unit_id__in=list(conditions)))
            changes.resolved = _resolve([a for a in open_alerts if _key(a) not in wanted])
            still_open = {_key(alert) for alert in open_alerts}
            for key, assignments in wanted.items():
                if key not in still_open:
                    changes.raised.extend(_raise(assignments, key[2]))
        return changes


AlertKey = tuple[int, int | None, str]  # unit, group, condition


def _key(alert: Alert) -> AlertKey:
    return (alert.wireless_unit_id, alert.monitoring_group_id, alert.kind)


def _resolve(cleared: list[Alert]) -> list[Alert]:
    if cleared:
        now = timezone.now()
        Alert.objects.filter(pk__in=[a.pk for a in cleared]).update(resolved_at=now)
        for alert in cleared:
            alert.resolved_at = now
        _announce(EventKind.ALERT_RESOLVED, cleared)
    return cleared


def _wanted_alerts(
    conditions: Mapping[int, frozenset[str]],
) -> dict[AlertKey, list[PerformerAssignment]]:
    """Return each unit, group and condition someone asks an alert for, with the
    assignments that ask (in their priority order)."""
    wanted: dict[AlertKey, list[PerformerAssignment]] = {}
    for assignment in _alerting_assignments(conditions):
        for kind in sorted(conditions[assignment.wireless_unit_id]):
            flag = CONDITION_FLAG.get(Alert.Kind(kind))
            if flag is not None and assignment.wants_alert(flag):
                key = (assignment.wireless_unit_id, assignment.monitoring_group_id, kind)
                wanted.setdefault(key, []).append(assignment)
    return wanted


def _alerting_assignments(
    conditions: Mapping[int, frozenset[str]],
) -> list[PerformerAssignment]:
    wanted_units = [unit_id for unit_id, kinds in conditions.items() if kinds]
    if not wanted_units:
        return []
    return list(
        PerformerAssignment.objects.active()
        .filter(wireless_unit_id__in=wanted_units, alert_enabled=True)
        .select_related("performer", "wireless_unit")
    )


def _raise(assignments: list[PerformerAssignment], kind: str) -> list[Alert]:
    names = [assignment.performer.name for assignment in assignments]
    alert = AlertService.raise_alert(assignments[0], kind, performers=names)
    return [] if alert is None else [alert]


def _message(assignment: PerformerAssignment, kind: Alert.Kind, performers: Sequence[str]) -> str:
    names = ", ".join(performers or [assignment.performer.name])
    return f"{kind.label}: {names} ({assignment.wireless_unit})"


def _announce(kind: EventKind, alerts: list[Alert]) -> None:
    announce(
        kind,
        group_ids=[alert.monitoring_group_id for alert in alerts],
        unit_ids=[alert.wireless_unit_id for alert in alerts],
        alert_ids=[alert.pk for alert in alerts],
    )
