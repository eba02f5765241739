"""The access rules, in one place: who sees and who changes which groups, performers, units,
alerts and kiosk links. Views, services, the admin and socket admission all ask here.

- Superusers and `admin` profiles see and change everything in their organization.
- A `tech` sees what is assigned (actively, to an active performer) in their active
  monitoring groups, plus the units at those groups' locations, and manages the
  assignments of their own groups. Of performers they read personal details (email,
  phone, notes) only of those assigned in their groups; others are names in a picker.
- Of a shared unit (docs/rosters.md), a group's techs hand it over and tick its mic
  check; only admins add, reorder and remove its turns.
- A kiosk link, while not revoked, shows its one group's wall and nothing else.
- An API token, while not revoked, reads its groups as a member tech would (the units
  assigned there or at their locations, the performers on them, their open alerts), never
  personal details, and writes nothing. Admins make and revoke tokens; a token reads only
  the groups its maker still administers (a demoted, deactivated or deleted maker's token
  reads nothing).
- A group's outputs (webhooks, MQTT, OSC) are seen and changed only by the admins who
  administer that group; they carry its events off the machine.
- Rosters (Planning Center, CSV): admins only, on the groups they administer; the
  Planning Center connection is their organization's, and its secret is never read back.
- Anyone else sees nothing.
- A deactivated performer drops out of everything a user sees, except the admins'
  performer page (`managed_performers`), where they are reactivated.
Tenant scoping comes first and always: every queryset here starts from a default manager
(kiosk lookups excepted: a kiosk has no user, its token names the tenant).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from micboard.integrations.models import Output
from micboard.models import (
    Alert,
    ApiToken,
    BatteryPack,
    Charger,
    KioskLink,
    MonitoringGroup,
    Performer,
    PerformerAssignment,
    UserProfile,
    WirelessChassis,
    WirelessUnit,
)
from micboard.models.alerts import AlertQuerySet
from micboard.models.performers import PerformerAssignmentQuerySet, PerformerQuerySet
from micboard.rosters.models import PositionPool
from micboard.showprep.models import HANDED_OVER, MicTurn
from micboard.tenancy import multi_tenant_enabled
from micboard.timeline.models import Marker, UnitEvent

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import QuerySet

    AnyUser = User | AnonymousUser

# What `new_kiosk_token` makes (URL-safe base64) and the column holds; anything else
# (a NUL, which PostgreSQL cannot even compare) is no token and never reaches a query.
KIOSK_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


# --- who is who --------------------------------------------------------------------------


def is_admin(user: AnyUser) -> bool:
    """Return True for superusers and users whose profile role is admin."""
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False):
        return True
    profile: UserProfile | None = getattr(user, "profile", None)
    return profile is not None and profile.is_admin


# --- what a user sees --------------------------------------------------------------------


def monitoring_groups(user: AnyUser) -> QuerySet[MonitoringGroup]:
    """Return the active groups the user may watch."""
    groups = MonitoringGroup.objects.filter(is_active=True)
    if is_admin(user):
        return groups
    if not user.is_authenticated or not user.is_active:
        return groups.none()
    return groups.filter(users=user)


def administered_groups(user: AnyUser) -> QuerySet[MonitoringGroup]:
    """Return the groups whose members, order and kiosk links the user may change."""
    groups = monitoring_groups(user)
    return groups if is_admin(user) else groups.none()


def accessible_assignments(user: AnyUser) -> PerformerAssignmentQuerySet:
    """Return every assignment (active or not) in the user's groups, to manage them."""
    assignments = PerformerAssignment.objects.all()
    if is_admin(user):
        return assignments
    return assignments.filter(monitoring_group__in=monitoring_groups(user))


def accessible_performers(user: AnyUser) -> PerformerQuerySet:
    """Return the active performers the user may see: for a tech, those with an active
    assignment in their groups; for an admin, all of them."""
    performers = Performer.objects.active()
    if is_admin(user):
        return performers
    return performers.filter(id__in=_active_in_groups(user).values("performer_id"))


def managed_performers(user: AnyUser) -> PerformerQuerySet:
    """Return the performers whose page, title and contact details the user may read:
    an admin's include the deactivated (to reactivate them)."""
    return Performer.objects.all() if is_admin(user) else accessible_performers(user)


def assignable_performers(user: AnyUser) -> PerformerQuerySet:
    """Return the performers the user may pick for a new assignment: a tech may pick one
    they already see, or one nobody has assigned yet (listed by name only)."""
    performers = Performer.objects.active()
    if is_admin(user):
        return performers
    seen = Q(id__in=accessible_performers(user).values("id"))
    return performers.filter(seen | Q(assignments__isnull=True)).distinct()


def accessible_devices(user: AnyUser) -> QuerySet[WirelessUnit]:
    """Return the units assigned in the user's groups or kept at their groups' locations."""
    if is_admin(user):
        return WirelessUnit.objects.all()
    return _units_of_groups(monitoring_groups(user))


def visible_alerts(user: AnyUser) -> AlertQuerySet:
    """Return the alerts of the user's groups (admins: every alert of their organization)."""
    alerts = Alert.objects.select_related(
        "wireless_unit", "monitoring_group", "acknowledged_by", "assignment__performer"
    )
    if is_admin(user):
        return alerts
    return alerts.filter(monitoring_group__in=monitoring_groups(user))


def visible_assignment_history(user: AnyUser, unit: WirelessUnit) -> QuerySet[Any]:
    """Return the audit records of a unit's assignments in the groups the user may see."""
    records = PerformerAssignment.history.filter(
        wireless_unit_id=unit.pk, organization_id=unit.organization_id
    )
    if is_admin(user):
        return records
    return records.filter(monitoring_group_id__in=monitoring_groups(user).values("pk"))


def visible_hand_overs(user: AnyUser, unit: WirelessUnit) -> QuerySet[Any]:
    """Return the audit records of a shared unit passed to a turn, in the groups the user
    may see (a turn whose assignment was deleted since drops out with it)."""
    records = MicTurn.history.filter(
        organization_id=unit.organization_id,
        assignment__wireless_unit_id=unit.pk,
        history_change_reason=HANDED_OVER,
    )
    if is_admin(user):
        return records
    watched = monitoring_groups(user).values("pk")
    return records.filter(assignment__monitoring_group_id__in=watched)


def administered_kiosk_links(user: AnyUser) -> QuerySet[KioskLink]:
    return KioskLink.objects.filter(monitoring_group__in=administered_groups(user))


def administered_outputs(user: AnyUser) -> QuerySet[Output]:
    """Return the outputs (webhooks, MQTT, OSC) of the groups the user administers."""
    return Output.objects.filter(monitoring_group__in=administered_groups(user))


def administered_api_tokens(user: AnyUser) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.all()
    return tokens if is_admin(user) else tokens.none()


def _active_in_groups(user: AnyUser) -> PerformerAssignmentQuerySet:
    return _assigned_in(monitoring_groups(user))


def _assigned_in(groups: QuerySet[MonitoringGroup]) -> PerformerAssignmentQuerySet:
    return PerformerAssignment.objects.active().filter(monitoring_group__in=groups)


def _units_of_groups(groups: QuerySet[MonitoringGroup]) -> QuerySet[WirelessUnit]:
    assigned = _assigned_in(groups).values("wireless_unit_id")
    at_group_location = Q(location__isnull=False, location_id__in=groups.values("location_id"))
    return WirelessUnit.objects.filter(Q(id__in=assigned) | at_group_location)


# --- what a kiosk sees -------------------------------------------------------------------


def is_well_formed_token(token: str) -> bool:
    return KIOSK_TOKEN_PATTERN.fullmatch(token) is not None


def live_kiosk_link(token: str) -> KioskLink | None:
    """Return the unrevoked link of an active group with this token, in any tenant."""
    if not is_well_formed_token(token):
        return None
    return (
        KioskLink.unscoped.select_related("monitoring_group")
        .filter(token=token, revoked_at__isnull=True, monitoring_group__is_active=True)
        .first()
    )


def kiosk_link_revoked(token: str) -> bool:
    """Tell a revoked kiosk link from an unknown one, so the screen can say which."""
    if not is_well_formed_token(token):
        return False
    return KioskLink.unscoped.filter(token=token, revoked_at__isnull=False).exists()


def kiosk_performers(link: KioskLink) -> PerformerQuerySet:
    """Return the performers on a kiosk's wall (run in the link's tenant)."""
    on_wall = PerformerAssignment.objects.active().filter(monitoring_group=link.monitoring_group)
    return Performer.objects.filter(pk__in=on_wall.values("performer_id"))


# --- what an API token reads (run in the token's tenant) --------------------------------


def hash_api_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def live_api_token(secret: str) -> ApiToken | None:
    """Return the unrevoked token with this secret, in any tenant (checked per request)."""
    if not is_well_formed_token(secret):
        return None
    digest = hash_api_secret(secret)
    live = ApiToken.unscoped.filter(secret_hash=digest, revoked_at__isnull=True)
    # The maker and their profile are what `token_groups` checks on every request.
    token = live.select_related("created_by__profile").first()
    # The lookup is by an index; the comparison is repeated in constant time so that how
    # long an answer takes never depends on how much of a guess was right.
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        return None
    return token


def token_groups(token: ApiToken) -> QuerySet[MonitoringGroup]:
    """Return the token's groups that its maker may still administer, checked per request:
    a token lends out its maker's rights, so it must lose a group the moment they do."""
    maker = token.created_by
    if maker is None:  # the maker was deleted (or nobody signed in made it): nobody vouches
        return MonitoringGroup.objects.none()
    return administered_groups(maker).filter(api_tokens=token)


def token_units(token: ApiToken) -> QuerySet[WirelessUnit]:
    return _units_of_groups(token_groups(token))


def token_assignments(token: ApiToken) -> PerformerAssignmentQuerySet:
    return _assigned_in(token_groups(token))


def token_performers(token: ApiToken) -> PerformerQuerySet:
    on_walls = token_assignments(token).values("performer_id")
    return Performer.objects.active().filter(id__in=on_walls)


def token_alerts(token: ApiToken) -> AlertQuerySet:
    return Alert.objects.filter(monitoring_group__in=token_groups(token))


def token_reads_group(token: ApiToken, group_id: int) -> bool:
    """May the token watch this group's live frames (checked on connect and on re-checks)."""
    return token_groups(token).filter(pk=group_id).exists()


def token_unit_events(token: ApiToken, group: MonitoringGroup) -> QuerySet[UnitEvent]:
    """Return the timeline events of the units a token sees in one of its groups."""
    units = _units_of_groups(token_groups(token).filter(pk=group.pk))
    return UnitEvent.objects.filter(unit__in=units)


def token_markers(token: ApiToken, group: MonitoringGroup) -> QuerySet[Marker]:
    return Marker.objects.filter(monitoring_group__in=token_groups(token).filter(pk=group.pk))


# --- what a user may do ------------------------------------------------------------------


def can_watch_group(user: AnyUser, group_id: int) -> bool:
    return monitoring_groups(user).filter(pk=group_id).exists()


def require_group_access(user: AnyUser, group: MonitoringGroup) -> None:
    """Allow a change to the assignments of a group the user watches."""
    if not can_watch_group(user, group.pk):
        raise PermissionDenied(f"You do not have access to the monitoring group {group.pk}.")


def require_group_admin(user: AnyUser, group: MonitoringGroup) -> None:
    """Allow a change to a group's members, tile order or kiosk links."""
    require_admin(user)
    require_group_access(user, group)


def require_hand_over_rights(user: AnyUser, group: MonitoringGroup) -> None:
    """Allow passing a shared unit to its next performer: anyone who watches the group."""
    require_group_access(user, group)


def require_turn_editor(user: AnyUser, group: MonitoringGroup) -> None:
    """Allow adding, reordering and removing the turns of a group's shared units."""
    require_group_admin(user, group)


def require_mic_check_rights(user: AnyUser, group: MonitoringGroup) -> None:
    """Allow ticking, unticking and starting a group's mic check: anyone who watches it."""
    require_group_access(user, group)


def require_performer_access(user: AnyUser, performer: Performer) -> None:
    """Allow a change to a performer of the user's performer page."""
    if performer.pk is None:
        return
    if not managed_performers(user).filter(pk=performer.pk).exists():
        raise PermissionDenied(f"You do not have access to the performer {performer.pk}.")


def require_unit_access(user: AnyUser, unit: WirelessUnit) -> None:
    if not accessible_devices(user).filter(pk=unit.pk).exists():
        raise PermissionDenied(f"You do not have access to the unit {unit.pk}.")


def require_assignment_rights(
    user: AnyUser, group: MonitoringGroup, unit: WirelessUnit, performer: Performer
) -> None:
    """Allow a new assignment: the group is the user's, the unit one they see, and the
    performer one they may pick (`assignable_performers`)."""
    require_group_access(user, group)
    require_unit_access(user, unit)
    if not assignable_performers(user).filter(pk=performer.pk).exists():
        raise PermissionDenied(f"You may not assign the performer {performer.pk}.")


def require_alert_access(user: AnyUser, alert: Alert) -> None:
    """Allow acknowledging an alert of the user's groups (or of a unit they see)."""
    if alert.monitoring_group is not None:
        require_group_access(user, alert.monitoring_group)
    else:
        require_unit_access(user, alert.wireless_unit)


def reads_health_details(user: AnyUser) -> bool:
    """Tell whether the health page may show the user its poller details (staff, admins)."""
    staff = user.is_active and getattr(user, "is_staff", False)
    return bool(staff) or is_admin(user)


def require_admin(user: AnyUser) -> None:
    if not is_admin(user):
        raise PermissionDenied("Only an admin may do this.")


def require_api_token_groups(user: AnyUser, groups: Iterable[MonitoringGroup]) -> None:
    """Allow a token to read only groups the admin making it administers."""
    require_admin(user)
    for group in groups:
        require_group_admin(user, group)


def require_output_admin(user: AnyUser, group: MonitoringGroup) -> None:
    """Allow adding, changing, testing and removing a group's outputs: they send the
    group's events off the machine, so only an admin who administers the group may."""
    require_group_admin(user, group)


def require_api_token_admin(user: AnyUser, token: ApiToken) -> None:
    if not administered_api_tokens(user).filter(pk=token.pk).exists():
        raise PermissionDenied(f"You may not revoke the API token {token.pk}.")


def administered_chassis(user: AnyUser) -> QuerySet[WirelessChassis]:
    """Return the receivers an admin adds, edits and removes: their organization's."""
    chassis = WirelessChassis.objects.all()
    return chassis if is_admin(user) else chassis.none()


def visible_chargers(user: AnyUser) -> QuerySet[Charger]:
    """Return the chargers a user sees: a charger feeds the whole stage, not one group, so
    everyone who watches a group of the organization (and its admins) sees its chargers."""
    chargers = Charger.objects.all()
    return chargers if _sees_the_stage(user) else chargers.none()


def visible_packs(user: AnyUser) -> QuerySet[BatteryPack]:
    """Return the battery packs a user sees: packs go round the whole stage, as chargers
    do. Who wore one is shown only where the performer is visible (`accessible_performers`)."""
    packs = BatteryPack.objects.all()
    return packs if _sees_the_stage(user) else packs.none()


def _sees_the_stage(user: AnyUser) -> bool:
    return is_admin(user) or monitoring_groups(user).exists()


def sees_discovered_devices(user: AnyUser) -> bool:
    """Discovery hears the network the pollers are on, which no one tenant owns: with
    multi-tenancy on, only a platform superuser sees what it heard."""
    if not is_admin(user):
        return False
    return not multi_tenant_enabled() or bool(getattr(user, "is_superuser", False))


# --- rosters ------------------------------------------------------------------------------


def roster_groups(user: AnyUser) -> QuerySet[MonitoringGroup]:
    """Return the groups whose roster (pools, syncs) the user may change: administered ones."""
    return administered_groups(user)


def administered_pools(user: AnyUser) -> QuerySet[PositionPool]:
    return PositionPool.objects.filter(monitoring_group__in=roster_groups(user))


def require_roster_admin(user: AnyUser, group: MonitoringGroup | None = None) -> None:
    """Allow roster work: the connection (no group) or one administered group's roster."""
    require_admin(user)
    if group is not None:
        require_group_admin(user, group)
