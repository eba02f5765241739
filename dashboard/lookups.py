"""The one way views find objects: through the rules of `micboard.access`, answering 404
for anything else.

An id outside the user's scope answers exactly like a missing one, so a URL never tells
a tech that another group's wall, performer or unit exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from micboard import access
from micboard.integrations.models import Output
from micboard.models import (
    Alert,
    ApiToken,
    BatteryPack,
    KioskLink,
    MonitoringGroup,
    Performer,
    PerformerAssignment,
    WirelessChassis,
    WirelessUnit,
)
from micboard.rosters.models import PositionPool

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
    return _one(access.administered_groups(user), group_id)


def get_performer_for_user(user: AnyUser, performer_id: int) -> Performer:
    return _one(access.managed_performers(user), performer_id)


def get_assignment_for_user(user: AnyUser, assignment_id: int) -> PerformerAssignment:
    assignments = access.accessible_assignments(user).select_related(
        "performer", "wireless_unit", "monitoring_group"
    )
    return _one(assignments, assignment_id)


def get_pack_for_user(user: AnyUser, pack_id: int) -> BatteryPack:
    return _one(access.visible_packs(user).select_related("charger", "wireless_unit"), pack_id)


def get_unit_for_user(user: AnyUser, unit_id: int) -> WirelessUnit:
    return _one(access.accessible_devices(user).select_related("base_chassis"), unit_id)


def get_alert_for_user(user: AnyUser, alert_id: int) -> Alert:
    return _one(access.visible_alerts(user), alert_id)


def get_kiosk_link_for_admin(user: AnyUser, link_id: int) -> KioskLink:
    links = access.administered_kiosk_links(user).select_related("monitoring_group")
    return _one(links, link_id)


def get_kiosk_performer(link: KioskLink, performer_id: int) -> Performer:
    return _one(access.kiosk_performers(link), performer_id)


def get_chassis_for_admin(user: AnyUser, chassis_id: int) -> WirelessChassis:
    return _one(access.administered_chassis(user).select_related("location"), chassis_id)


def get_api_token_for_admin(user: AnyUser, token_id: int) -> ApiToken:
    return _one(access.administered_api_tokens(user), token_id)


def get_output_for_admin(user: AnyUser, output_id: int) -> Output:
    return _one(access.administered_outputs(user).select_related("monitoring_group"), output_id)


def get_roster_group(user: AnyUser, group_id: int) -> MonitoringGroup:
    return _one(access.roster_groups(user), group_id)


def get_pool_for_admin(user: AnyUser, pool_id: int) -> PositionPool:
    return _one(access.administered_pools(user).select_related("monitoring_group"), pool_id)
