"""What django-axes records of a failed sign-in (AXES_USERNAME_CALLABLE)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

# axes keeps the username in a column of 255 characters.
MAX_RECORDED_USERNAME = 255


def attempted_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """Return the username a sign-in tried, cut to what axes can store.

    Django's sign-in forms do not enforce the username's length, so a megabyte of it
    reached axes, whose insert then failed on PostgreSQL: a 500 instead of a failed login.
    """
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    username = credentials.get(field) if credentials else request.POST.get(field)
    return None if username is None else str(username)[:MAX_RECORDED_USERNAME]
