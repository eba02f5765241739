"""Bearer-token authentication of the read API, checked afresh on every request."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ninja.security import HttpBearer

from micboard import access
from micboard.services import ApiTokenService
from micboard.tenancy import tenant_context

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.http import HttpRequest

    from micboard.models import ApiToken


class TokenAuth(HttpBearer):
    """Accept `Authorization: Bearer <secret>` of an unrevoked token; no session counts."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = access.live_api_token(token)
        if found is not None:
            ApiTokenService.note_use(found)
        return found


@contextlib.contextmanager
def token_scope(request: HttpRequest) -> Iterator[ApiToken]:
    """Run an endpoint in its token's tenant: a request with a token has no user, so the
    tenant middleware gave it none, and the token is all it is granted."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    with tenant_context(token.organization_id):
        yield token
