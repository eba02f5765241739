"""Model signal receivers: every user gets a profile, and every change that can take access
away is announced, whichever path made it.

Membership, groups, users and profiles also change outside our services: in Django's own
user admin, through a many-to-many widget, in a shell, on sign-out. Announcing them from
the model signals means no such path can forget to; `micboard.events.REACTIONS` makes the
open sockets concerned ask again whether they may stay.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from micboard.events import EventKind, announce
from micboard.models import MonitoringGroup, UserProfile

# Saves that change nothing about access: a sign-in stamps last_login, a wall's order.
_HARMLESS_USER_FIELDS = frozenset({"last_login"})
_HARMLESS_GROUP_FIELDS = frozenset({"tile_order"})


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_saved(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw", False):
        return
    if created:
        UserProfile.objects.get_or_create(user=instance)
    elif not _only(kwargs.get("update_fields"), _HARMLESS_USER_FIELDS):
        announce(EventKind.USER_CHANGED, user_ids=[instance.pk])


@receiver(post_save, sender=UserProfile)
def profile_saved(sender: type, instance: UserProfile, created: bool, **kwargs: Any) -> None:
    if not created and not kwargs.get("raw", False):
        announce(EventKind.USER_CHANGED, user_ids=[instance.user_id])


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL)
def user_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    announce(EventKind.USER_CHANGED, user_ids=[instance.pk])


@receiver(user_logged_out)
def signed_out(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    # logout() deletes the session only after this signal, and outside a transaction the
    # announcement goes out at once: delete it first, so the re-check finds it gone.
    request.session.flush()
    announce(EventKind.USER_CHANGED, user_ids=[user.pk])


@receiver(post_save, sender=MonitoringGroup)
def group_saved(sender: type, instance: MonitoringGroup, **kwargs: Any) -> None:
    if not kwargs.get("raw", False) and not _only(
        kwargs.get("update_fields"), _HARMLESS_GROUP_FIELDS
    ):
        announce(EventKind.GROUP_CHANGED, group_ids=[instance.pk])


@receiver(post_delete, sender=MonitoringGroup)
def group_deleted(sender: type, instance: MonitoringGroup, **kwargs: Any) -> None:
    announce(EventKind.GROUP_CHANGED, group_ids=[instance.pk])


@receiver(m2m_changed, sender=MonitoringGroup.users.through)
def members_changed(
    sender: type, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """A group's members changed, from the group's side or from a user's."""
    if reverse and action == "pre_clear":
        # A user's groups are about to be cleared: after that, nothing says which they were.
        instance._groups_before_clear = list(
            instance.monitoring_groups.values_list("pk", flat=True)
        )
        return
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not reverse:
        group_ids = [instance.pk]
    elif action == "post_clear":
        group_ids = getattr(instance, "_groups_before_clear", [])
    else:
        group_ids = sorted(pk_set or ())
    announce(EventKind.GROUP_MEMBERS_CHANGED, group_ids=group_ids)


def _only(update_fields: Any, harmless: frozenset[str]) -> bool:
    return update_fields is not None and set(update_fields) <= harmless
