"""Tenant context: which organization (and campus) the running code acts for.

With MICBOARD_MULTI_TENANT off (the default) there is one organization and nothing is
filtered. With it on, every tenant-owned default manager filters by the organization in
the current context and fails closed: code with no tenant context sees nothing.
The context lives in a ContextVar, so it follows asyncio tasks and asgiref thread hops.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


@dataclass(frozen=True, slots=True)
class TenantContext:
    """The tenant a piece of code acts for; `unrestricted` is for system processes."""

    organization_id: int | None = None
    campus_id: int | None = None
    unrestricted: bool = False


_NO_TENANT = TenantContext()
_current: ContextVar[TenantContext] = ContextVar("micboard_tenant", default=_NO_TENANT)


def multi_tenant_enabled() -> bool:
    return bool(getattr(settings, "MICBOARD_MULTI_TENANT", False))


def current_tenant() -> TenantContext:
    return _current.get()


@contextlib.contextmanager
def tenant_context(
    organization: Any = None, *, campus: Any = None, unrestricted: bool = False
) -> Iterator[TenantContext]:
    """Run a block as one organization (objects or ids), or unrestricted for system work."""
    context = TenantContext(
        organization_id=_pk(organization), campus_id=_pk(campus), unrestricted=unrestricted
    )
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def system_context() -> contextlib.AbstractContextManager[TenantContext]:
    """Run a block as the system (poller, migrations, seeding): every tenant visible."""
    return tenant_context(unrestricted=True)


def context_for_user(user: AbstractBaseUser | AnonymousUser) -> TenantContext:
    """Derive the tenant context of a signed-in user from their profile."""
    profile = getattr(user, "profile", None) if user.is_authenticated else None
    if profile is None or profile.organization_id is None:
        # A platform superuser belongs to no organization and looks after all of them.
        is_platform_operator = user.is_authenticated and getattr(user, "is_superuser", False)
        return TenantContext(unrestricted=True) if is_platform_operator else _NO_TENANT
    return TenantContext(organization_id=profile.organization_id, campus_id=profile.campus_id)


def _pk(value: Any) -> int | None:
    if value is None:
        return None
    return int(getattr(value, "pk", value))


class TenantMiddleware:
    """Set the tenant context of each request from the signed-in user's profile."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(context_for_user(request.user))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
