"""RosterService: a roster (a Planning Center plan or a CSV file) into a group's assignments.

One planner serves both sources. A dry run (`plan_sync`) says exactly what would change:
new performers, assignments added and ended, who keeps their unit and who could not be
placed; `apply_sync` plans again inside one transaction and makes those changes through
PerformerService and PerformerAssignmentService (so the audit trail, the history and the
walls follow as for any change), all or nothing.

Placing, in order: a person already wearing a unit of their position's pool keeps it; then
each takes their sticky pin (the unit the roster last gave them for that position, even
weeks ago) when it is free; then the rest take the pool's free units in pool order. A unit
worn by anyone the roster did not place is never taken.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from micboard import access, vault
from micboard.models import MonitoringGroup, Performer, PerformerAssignment, WirelessUnit
from micboard.models.base import resolve_organization_id
from micboard.rosters.models import (
    PcoConnection,
    PersonLink,
    Placement,
    PoolSlot,
    PositionPool,
    StatusFilter,
    SyncRun,
)
from micboard.rosters.pco import PcoClient, PcoError, Plan, ServiceType, TeamMember
from micboard.services.common import strip_text
from micboard.services.performer import PerformerService
from micboard.services.performer_assignment import PerformerAssignmentService
from micboard.services.roster_plan import (
    MAX_POOL_UNITS,
    Planner,
    Roster,
    RosterEntry,
    RosterPlan,
    Seat,
)
from micboard.tenancy import current_tenant, multi_tenant_enabled

if TYPE_CHECKING:
    from micboard.services.common import ActingUser

__all__ = ["Roster", "RosterEntry", "RosterPlan", "RosterService"]

PCO_SECRET = b"rosters planning-center secret v1"  # its purpose in micboard/vault.py


class RosterService:
    """The Planning Center connection, the position pools, and syncing rosters into groups."""

    # --- the connection ------------------------------------------------------------------

    @staticmethod
    @sensitive_variables("secret")
    def connect(app_id: str, secret: str, *, by_user: ActingUser = None) -> PcoConnection:
        """Keep the organization's token (encrypted); replaces an earlier one."""
        if by_user is not None:
            access.require_roster_admin(by_user)
        app_id, secret = (strip_text(app_id) or ""), (strip_text(secret) or "")
        if not app_id or not secret:
            raise ValidationError({"secret": "Enter the application id and the secret."})
        if len(app_id) > 200 or len(secret) > 500:
            raise ValidationError({"secret": "That is longer than any Planning Center token."})
        organization_id = resolve_organization_id()
        with transaction.atomic():
            connection = PcoConnection.unscoped.filter(organization_id=organization_id).first()
            connection = connection or PcoConnection(organization_id=organization_id)
            connection.app_id = app_id
            connection.secret_encrypted = vault.seal(secret, PCO_SECRET)
            connection.last_error = ""
            connection.created_by = _user(by_user)
            connection.save()
        return connection

    @staticmethod
    def disconnect(*, by_user: ActingUser = None) -> None:
        """Forget the token (person links stay, so a new token matches the same people)."""
        if by_user is not None:
            access.require_roster_admin(by_user)
        connection = RosterService.get_connection()
        if connection is not None:
            connection.delete()

    @staticmethod
    def get_connection() -> PcoConnection | None:
        """The Planning Center connection of the organization the code runs for."""
        organization_id = _organization_id()
        if organization_id is None:
            return None
        return PcoConnection.objects.filter(organization_id=organization_id).first()

    @staticmethod
    def configure_schedule(
        service_type_id: str,
        group: MonitoringGroup | None,
        status_filter: str,
        *,
        by_user: ActingUser = None,
    ) -> PcoConnection:
        """What `sync_rosters` syncs: the service type's next plan into `group` (None: off)."""
        if by_user is not None:
            access.require_roster_admin(by_user, group)
        connection = RosterService.get_connection()
        if connection is None:
            raise ValidationError("Connect to Planning Center first.")
        if service_type_id and not service_type_id.isdigit():
            raise ValidationError({"service_type_id": "That is not a Planning Center id."})
        if status_filter not in StatusFilter.values:
            raise ValidationError({"status_filter": "Choose one of the filters."})
        connection.service_type_id = service_type_id
        connection.schedule_group = group
        connection.status_filter = status_filter
        connection.save(update_fields=["service_type_id", "schedule_group", "status_filter"])
        return connection

    @staticmethod
    def service_types(*, by_user: ActingUser = None) -> list[ServiceType]:
        with _client(by_user) as client:
            return client.service_types()

    @staticmethod
    def plans(service_type_id: str, *, by_user: ActingUser = None) -> list[Plan]:
        with _client(by_user) as client:
            return client.plans(service_type_id)

    @staticmethod
    def fetch_plan(service_type_id: str, plan: Plan | str, *, by_user: ActingUser = None) -> Roster:
        """Read a plan's team members as a roster (`plan`: a Plan or its id)."""
        with _client(by_user) as client:
            if not isinstance(plan, Plan):  # by id (the schedule, a posted form): its title
                plans = {p.id: p for p in client.plans(service_type_id)}
                plan = plans.get(plan, Plan(plan, f"Plan {plan}", ""))
            members = client.team_members(service_type_id, plan.id)
            entries = [_entry(member) for member in members if member.person_id]
            source = f"{plan.title} (Planning Center)"
            return Roster(source, entries, waited=client.waited, from_pco=True)

    @staticmethod
    def sync_next_plan(*, by_user: ActingUser = None) -> RosterPlan | None:
        """The scheduled sync: the configured service type's next plan into its group.

        None when no schedule is set; a PcoError or a refused apply (ValidationError) is
        recorded on the group, then raised.
        """
        connection = RosterService.get_connection()
        if connection is None or connection.schedule_group is None:
            return None
        if not connection.service_type_id:
            return None
        group, service_type_id = connection.schedule_group, connection.service_type_id
        try:
            plans = RosterService.plans(service_type_id, by_user=by_user)
            if not plans:
                raise PcoError("The service type has no coming plan to sync.")
            roster = RosterService.fetch_plan(service_type_id, plans[0], by_user=by_user)
        except PcoError as error:
            RosterService.record_failure(group, "Planning Center (scheduled)", str(error))
            raise
        try:
            return RosterService.apply_sync(
                roster, group, connection.status_filter, by_user=by_user
            )
        except ValidationError as error:  # nothing was applied: say why on the page
            RosterService.record_failure(group, roster.source, " ".join(error.messages))
            raise

    @staticmethod
    def record_failure(
        group: MonitoringGroup, source: str, error: str, *, by_user: ActingUser = None
    ) -> SyncRun:
        """Say on the page (and keep) why a sync could not run."""
        if by_user is not None:
            access.require_roster_admin(by_user, group)
        connection = RosterService.get_connection()
        if connection is not None:
            connection.last_error = error
            connection.save(update_fields=["last_error"])
        return SyncRun.objects.create(
            organization_id=group.organization_id,
            monitoring_group=group,
            source=source,
            ok=False,
            error=error,
            by_user=_user(by_user),
        )

    @staticmethod
    def link_person(
        pco_person_id: str, performer: Performer, *, by_user: ActingUser = None
    ) -> PersonLink:
        """Say that a Planning Center person is this performer (their next sync keeps them)."""
        if by_user is not None:
            access.require_roster_admin(by_user)
            access.require_performer_access(by_user, performer)
        if not pco_person_id.isdigit():
            raise ValidationError({"pco_person_id": "That is not a Planning Center id."})
        link, _ = PersonLink.objects.update_or_create(
            pco_person_id=pco_person_id,
            defaults={"performer": performer, "organization_id": performer.organization_id},
        )
        return link

    # --- pools ---------------------------------------------------------------------------

    @staticmethod
    def save_pool(
        group: MonitoringGroup,
        position_name: str,
        units: Iterable[WirelessUnit],
        *,
        by_user: ActingUser = None,
    ) -> PositionPool:
        """Map a position to units of the group, in order ("Vocals → HH01-HH06")."""
        if by_user is not None:
            access.require_roster_admin(by_user, group)
        name = (strip_text(position_name) or "")[:200]
        ordered = list(dict.fromkeys(units))
        if not name:
            raise ValidationError({"position_name": "Name the position, as the roster spells it."})
        if not ordered or len(ordered) > MAX_POOL_UNITS:
            raise ValidationError({"units": "Pick between 1 and 200 units."})
        if any(unit.organization_id != group.organization_id for unit in ordered):
            raise ValidationError({"units": "These units belong to another organization."})
        with transaction.atomic():
            pool = PositionPool.objects.filter(
                monitoring_group=group, position_name__iexact=name
            ).first() or PositionPool(organization_id=group.organization_id, monitoring_group=group)
            pool.position_name = name
            pool.save()
            pool.slots.all().delete()
            PoolSlot.objects.bulk_create(
                PoolSlot(pool=pool, wireless_unit=unit, order=n) for n, unit in enumerate(ordered)
            )
        return pool

    @staticmethod
    def delete_pool(pool: PositionPool, *, by_user: ActingUser = None) -> None:
        if by_user is not None:
            access.require_roster_admin(by_user, pool.monitoring_group)
        pool.delete()

    # --- syncing ---------------------------------------------------------------------------

    @staticmethod
    def plan_sync(
        roster: Roster,
        group: MonitoringGroup,
        status_filter: str = StatusFilter.CONFIRMED,
        *,
        by_user: ActingUser = None,
    ) -> RosterPlan:
        """The dry run: what syncing `roster` into `group` would change. Changes nothing."""
        if by_user is not None:
            access.require_roster_admin(by_user, group)
        return Planner(roster, group, status_filter).plan()

    @staticmethod
    def apply_sync(
        roster: Roster,
        group: MonitoringGroup,
        status_filter: str = StatusFilter.CONFIRMED,
        *,
        expected: str = "",
        by_user: ActingUser = None,
    ) -> RosterPlan:
        """Make the dry run's changes, all or none; `expected` is the dry run's fingerprint."""
        if by_user is not None:
            access.require_roster_admin(by_user, group)
        with transaction.atomic():
            plan = Planner(roster, group, status_filter).plan()
            if expected and plan.fingerprint != expected:
                raise ValidationError(
                    "The roster changed since the dry run; look at the new dry run and apply again."
                )
            _apply(plan, group, by_user)
            if roster.from_pco:
                PcoConnection.objects.filter(organization_id=group.organization_id).update(
                    last_error=""
                )
            SyncRun.objects.create(
                organization_id=group.organization_id,
                monitoring_group=group,
                source=roster.source[:200],
                summary=plan.summary(),
                by_user=_user(by_user),
            )
        return plan


# --- applying ------------------------------------------------------------------------------


def _apply(plan: RosterPlan, group: MonitoringGroup, by_user: ActingUser) -> None:
    for ended in plan.ended:  # first: it frees units the new seats may take
        assignment = PerformerAssignment.objects.get(pk=ended.assignment_id)
        PerformerAssignmentService.deactivate_assignment(assignment, by_user=by_user)
        Placement.objects.filter(pk=ended.placement_id).update(current=False)
    created: dict[str, Performer] = {}
    for seat in plan.added:
        performer = _performer_for(seat, created, by_user)
        _assign(performer, seat, group, by_user)
    for seat in plan.kept:
        if seat.performer_id is not None and not seat.placed:  # adopted: the roster's now
            _place(group, seat.performer_id, seat)


def _performer_for(seat: Seat, created: dict[str, Performer], by_user: ActingUser) -> Performer:
    if seat.performer_id is not None:
        return Performer.objects.get(pk=seat.performer_id)
    key = seat.pco_person_id or seat.name.casefold()
    if key not in created:
        performer = PerformerService.create_performer(
            name=seat.name, title=seat.position, by_user=by_user
        )
        if seat.pco_person_id:
            PersonLink.objects.create(
                organization_id=performer.organization_id,
                pco_person_id=seat.pco_person_id,
                performer=performer,
            )
        created[key] = performer
    return created[key]


def _assign(performer: Performer, seat: Seat, group: MonitoringGroup, by_user: ActingUser) -> None:
    unit = WirelessUnit.objects.get(pk=seat.unit_id)
    existing = PerformerAssignment.objects.filter(performer=performer, wireless_unit=unit).first()
    if existing is None:
        PerformerAssignmentService.create_assignment(
            performer, unit, group, notes=seat.notes, by_user=by_user
        )
    else:  # worn before (last week's pin): the same row again, so its history continues
        if existing.monitoring_group_id != group.pk:
            PerformerAssignmentService.update_assignment(
                existing, monitoring_group=group, by_user=by_user
            )
        PerformerAssignmentService.reactivate_assignment(existing, by_user=by_user)
    _place(group, performer.pk, seat)


def _place(group: MonitoringGroup, performer_id: int, seat: Seat) -> None:
    Placement.objects.update_or_create(
        monitoring_group=group,
        performer_id=performer_id,
        position_name=seat.position,
        defaults={
            "organization_id": group.organization_id,
            "wireless_unit_id": seat.unit_id,
            "current": True,
        },
    )


# --- small pieces --------------------------------------------------------------------------


@sensitive_variables("secret")
def _client(by_user: ActingUser) -> PcoClient:
    if by_user is not None:
        access.require_roster_admin(by_user)
    connection = RosterService.get_connection()
    if connection is None:
        raise PcoError("Not connected to Planning Center: connect with a personal access token.")
    try:
        secret = vault.unseal(connection.secret_encrypted, PCO_SECRET)
    except vault.UnreadableSecret:
        raise PcoError("The stored token cannot be read; connect again.") from None
    return PcoClient(connection.app_id, secret)


def _entry(member: TeamMember) -> RosterEntry:
    return RosterEntry(
        name=member.name or f"Person {member.person_id}",
        position=member.position,
        status=member.status,
        pco_person_id=member.person_id,
    )


def _organization_id() -> int | None:
    """The organization of the running code; None for a platform operator (no organization)."""
    context = current_tenant()
    if context.organization_id is not None:
        return context.organization_id
    if multi_tenant_enabled():
        return None
    return resolve_organization_id()


def _user(user: ActingUser) -> User | None:
    """The acting user as a row to point at (none for a command or the scheduler)."""
    return user if isinstance(user, User) else None
