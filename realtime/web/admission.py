"""Who may open a live socket: the access rules, applied once per connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from micboard import access
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
        visible = access.can_watch_group(user, group_id)
    return Admission(group_id=group_id) if visible else Admission(refusal=codes.NO_ACCESS)


def admit_kiosk(token: str) -> Admission:
    """Admit a kiosk whose link is live; a revoked link is told so (4410)."""
    link = access.live_kiosk_link(token)
    if link is not None:
        return Admission(group_id=link.monitoring_group_id)
    revoked = access.kiosk_link_revoked(token)
    return Admission(refusal=codes.KIOSK_REVOKED if revoked else codes.NO_ACCESS)
