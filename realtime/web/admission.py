"""Who may open a live socket: the access rules, applied once per connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from micboard import access
from micboard.models import KioskLink
from micboard.services.kiosk import KioskService, is_well_formed_token
from micboard.tenancy import context_for_user, tenant_context
from realtime import codes

if TYPE_CHECKING:
    from micboard.access import AnyUser


@dataclass(frozen=True, slots=True)
class Admission:
    """Either the group a socket may watch, or the close code that refuses it."""

    group_id: int | None = None
    refusal: int | None = None


def admit_user(user: AnyUser, group_id: int) -> Admission:
    """Admit a signed-in user who may see the group, within their own tenant."""
    if not user.is_authenticated:
        return Admission(refusal=codes.NOT_SIGNED_IN)
    tenant = context_for_user(user)
    with tenant_context(
        tenant.organization_id, campus=tenant.campus_id, unrestricted=tenant.unrestricted
    ):
        visible = access.monitoring_groups(user).filter(pk=group_id).exists()
    return Admission(group_id=group_id) if visible else Admission(refusal=codes.NO_ACCESS)


def admit_kiosk(token: str) -> Admission:
    """Admit a kiosk whose link is live; a revoked link is told so (4410)."""
    link = KioskService.find_active_link(token)
    if link is not None:
        return Admission(group_id=link.monitoring_group_id)
    return Admission(refusal=codes.KIOSK_REVOKED if kiosk_revoked(token) else codes.NO_ACCESS)


def kiosk_revoked(token: str) -> bool:
    if not is_well_formed_token(token):
        return False
    return KioskLink.unscoped.filter(token=token, revoked_at__isnull=False).exists()
