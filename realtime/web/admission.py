"""Who may open a live socket, and keep it: the access rules, applied on connect and again
whenever a change may have taken access away (`micboard.events.REACTIONS`)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import auth

from micboard import access
from micboard.services import ApiTokenService
from micboard.tenancy import context_for_user, tenant_context
from realtime import codes

if TYPE_CHECKING:
    from micboard.access import AnyUser


@dataclass(frozen=True, slots=True)
class Admission:
    """Either the group a socket may watch, or the close code that refuses it."""

    group_id: int | None = None
    refusal: int | None = None
    user_id: int | None = None  # whose socket it is, so a change to them reaches it
    holder: str = ""  # who the socket counts against (a user or a kiosk link), for caps


def admit_session(session_key: str | None, group_id: int) -> Admission:
    """Admit the user the session belongs to now, read afresh from the session store."""
    return admit_user(session_user(session_key), group_id)


def session_user(session_key: str | None) -> AnyUser:
    """Return who is signed in on this session now: anonymous once it was signed out, its
    user deactivated, or their password changed elsewhere (Django's session hash check).

    The user a socket was opened with is a copy from that moment; asking again is what
    lets a re-check see the change.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    return auth.get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]


def admit_user(user: AnyUser, group_id: int) -> Admission:
    """Admit a signed-in user who may see the group, within their own tenant."""
    if not user.is_authenticated:
        return Admission(refusal=codes.NOT_SIGNED_IN)
    tenant = context_for_user(user)
    with tenant_context(
        tenant.organization_id, campus=tenant.campus_id, unrestricted=tenant.unrestricted
    ):
        visible = access.can_watch_group(user, group_id)
    if not visible:
        return Admission(refusal=codes.NO_ACCESS)
    return Admission(group_id=group_id, user_id=user.pk, holder=f"user.{user.pk}")


def admit_api_token(secret: str | None, group_id: int) -> Admission:
    """Admit a live API token that reads the group; nothing else (no session) counts.

    The socket joins its maker's layer group too, so that their losing the rights the
    token lends out (signed out of nothing, but demoted or deactivated) reaches it."""
    token = access.live_api_token(secret) if secret else None
    if token is None:  # none, unknown or revoked: all alike, so a guess learns nothing
        return Admission(refusal=codes.NOT_SIGNED_IN)
    with tenant_context(token.organization_id):
        reads = access.token_reads_group(token, group_id)
    if not reads:
        return Admission(refusal=codes.NO_ACCESS)
    ApiTokenService.note_use(token)
    return Admission(group_id=group_id, user_id=token.created_by_id, holder=f"token.{token.pk}")


def admit_kiosk(token: str) -> Admission:
    """Admit a kiosk whose link is live; a revoked link is told so (4410)."""
    link = access.live_kiosk_link(token)
    if link is not None:
        return Admission(group_id=link.monitoring_group_id, holder=f"kiosk.{link.pk}")
    revoked = access.kiosk_link_revoked(token)
    return Admission(refusal=codes.KIOSK_REVOKED if revoked else codes.NO_ACCESS)
