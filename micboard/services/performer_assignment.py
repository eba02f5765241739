"""PerformerAssignmentService: every change to who wears which unit goes through here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from micboard import access
from micboard.events import EventKind, announce
from micboard.models import MonitoringGroup, Performer, PerformerAssignment, WirelessUnit
from micboard.models.performers import PerformerAssignmentQuerySet
from micboard.services.common import (
    record_history_user,
    reject_unknown_fields,
    require_same_organization,
    strip_text,
    validate_fields,
)

if TYPE_CHECKING:
    from micboard.services.common import ActingUser

ALERT_FLAGS = (
    "alert_on_battery_low",
    "alert_on_signal_loss",
    "alert_on_audio_low",
    "alert_on_device_offline",
)
EDITABLE_FIELDS = ("priority", "alert_enabled", "notes", "monitoring_group", *ALERT_FLAGS)
PERFORMER_AND_UNIT = (
    "performer",
    "wireless_unit",
    "wireless_unit__base_chassis",
    "wireless_unit__location",
)


class PerformerAssignmentService:
    """Create, read, update, deactivate and delete performer assignments."""

    @staticmethod
    def create_assignment(
        performer: Performer,
        wireless_unit: WirelessUnit,
        monitoring_group: MonitoringGroup,
        priority: str = "normal",
        alert_enabled: bool = True,
        notes: str = "",
        assigned_by: ActingUser = None,
        *,
        by_user: ActingUser = None,
        **alert_flags: bool,
    ) -> PerformerAssignment:
        """Assign a performer to a unit in a group; a duplicate pair raises IntegrityError.

        `assigned_by` is the audit fact "who made this assignment" and nothing more (it
        defaults to `by_user`). `by_user`, the acting user, must be allowed to manage the
        group and to see the unit, and may pick the performer (`access`).
        """
        reject_unknown_fields(alert_flags, ALERT_FLAGS)
        require_same_organization(performer, wireless_unit, monitoring_group)
        if by_user is not None:
            access.require_assignment_rights(by_user, monitoring_group, wireless_unit, performer)
        creator = assigned_by if assigned_by is not None else by_user
        assignment = PerformerAssignment(
            organization_id=monitoring_group.organization_id,
            performer=performer,
            wireless_unit=wireless_unit,
            monitoring_group=monitoring_group,
            priority=priority,
            alert_enabled=alert_enabled,
            notes=strip_text(notes) or "",
            assigned_by=creator if isinstance(creator, User) else None,
            **alert_flags,
        )
        validate_fields(assignment)
        # The savepoint keeps the caller's transaction usable after a duplicate.
        with transaction.atomic():
            record_history_user(assignment, by_user if by_user is not None else assigned_by)
            assignment.save()
            _announce(assignment, EventKind.ASSIGNMENT_CREATED)
        return assignment

    @staticmethod
    def assign_to_units(
        performer: Performer,
        wireless_units: Iterable[WirelessUnit],
        monitoring_group: MonitoringGroup,
        priority: str = "normal",
        *,
        by_user: ActingUser = None,
    ) -> list[PerformerAssignment]:
        """Assign one performer to every unit, or to none of them.

        A half-applied bulk change leaves the admin guessing which units changed, so one
        refused unit rolls back the others; the ValidationError names every refused unit at
        once. Events go out on commit only, so walls never see the rolled-back ones.
        """
        created: list[PerformerAssignment] = []
        refused: list[str] = []
        with transaction.atomic():
            for unit in wireless_units:
                try:
                    created.append(
                        PerformerAssignmentService.create_assignment(
                            performer, unit, monitoring_group, priority, by_user=by_user
                        )
                    )
                except IntegrityError:
                    refused.append(f"{performer} is already assigned to {unit}.")
                except ValidationError as error:
                    refused.append(f"{unit}: {' '.join(error.messages)}")
            if refused:
                raise ValidationError(refused)
        return created

    @staticmethod
    def get_performer_assignments(performer: Performer) -> PerformerAssignmentQuerySet:
        return (
            PerformerAssignment.objects.active()
            .filter(performer=performer)
            .with_performer_and_unit()
        )

    @staticmethod
    def get_unit_assignments(wireless_unit: WirelessUnit) -> PerformerAssignmentQuerySet:
        return (
            PerformerAssignment.objects.active()
            .filter(wireless_unit=wireless_unit)
            .with_performer_and_unit()
        )

    @staticmethod
    def get_group_assignments(monitoring_group: MonitoringGroup) -> PerformerAssignmentQuerySet:
        return _of_group(monitoring_group).active()

    @staticmethod
    def get_assignments_needing_alerts(
        monitoring_group: MonitoringGroup | None = None, after: datetime | None = None
    ) -> PerformerAssignmentQuerySet:
        """Return active alert-enabled assignments (of one group), changed since `after`."""
        if monitoring_group is None:
            return PerformerAssignment.objects.needing_alerts(after=after).with_performer_and_unit()
        return _of_group(monitoring_group).needing_alerts(after=after)

    @staticmethod
    def update_assignment(
        assignment: PerformerAssignment, *, by_user: ActingUser = None, **changes: Any
    ) -> PerformerAssignment:
        """Change only the given fields: priority, notes, the alert flags, or the group."""
        reject_unknown_fields(changes, EDITABLE_FIELDS)
        new_group = changes.get("monitoring_group")
        if new_group is not None:
            require_same_organization(assignment, new_group)
        if by_user is not None:
            access.require_group_access(by_user, assignment.monitoring_group)
            if new_group is not None:
                access.require_group_access(by_user, new_group)
        previous_group_id = assignment.monitoring_group_id
        for name, value in changes.items():
            setattr(assignment, name, strip_text(value))
        validate_fields(assignment)
        with transaction.atomic():
            record_history_user(assignment, by_user)
            # Only the named fields: a concurrent deactivation must not be undone.
            assignment.save(update_fields=[*changes, "updated_at"])
            _announce(assignment, EventKind.ASSIGNMENT_UPDATED, also_group_id=previous_group_id)
        return assignment

    @staticmethod
    def update_alert_status(
        assignment: PerformerAssignment,
        alert_enabled: bool | None = None,
        *,
        by_user: ActingUser = None,
        **alert_flags: bool,
    ) -> PerformerAssignment:
        """Switch alerts on or off, as a whole and per condition."""
        changes: dict[str, Any] = dict(alert_flags)
        reject_unknown_fields(changes, ALERT_FLAGS)
        if alert_enabled is not None:
            changes["alert_enabled"] = alert_enabled
        return PerformerAssignmentService.update_assignment(assignment, by_user=by_user, **changes)

    @staticmethod
    def deactivate_assignment(
        assignment: PerformerAssignment, *, by_user: ActingUser = None
    ) -> PerformerAssignment:
        """Take an assignment off the wall and out of alerting, keeping its history."""
        return _set_active(assignment, active=False, by_user=by_user)

    @staticmethod
    def reactivate_assignment(
        assignment: PerformerAssignment, *, by_user: ActingUser = None
    ) -> PerformerAssignment:
        return _set_active(assignment, active=True, by_user=by_user)

    @staticmethod
    def delete_assignment(assignment: PerformerAssignment, *, by_user: ActingUser = None) -> None:
        if by_user is not None:
            access.require_group_access(by_user, assignment.monitoring_group)
        with transaction.atomic():
            record_history_user(assignment, by_user)
            _announce(assignment, EventKind.ASSIGNMENT_DELETED)
            assignment.delete()

    @staticmethod
    def count_total_assignments() -> int:
        """Count active assignments of active performers."""
        return PerformerAssignment.objects.active().count()

    @staticmethod
    def count_assignments_with_alerts() -> int:
        return PerformerAssignment.objects.active().filter(alert_enabled=True).count()


def _of_group(group: MonitoringGroup) -> PerformerAssignmentQuerySet:
    """Return the group's assignments with what `with_performer_and_unit` selects, but
    through the group's own manager, so that each row's `monitoring_group` is `group`.

    Joining the group instead builds one copy of the same group per row: at 10,000 rows
    that was a fifth of the time of the whole read.
    """
    # The related manager is built from the model's default manager, so its querysets are
    # PerformerAssignmentQuerySets; django-stubs types a class-based manager's reverse
    # relation as a plain QuerySet.
    return cast(PerformerAssignmentQuerySet, group.assignments.select_related(*PERFORMER_AND_UNIT))


def _set_active(
    assignment: PerformerAssignment, *, active: bool, by_user: ActingUser
) -> PerformerAssignment:
    if by_user is not None:
        access.require_group_access(by_user, assignment.monitoring_group)
    with transaction.atomic():
        assignment.is_active = active
        record_history_user(assignment, by_user)
        assignment.save(update_fields=["is_active", "updated_at"])
        kind = EventKind.ASSIGNMENT_REACTIVATED if active else EventKind.ASSIGNMENT_DEACTIVATED
        _announce(assignment, kind)
    return assignment


def _announce(
    assignment: PerformerAssignment, kind: EventKind, *, also_group_id: int | None = None
) -> None:
    announce(
        kind,
        group_ids=[assignment.monitoring_group_id, also_group_id],
        unit_ids=[assignment.wireless_unit_id],
        performer_ids=[assignment.performer_id],
    )
