"""MicCheckService: the pre-show checklist of a group, one tick per unit (docs/rosters.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from micboard import access
from micboard.events import EventKind, announce
from micboard.models import MonitoringGroup, PerformerAssignment, WirelessUnit
from micboard.services.common import record_history_user
from micboard.showprep.models import MicCheck, MicCheckTick

if TYPE_CHECKING:
    from micboard.services.common import ActingUser


class MicCheckService:
    """Whoever watches a group ticks its units, unticks them and starts a new check."""

    @staticmethod
    def get_current_check(group: MonitoringGroup) -> MicCheck | None:
        """Return the group's newest check (older ones are its history), or None."""
        return MicCheck.objects.filter(monitoring_group=group).first()

    @staticmethod
    def get_checked_unit_ids(group: MonitoringGroup) -> set[int]:
        """Return the units ticked in the group's newest check (one query)."""
        newest = MicCheck.objects.filter(monitoring_group=group).order_by("-started_at", "-pk")
        ticks = MicCheckTick.objects.filter(mic_check_id__in=newest.values("pk")[:1])
        return set(ticks.values_list("wireless_unit_id", flat=True))

    @staticmethod
    def start_check(group: MonitoringGroup, *, by_user: ActingUser = None) -> MicCheck:
        """Begin a fresh check with nothing ticked; the old one stays in the history."""
        if by_user is not None:
            access.require_mic_check_rights(by_user, group)
        with transaction.atomic():
            check = _new_check(group, by_user)
            announce(EventKind.MIC_CHECK_CHANGED, group_ids=[group.pk])
        return check

    @staticmethod
    def tick(
        group: MonitoringGroup, unit: WirelessUnit, *, by_user: ActingUser = None
    ) -> MicCheckTick:
        """Mark a unit of the group's wall checked, by whom and when (a second tick keeps
        the first one's)."""
        if by_user is not None:
            access.require_mic_check_rights(by_user, group)
        _require_on_wall(group, unit)
        with transaction.atomic():
            check = MicCheckService.get_current_check(group) or _new_check(group, by_user)
            found = MicCheckTick.objects.filter(mic_check=check, wireless_unit=unit).first()
            if found is not None:
                return found
            tick = MicCheckTick(
                organization_id=group.organization_id,
                mic_check=check,
                wireless_unit=unit,
                checked_by=_user(by_user),
                checked_at=timezone.now(),
            )
            record_history_user(tick, by_user)
            tick.save()
            _announce(group, unit)
        return tick

    @staticmethod
    def untick(group: MonitoringGroup, unit: WirelessUnit, *, by_user: ActingUser = None) -> None:
        """Take a unit's tick back (it was checked too early, or checked wrong)."""
        if by_user is not None:
            access.require_mic_check_rights(by_user, group)
        _require_on_wall(group, unit)
        with transaction.atomic():
            check = MicCheckService.get_current_check(group)
            found = MicCheckTick.objects.filter(mic_check=check, wireless_unit=unit).first()
            if found is None:
                return
            record_history_user(found, by_user)
            found.delete()
            _announce(group, unit)


def _require_on_wall(group: MonitoringGroup, unit: WirelessUnit) -> None:
    on_wall = PerformerAssignment.objects.active().filter(monitoring_group=group)
    if not on_wall.filter(wireless_unit=unit).exists():
        raise ValidationError({"unit": "That unit is not on this group's wall."})


def _new_check(group: MonitoringGroup, by_user: ActingUser) -> MicCheck:
    check = MicCheck(
        organization_id=group.organization_id,
        monitoring_group=group,
        started_at=timezone.now(),
        started_by=_user(by_user),
    )
    check.save()
    return check


def _user(by_user: ActingUser) -> User | None:
    return by_user if isinstance(by_user, User) and by_user.is_authenticated else None


def _announce(group: MonitoringGroup, unit: WirelessUnit) -> None:
    announce(EventKind.MIC_CHECK_CHANGED, group_ids=[group.pk], unit_ids=[unit.pk])
