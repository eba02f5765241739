"""Alert history with filters, and acknowledging an alert (from the list or a wall toast)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard import lookups
from dashboard.forms import AlertFilterForm
from dashboard.views.common import HtmxHttpRequest
from micboard import access
from micboard.models import Alert
from micboard.services import AlertService

PAGE_SIZE = 50


@login_required
@require_GET
def alert_list(request: HtmxHttpRequest) -> HttpResponse:
    form = AlertFilterForm(request.GET, groups=access.monitoring_groups(request.user))
    alerts: QuerySet[Alert] = access.visible_alerts(request.user)
    if form.is_valid():
        alerts = _filtered(alerts, form.cleaned_data)
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "query": _query_without_page(request)}
    template = "dashboard/alerts.html"
    if request.htmx and request.htmx.target == "alert-table":
        template += "#alert-table"
    return render(request, template, context)


@login_required
@require_POST
def alert_acknowledge(request: HtmxHttpRequest, alert_id: int) -> HttpResponse:
    alert = lookups.get_alert_for_user(request.user, alert_id)
    AlertService.acknowledge(alert, by_user=request.user)
    if request.htmx:
        return render(request, "dashboard/alerts.html#alert-row", {"alert": alert})
    return redirect("alerts")


def _filtered(alerts: QuerySet[Alert], data: dict[str, Any]) -> QuerySet[Alert]:
    if data["group"] is not None:
        alerts = alerts.filter(monitoring_group=data["group"])
    if data["kind"]:
        alerts = alerts.filter(kind=data["kind"])
    if data["severity"]:
        alerts = alerts.filter(severity=data["severity"])
    state = data["state"]
    if state == "open":
        alerts = alerts.filter(resolved_at__isnull=True)
    elif state == "unacknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=True)
    elif state == "acknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=False)
    elif state == "resolved":
        alerts = alerts.filter(resolved_at__isnull=False)
    return alerts


def _query_without_page(request: HtmxHttpRequest) -> str:
    """Keep the filters in the paging links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
