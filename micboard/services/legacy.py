"""AssignmentService: the deprecated user-to-channel assignments, kept working."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from django.db import transaction

from micboard.models import DeviceAssignment, RFChannel
from micboard.services.common import require_same_organization

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_ADVICE = "AssignmentService is deprecated; use PerformerService and PerformerAssignmentService."


class AssignmentService:
    """Deprecated: link a user to an RF channel. Every call warns with DeprecationWarning."""

    @staticmethod
    def create_assignment(
        user: User, channel: RFChannel, alert_enabled: bool = True
    ) -> DeviceAssignment:
        warnings.warn(_ADVICE, DeprecationWarning, stacklevel=2)
        require_same_organization(channel, _profile_organization_holder(user, channel))
        with transaction.atomic():
            return DeviceAssignment.objects.create(
                organization_id=channel.organization_id,
                user=user,
                channel=channel,
                alert_enabled=alert_enabled,
            )


def _profile_organization_holder(user: User, channel: RFChannel) -> RFChannel:
    """Return an object carrying the user's organization (the channel's own if none is set)."""
    profile = getattr(user, "profile", None)
    organization_id = getattr(profile, "organization_id", None) or channel.organization_id
    holder = RFChannel(organization_id=organization_id)
    return holder
