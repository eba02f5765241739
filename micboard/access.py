"""The access rules, in one place: who sees and who changes which groups, performers, units.

- Superusers and `admin` profiles see and change everything in their organization.
- A `tech` sees what is assigned (actively) in their active monitoring groups, plus the
  units at those groups' locations, and manages the assignments of their own groups.
- Anyone else sees nothing.
Tenant scoping comes first and always: every queryset here starts from a default manager.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from micboard.models.access import MonitoringGroup, UserProfile
from micboard.models.hardware import WirelessUnit
from micboard.models.performers import Performer, PerformerAssignment

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import QuerySet

    AnyUser = User | AnonymousUser


def is_admin(user: AnyUser) -> bool:
    """Return True for superusers and users whose profile role is admin."""
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False):
        return True
    profile: UserProfile | None = getattr(user, "profile", None)
    return profile is not None and profile.is_admin


def monitoring_groups(user: AnyUser) -> QuerySet[MonitoringGroup]:
    """Return the active groups the user may watch."""
    groups = MonitoringGroup.objects.filter(is_active=True)
    if is_admin(user):
        return groups
    if not user.is_authenticated or not user.is_active:
        return groups.none()
    return groups.filter(users=user)


def accessible_assignments(user: AnyUser) -> QuerySet[PerformerAssignment]:
    """Return every assignment (active or not) in the user's groups."""
    assignments = PerformerAssignment.objects.all()
    if is_admin(user):
        return assignments
    return assignments.filter(monitoring_group__in=monitoring_groups(user))


def accessible_performers(user: AnyUser) -> QuerySet[Performer]:
    """Return the performers with an active assignment in the user's groups."""
    performers = Performer.objects.all()
    if is_admin(user):
        return performers
    visible = PerformerAssignment.objects.filter(
        is_active=True, monitoring_group__in=monitoring_groups(user)
    )
    return performers.filter(id__in=visible.values("performer_id"))


def accessible_devices(user: AnyUser) -> QuerySet[WirelessUnit]:
    """Return the units assigned in the user's groups or kept at their groups' locations."""
    units = WirelessUnit.objects.all()
    if is_admin(user):
        return units
    groups = monitoring_groups(user)
    assigned = PerformerAssignment.objects.filter(is_active=True, monitoring_group__in=groups)
    at_group_location = Q(location__isnull=False, location_id__in=groups.values("location_id"))
    return units.filter(Q(id__in=assigned.values("wireless_unit_id")) | at_group_location)


def can_manage_group(user: AnyUser, group: MonitoringGroup) -> bool:
    """Return True when the user may change the assignments of `group`."""
    return monitoring_groups(user).filter(pk=group.pk).exists()


def require_group_access(user: AnyUser, group: MonitoringGroup) -> None:
    if not can_manage_group(user, group):
        raise PermissionDenied(f"You do not have access to the monitoring group {group.pk}.")


def require_performer_access(user: AnyUser, performer: Performer) -> None:
    """Allow a change to a performer the user can see (admins: any in their organization)."""
    if performer.pk is None:
        return
    if not accessible_performers(user).filter(pk=performer.pk).exists():
        raise PermissionDenied(f"You do not have access to the performer {performer.pk}.")


def require_unit_access(user: AnyUser, unit: WirelessUnit) -> None:
    if not accessible_devices(user).filter(pk=unit.pk).exists():
        raise PermissionDenied(f"You do not have access to the unit {unit.pk}.")


def require_admin(user: AnyUser) -> None:
    if not is_admin(user):
        raise PermissionDenied("Only an admin may do this.")
