"""The Chargers page: every charger of the organization with its bays, live (htmx, 2 s).
Whoever watches a group sees the chargers (`access.visible_chargers`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.chargers import charger_rows
from dashboard.views.common import HtmxHttpRequest
from micboard import access

PAGE = "dashboard/chargers.html"


@login_required
@require_GET
def charger_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, PAGE, _context(request))


@login_required
@require_GET
def charger_bays(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, f"{PAGE}#charger-bays", _context(request))


def _context(request: HtmxHttpRequest) -> dict[str, object]:
    return {"rows": charger_rows(access.visible_chargers(request.user))}
