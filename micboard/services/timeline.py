"""TimelineService: the techs' markers on a group's timeline ("song 4", "show start")."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from micboard import access
from micboard.models import MonitoringGroup
from micboard.services.common import strip_text, validate_fields
from micboard.timeline.models import Marker

if TYPE_CHECKING:
    from micboard.services.common import ActingUser

DEFAULT_LABEL = "Marker"


class TimelineService:
    """Anyone who watches a group may mark its timeline."""

    @staticmethod
    def add_marker(
        monitoring_group: MonitoringGroup,
        label: str,
        *,
        at: datetime | None = None,
        by_user: ActingUser = None,
    ) -> Marker:
        """Mark the group's timeline now (or `at`); an empty label becomes "Marker"."""
        if by_user is not None:
            access.require_group_access(by_user, monitoring_group)
        marker = Marker(
            organization_id=monitoring_group.organization_id,
            monitoring_group=monitoring_group,
            at=at or timezone.now(),
            label=strip_text(label) or DEFAULT_LABEL,
            created_by=by_user if by_user is not None and by_user.is_authenticated else None,
        )
        validate_fields(marker)
        with transaction.atomic():
            marker.save()
        return marker
