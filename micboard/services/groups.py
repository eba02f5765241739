"""GroupService: who belongs to a monitoring group, and the order of its wall."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from micboard import access
from micboard.events import EventKind, announce
from micboard.models import MonitoringGroup, WirelessUnit
from micboard.tenancy import multi_tenant_enabled

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from micboard.services.common import ActingUser

MAX_TILE_ORDER = 2000
WALL_NUMBERS = range(1, 10)  # the keys 1-9 of a wall


class GroupService:
    """Members and tile order are admin decisions; every change reaches open walls."""

    @staticmethod
    def candidate_members(group: MonitoringGroup) -> QuerySet[User]:
        """Return the active users who may be made members of `group`."""
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        if not multi_tenant_enabled():
            return users
        same_org = Q(profile__organization_id=group.organization_id)
        return users.filter(same_org)

    @staticmethod
    def set_members(
        group: MonitoringGroup, users: Iterable[User], *, by_user: ActingUser = None
    ) -> MonitoringGroup:
        """Make exactly `users` the members of `group`."""
        if by_user is not None:
            access.require_group_admin(by_user, group)
        members = list(users)
        allowed = set(GroupService.candidate_members(group).values_list("pk", flat=True))
        strangers = [user.get_username() for user in members if user.pk not in allowed]
        if strangers:
            raise ValidationError({"users": f"Not allowed in this group: {', '.join(strangers)}."})
        with transaction.atomic():
            # Announced by the membership signal (micboard/signals.py), as on every path.
            group.users.set(members)
        return group

    @staticmethod
    def set_show_end(
        group: MonitoringGroup, ends_at: datetime | None, *, by_user: ActingUser = None
    ) -> MonitoringGroup:
        """Set (or clear, with None) when the group's show ends."""
        if by_user is not None:
            access.require_group_admin(by_user, group)
        with transaction.atomic():
            # The group's save signal announces group.changed: its walls re-fetch every tile.
            group.show_ends_at = ends_at
            group.save(update_fields=["show_ends_at"])
        return group

    @staticmethod
    def set_tile_order(
        group: MonitoringGroup, order: Sequence[int | None], *, by_user: ActingUser = None
    ) -> MonitoringGroup:
        """Save the wall order: unit ids, with None for a BLANK spacer."""
        if by_user is not None:
            access.require_group_admin(by_user, group)
        _validate_tile_order(group, order)
        with transaction.atomic():
            group.tile_order = list(order)
            group.save(update_fields=["tile_order"])
            announce(EventKind.GROUP_TILE_ORDER_CHANGED, group_ids=[group.pk])
        return group

    @staticmethod
    def set_number(
        group: MonitoringGroup, number: int | None, *, by_user: ActingUser = None
    ) -> MonitoringGroup:
        """Give the group's wall key `number` (1-9), or none. No screen shows it live: a
        wall reads the keys when it opens, so nothing is announced."""
        if by_user is not None:
            access.require_group_admin(by_user, group)
        if number is not None and number not in WALL_NUMBERS:
            raise ValidationError({"number": "Choose a number from 1 to 9, or none."})
        taken = MonitoringGroup.objects.filter(
            organization_id=group.organization_id, number=number
        ).exclude(pk=group.pk)
        if number is not None and (holder := taken.first()) is not None:
            raise ValidationError({"number": f"Key {number} opens {holder.name} already."})
        with transaction.atomic():
            group.number = number
            group.save(update_fields=["number"])
        return group


def _validate_tile_order(group: MonitoringGroup, order: Sequence[object]) -> None:
    if len(order) > MAX_TILE_ORDER:
        raise ValidationError({"tile_order": "The order lists too many tiles."})
    # bool is an int in Python, and True must not pass for unit 1.
    if not all(e is None or (isinstance(e, int) and not isinstance(e, bool)) for e in order):
        raise ValidationError({"tile_order": "List unit ids and blanks only."})
    unit_ids = [entry for entry in order if isinstance(entry, int)]
    if len(set(unit_ids)) != len(unit_ids):
        raise ValidationError({"tile_order": "A unit can appear only once."})
    known = WirelessUnit.objects.filter(pk__in=unit_ids, organization_id=group.organization_id)
    if known.count() != len(unit_ids):
        raise ValidationError({"tile_order": "The order names a unit that does not exist."})
