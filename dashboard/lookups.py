"""The one way views find objects: through `micboard.access`, answering 404 for anything else.

An id outside the user's scope answers exactly like a missing one, so a URL never tells
a tech that another group's wall, performer or unit exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from micboard import access
from micboard.models import (
    Alert,
    KioskLink,
    MonitoringGroup,
    Performer,
    PerformerAssignment,
    WirelessUnit,
)
from micboard.models.alerts import AlertQuerySet
from micboard.services.kiosk import is_well_formed_token

if TYPE_CHECKING:
    from micboard.access import AnyUser

_M = TypeVar("_M", bound=Model)


def _one(queryset: QuerySet[_M], pk: int) -> _M:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404("Not found.")
    return found


def get_group_for_user(user: AnyUser, group_id: int) -> MonitoringGroup:
    return _one(access.monitoring_groups(user), group_id)


def get_admin_group(user: AnyUser, group_id: int) -> MonitoringGroup:
    """Return a group an admin manages; everyone else gets 404, as for a missing group."""
    if not access.is_admin(user):
        raise Http404("Not found.")
    return get_group_for_user(user, group_id)


def get_performer_for_user(user: AnyUser, performer_id: int) -> Performer:
    return _one(access.accessible_performers(user), performer_id)


def get_assignment_for_user(user: AnyUser, assignment_id: int) -> PerformerAssignment:
    assignments = access.accessible_assignments(user).select_related(
        "performer", "wireless_unit", "monitoring_group"
    )
    return _one(assignments, assignment_id)


def get_unit_for_user(user: AnyUser, unit_id: int) -> WirelessUnit:
    return _one(access.accessible_devices(user).select_related("base_chassis"), unit_id)


def visible_alerts(user: AnyUser) -> AlertQuerySet:
    """Return the alerts of the user's groups (admins: every alert of their organization)."""
    alerts = Alert.objects.select_related(
        "wireless_unit", "monitoring_group", "acknowledged_by", "assignment__performer"
    )
    if access.is_admin(user):
        return alerts
    return alerts.filter(monitoring_group__in=access.monitoring_groups(user))


def get_alert_for_user(user: AnyUser, alert_id: int) -> Alert:
    return _one(visible_alerts(user), alert_id)


def assignable_performers(user: AnyUser) -> QuerySet[Performer]:
    """Return the performers the user may pick for a new assignment.

    This mirrors PerformerAssignmentService: a tech may assign a performer they already
    see, or one nobody has assigned yet.
    """
    performers = Performer.objects.active()
    if access.is_admin(user):
        return performers
    seen = Q(id__in=access.accessible_performers(user).values("id"))
    return performers.filter(seen | Q(assignments__isnull=True)).distinct()


def get_kiosk_link_for_admin(user: AnyUser, link_id: int) -> KioskLink:
    if not access.is_admin(user):
        raise Http404("Not found.")
    links = KioskLink.objects.filter(monitoring_group__in=access.monitoring_groups(user))
    return _one(links.select_related("monitoring_group"), link_id)


def kiosk_link_was_revoked(token: str) -> bool:
    """Tell a revoked kiosk link from an unknown one, so the screen can say which."""
    if not is_well_formed_token(token):
        return False
    # A kiosk request has no user and so no tenant: the token alone identifies the link.
    return KioskLink.unscoped.filter(token=token, revoked_at__isnull=False).exists()
