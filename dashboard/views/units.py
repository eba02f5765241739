"""The detail page of one unit: its last hour, its alerts and who has worn it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard import history, lookups, walls
from micboard import access
from micboard.models import WirelessUnit

RECENT_ROWS = 50


@login_required
@require_GET
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = lookups.get_unit_for_user(request.user, unit_id)
    points = history.read_history(unit.pk)
    context = {
        "unit": unit,
        "status": walls.STATUSES[walls.normalise_status(unit.status)],
        "charts": history.charts(points or []),
        "history_unavailable": points is None,
        "chart_width": history.CHART_WIDTH,
        "chart_height": history.CHART_HEIGHT,
        "alerts": access.visible_alerts(request.user).filter(wireless_unit=unit)[:RECENT_ROWS],
        "assignment_history": _assignment_history(request, unit),
        "hand_overs": _hand_overs(request, unit),
    }
    return render(request, "dashboard/unit_detail.html", context)


def _assignment_history(request: HttpRequest, unit: WirelessUnit) -> list[Any]:
    """Return the audit trail of this unit's assignments in the groups the user may see."""
    records = access.visible_assignment_history(request.user, unit)
    related = records.select_related("performer", "monitoring_group", "history_user")
    return list(related.order_by("-history_date")[:RECENT_ROWS])


def _hand_overs(request: HttpRequest, unit: WirelessUnit) -> list[Any]:
    """Return who was handed this shared unit, newest first (docs/rosters.md)."""
    records = access.visible_hand_overs(request.user, unit)
    related = records.select_related(
        "assignment__performer", "assignment__monitoring_group", "history_user"
    )
    return list(related.order_by("-history_date")[:RECENT_ROWS])
