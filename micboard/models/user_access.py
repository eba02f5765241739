"""Give Django's own User the access helpers the public API promises."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from micboard.models import MonitoringGroup, Performer, WirelessUnit


def get_monitoring_groups(self: object) -> QuerySet[MonitoringGroup]:
    """Return the active monitoring groups this user may watch."""
    from micboard import access

    return access.monitoring_groups(self)  # type: ignore[arg-type]


def get_accessible_performers(self: object) -> QuerySet[Performer]:
    """Return the performers assigned in this user's monitoring groups."""
    from micboard import access

    return access.accessible_performers(self)  # type: ignore[arg-type]


def get_accessible_devices(self: object) -> QuerySet[WirelessUnit]:
    """Return the wireless units assigned in this user's monitoring groups."""
    from micboard import access

    return access.accessible_devices(self)  # type: ignore[arg-type]


_User = get_user_model()
_User.add_to_class("get_monitoring_groups", get_monitoring_groups)
_User.add_to_class("get_accessible_performers", get_accessible_performers)
_User.add_to_class("get_accessible_devices", get_accessible_devices)
