"""ApiTokenService: create and revoke the bearer tokens of the read API."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from micboard import access
from micboard.events import EventKind, announce
from micboard.models import ApiToken, MonitoringGroup
from micboard.services.common import require_same_organization, strip_text, validate_fields

if TYPE_CHECKING:
    from collections.abc import Sequence

    from micboard.services.common import ActingUser

HINT_LENGTH = 6
# A token polled every second would otherwise cost a database write per request.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class NewApiToken:
    """A token just made, with its secret: the only time anyone sees the secret."""

    token: ApiToken
    secret: str


class ApiTokenService:
    """API tokens are made and revoked by admins only; a token never writes."""

    @staticmethod
    def create_token(
        name: str, groups: Sequence[MonitoringGroup], *, by_user: ActingUser = None
    ) -> NewApiToken:
        if not groups:
            raise ValidationError({"groups": "Choose at least one group for the token to read."})
        if by_user is not None:
            access.require_api_token_groups(by_user, groups)
        require_same_organization(*groups)
        secret = secrets.token_urlsafe(32)
        token = ApiToken(
            organization_id=groups[0].organization_id,
            name=strip_text(name) or "",
            secret_hash=access.hash_api_secret(secret),
            hint=secret[:HINT_LENGTH],
            created_by=by_user if by_user is not None and by_user.is_authenticated else None,
        )
        validate_fields(token)
        with transaction.atomic():
            token.save()
            token.groups.set(groups)
        return NewApiToken(token, secret)

    @staticmethod
    def revoke_token(token: ApiToken, *, by_user: ActingUser = None) -> ApiToken:
        """Revoke a token for good; its next request is refused (each one re-checks)."""
        if by_user is not None:
            access.require_api_token_admin(by_user, token)
        if token.revoked_at is not None:
            return token
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            # Its open sockets re-check on commit, find the token revoked and close.
            group_ids = token.groups.values_list("pk", flat=True)
            announce(EventKind.API_TOKEN_REVOKED, group_ids=list(group_ids))
        return token

    @staticmethod
    def note_use(token: ApiToken) -> None:
        """Record when a token was last used, to the minute (a system write: the token is
        the actor)."""
        now = timezone.now()
        if token.last_used_at is not None and now - token.last_used_at < LAST_USED_PRECISION:
            return
        ApiToken.unscoped.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
