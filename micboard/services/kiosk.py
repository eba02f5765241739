"""KioskService: create and revoke the read-only links that show one group's wall."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from micboard import access
from micboard.events import EventKind, announce
from micboard.models import KioskLink, MonitoringGroup
from micboard.services.common import strip_text, validate_fields

if TYPE_CHECKING:
    from micboard.services.common import ActingUser


class KioskService:
    """Kiosk links are made and revoked by admins only."""

    @staticmethod
    def create_link(
        monitoring_group: MonitoringGroup, label: str, *, by_user: ActingUser = None
    ) -> KioskLink:
        if by_user is not None:
            access.require_group_admin(by_user, monitoring_group)
        link = KioskLink(
            organization_id=monitoring_group.organization_id,
            monitoring_group=monitoring_group,
            label=strip_text(label) or "",
            created_by=by_user if by_user is not None and by_user.is_authenticated else None,
        )
        validate_fields(link)
        with transaction.atomic():
            link.save()
        return link

    @staticmethod
    def revoke_link(link: KioskLink, *, by_user: ActingUser = None) -> KioskLink:
        """Revoke a link for good; open kiosk sockets using it are closed on commit."""
        if by_user is not None:
            access.require_group_admin(by_user, link.monitoring_group)
        if link.revoked_at is not None:
            return link
        with transaction.atomic():
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
            announce(EventKind.KIOSK_REVOKED, group_ids=[link.monitoring_group_id])
        return link
