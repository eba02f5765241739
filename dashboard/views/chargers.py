"""The Chargers page: every charger of the organization with its bays, live (htmx, 2 s),
which charged pack goes to whom next, and each pack's page with its history. Whoever
watches a group sees the chargers and packs (`access.visible_chargers`, `visible_packs`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.chargers import charger_rows
from dashboard.lookups import get_pack_for_user
from dashboard.packs import next_packs, pack_history
from dashboard.views.common import HtmxHttpRequest
from micboard import access

PAGE = "dashboard/chargers.html"
PACK_PAGE = "dashboard/pack.html"


@login_required
@require_GET
def charger_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, PAGE, _context(request))


@login_required
@require_GET
def charger_bays(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, f"{PAGE}#charger-bays", _context(request))


@login_required
@require_GET
def pack_detail(request: HtmxHttpRequest, pack_id: int) -> HttpResponse:
    pack = get_pack_for_user(request.user, pack_id)
    return render(request, PACK_PAGE, {"pack": pack, "history": pack_history(request.user, pack)})


def _context(request: HtmxHttpRequest) -> dict[str, object]:
    user = request.user
    return {
        "rows": charger_rows(access.visible_chargers(user)),
        "next_packs": next_packs(user),
        "packs": access.visible_packs(user).select_related("charger", "wireless_unit"),
    }
