"""The sign-in throttle, on django-axes: per account and address together, and per address.

- Failures are counted per (username, address) pair: ten wrong passwords for `tech` lock
  out `tech` from that address, not `admin` behind the same venue NAT, and `admin` signing
  in clears only `admin`'s count.
- An address is also locked once it has failed MICBOARD_LOGIN_ADDRESS_FAILURE_LIMIT times
  over any usernames (password spraying), until its failures cool off.
- The address is REMOTE_ADDR, which uvicorn sets from X-Forwarded-For only for a proxy
  named in FORWARDED_ALLOW_IPS, taking the right-most hop that proxy did not add: a client
  cannot choose its address by sending the header itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

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


def failure_limit(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """Return the failures a (username, address) pair may have (AXES_FAILURE_LIMIT).

    axes compares one count, the pair's, with one limit; an address over its own limit
    gets a limit of 0, which every count reaches, so it is locked whoever it tries.
    """
    address = get_client_ip_address(request)
    failures = AccessAttempt.objects.filter(ip_address=address).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    if (failures or 0) >= settings.MICBOARD_LOGIN_ADDRESS_FAILURE_LIMIT:
        return 0
    return int(settings.MICBOARD_LOGIN_FAILURE_LIMIT)


def locked_out(
    request: HttpRequest, credentials: dict[str, Any] | None, *args: Any
) -> HttpResponse:
    """The page a locked-out sign-in gets (AXES_LOCKOUT_CALLABLE): when to try again."""
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    context = {
        "minutes": round(cool_off.total_seconds() / 60),
        "retry_at": timezone.localtime() + cool_off,
    }
    return render(request, "registration/locked_out.html", context, status=429)
