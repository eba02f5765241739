"""PerformerService: every change to a performer goes through here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q

from micboard import access
from micboard.events import EventKind, announce
from micboard.models import Performer, PerformerAssignment
from micboard.models.base import resolve_organization_id
from micboard.models.performers import PerformerQuerySet
from micboard.services.common import (
    record_history_user,
    reject_unknown_fields,
    strip_text,
    validate_fields,
)
from micboard.services.photos import prepare_photo

if TYPE_CHECKING:
    from micboard.services.common import ActingUser

EDITABLE_FIELDS = ("name", "title", "email", "phone", "notes")


class PerformerService:
    """Create, read, update, deactivate and delete performers."""

    @staticmethod
    def create_performer(
        name: str,
        title: str = "",
        email: str = "",
        phone: str = "",
        photo_file: Any = None,
        notes: str = "",
        *,
        by_user: ActingUser = None,
    ) -> Performer:
        """Create and return a performer; raise ValidationError naming a bad field."""
        performer = Performer(
            name=strip_text(name) or "",
            title=strip_text(title) or "",
            email=strip_text(email) or "",
            phone=strip_text(phone) or "",
            notes=notes or "",
        )
        photo = prepare_photo(photo_file) if photo_file is not None else None
        with transaction.atomic():
            performer.organization_id = resolve_organization_id()
            validate_fields(performer)
            if photo is not None:
                performer.photo.save(photo.name, photo.content, save=False)
            record_history_user(performer, by_user)
            performer.save()
            announce(EventKind.PERFORMER_CREATED, performer_ids=[performer.pk])
        return performer

    @staticmethod
    def get_performer_by_id(performer_id: int) -> Performer | None:
        """Return the performer with this id in the current tenant, or None."""
        return Performer.objects.filter(pk=performer_id).first()

    @staticmethod
    def get_performer_by_name(name: str) -> Performer | None:
        """Return the performer with exactly this name (case-insensitive), or None."""
        return Performer.objects.filter(name__iexact=name.strip()).order_by("id").first()

    @staticmethod
    def get_all_performers(active_only: bool = True) -> PerformerQuerySet:
        performers = Performer.objects.all()
        return performers.active() if active_only else performers

    @staticmethod
    def search_performers(query: str, active_only: bool = True) -> PerformerQuerySet:
        """Return performers whose name, title or email contains `query`."""
        text = query.strip()
        matches = PerformerService.get_all_performers(active_only=active_only)
        if not text:
            return matches
        return matches.filter(Q(name__folded=text) | Q(title__folded=text) | Q(email__folded=text))

    @staticmethod
    def update_performer(
        performer: Performer, *, by_user: ActingUser = None, **changes: Any
    ) -> Performer:
        """Change only the given fields (and `photo_file`) of a performer."""
        photo_file = changes.pop("photo_file", None)
        reject_unknown_fields(changes, EDITABLE_FIELDS)
        if by_user is not None:
            access.require_performer_access(by_user, performer)
        for name, value in changes.items():
            setattr(performer, name, strip_text(value))
        photo = prepare_photo(photo_file) if photo_file is not None else None
        replaced = performer.photo.name if photo is not None else ""
        with transaction.atomic():
            validate_fields(performer)
            if photo is not None:
                performer.photo.save(photo.name, photo.content, save=False)
                if replaced:
                    _delete_file_after_commit(performer, replaced)
            record_history_user(performer, by_user)
            # Only the named fields: a concurrent deactivation must not be undone.
            photo_fields = ["photo"] if photo is not None else []
            performer.save(update_fields=[*changes, *photo_fields, "updated_at"])
            _announce_performer(EventKind.PERFORMER_UPDATED, performer)
        return performer

    @staticmethod
    def deactivate_performer(performer: Performer, *, by_user: ActingUser = None) -> Performer:
        """Hide a performer (and so their assignments) from every active query and wall."""
        return _set_active(performer, active=False, by_user=by_user)

    @staticmethod
    def reactivate_performer(performer: Performer, *, by_user: ActingUser = None) -> Performer:
        return _set_active(performer, active=True, by_user=by_user)

    @staticmethod
    def delete_performer(performer: Performer, *, by_user: ActingUser = None) -> None:
        """Delete a performer and their assignments for good."""
        if by_user is not None:
            access.require_performer_access(by_user, performer)
        with transaction.atomic():
            group_ids, unit_ids = _assignment_targets(performer)
            performer_id = performer.pk
            record_history_user(performer, by_user)
            performer.delete()
            announce(
                EventKind.PERFORMER_DELETED,
                group_ids=group_ids,
                unit_ids=unit_ids,
                performer_ids=[performer_id],
            )

    @staticmethod
    def count_total_performers(active_only: bool = True) -> int:
        return PerformerService.get_all_performers(active_only=active_only).count()

    @staticmethod
    def get_performers_with_assignments() -> PerformerQuerySet:
        """Return active performers that have at least one active assignment, prefetched
        with their assignments and units."""
        assigned = PerformerAssignment.objects.filter(is_active=True).values("performer_id")
        return Performer.objects.active().filter(id__in=assigned).with_assignments()


def _set_active(performer: Performer, *, active: bool, by_user: ActingUser) -> Performer:
    if by_user is not None:
        access.require_performer_access(by_user, performer)
    with transaction.atomic():
        performer.is_active = active
        record_history_user(performer, by_user)
        performer.save(update_fields=["is_active", "updated_at"])
        kind = EventKind.PERFORMER_REACTIVATED if active else EventKind.PERFORMER_DEACTIVATED
        _announce_performer(kind, performer)
    return performer


def _announce_performer(kind: EventKind, performer: Performer) -> None:
    group_ids, unit_ids = _assignment_targets(performer)
    announce(kind, group_ids=group_ids, unit_ids=unit_ids, performer_ids=[performer.pk])


def _assignment_targets(performer: Performer) -> tuple[list[int], list[int]]:
    """Return the groups and units whose walls show this performer."""
    rows = PerformerAssignment.objects.filter(performer=performer).values_list(
        "monitoring_group_id", "wireless_unit_id"
    )
    pairs = list(rows)
    return [group for group, _ in pairs], [unit for _, unit in pairs]


def _delete_file_after_commit(performer: Performer, name: str) -> None:
    """Remove a replaced photo's file once the new one is committed (never before)."""
    storage = performer.photo.storage
    transaction.on_commit(lambda: storage.delete(name))
