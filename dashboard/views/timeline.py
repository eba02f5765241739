"""The timeline's views: a group's and a unit's timeline page and their data, and a tech's
marker from the wall (docs/timeline.md)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from dashboard import lookups, walls
from dashboard.views.common import HtmxHttpRequest
from micboard import access
from micboard.models import MonitoringGroup
from micboard.services import TimelineService
from micboard.timeline import query, report

DEFAULT_RANGE = 3600  # s: a page opens on the last hour, following now
SPANS = [(7 * 86400, "7 d"), (86400, "1 d"), (3 * 3600, "3 h"), (3600, "1 h"), (600, "10 min"),
         (60, "1 min")]  # fmt: skip


@login_required
@require_POST
def marker_add(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_group_for_user(request.user, group_id)
    context: dict[str, object] = {"group": group}
    try:
        context["marker"] = TimelineService.add_marker(
            group, request.POST.get("label", ""), by_user=request.user
        )
    except ValidationError as error:
        context["error"] = " ".join(error.messages)
    if request.htmx or "error" in context:
        status = 400 if "error" in context else 200
        return render(request, "dashboard/wall_parts.html#marker-status", context, status=status)
    return redirect("wall", group.pk)


@login_required
@require_GET
def group_timeline(request: HttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_group_for_user(request.user, group_id)
    context = {
        "title": group.name,
        "group": group,
        "units": _group_units(group),
        "data_url": reverse("group-timeline-data", args=[group.pk]),
        "spans": SPANS,
    }
    return render(request, "dashboard/timeline.html", context)


@login_required
@require_GET
def group_timeline_data(request: HttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_group_for_user(request.user, group_id)
    unit_ids = [unit["id"] for unit in _group_units(group)]
    return _data(request, group, unit_ids)


@login_required
@require_GET
def unit_timeline(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = lookups.get_unit_for_user(request.user, unit_id)
    context = {
        "title": str(unit),
        "unit": unit,
        "units": [{"id": unit.pk, "label": str(unit)}],
        "data_url": reverse("unit-timeline-data", args=[unit.pk]),
        "spans": SPANS,
    }
    return render(request, "dashboard/timeline.html", context)


@login_required
@require_GET
def unit_timeline_data(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = lookups.get_unit_for_user(request.user, unit_id)
    return _data(request, None, [unit.pk])


def _data(request: HttpRequest, group: MonitoringGroup | None, unit_ids: list[int]) -> HttpResponse:
    now = time.time()
    try:
        start, end = _range(request, now)
        view = _view(request, start, end)
    except ValueError:
        return HttpResponseBadRequest(
            "start and end must be whole seconds, start before end; view at most that long"
        )
    body = query.lanes(unit_ids, start, end, now, view=view)
    body["rules"] = query.step_rules(now)
    body["events"] = query.events(access.visible_alerts(request.user), group, unit_ids, start, end)
    body["now"] = now
    # orjson: the answer holds tens of thousands of numbers, several times faster to encode.
    return HttpResponse(orjson.dumps(body), content_type="application/json")


def _range(request: HttpRequest, now: float) -> tuple[int, int]:
    """Return the asked [start, end) in Unix seconds (default: the last hour), at most
    the retention long."""
    end = int(request.GET.get("end") or now + 1)
    start = int(request.GET.get("start") or end - DEFAULT_RANGE)
    if start >= end:
        raise ValueError("empty range")
    longest = int(settings.MICBOARD_TIMELINE_DAYS) * 86400
    return max(start, end - longest), end


def _view(request: HttpRequest, start: int, end: int) -> int | None:
    """Return the asked view length (s): at most the range (which is cut to what is kept),
    and not AHEAD times shorter."""
    if not request.GET.get("view"):
        return None
    view = int(request.GET["view"])
    if view <= 0:
        raise ValueError("view out of range")
    view = min(view, end - start)
    if end - start > query.AHEAD * view:
        raise ValueError("view out of range")
    return view


def _group_units(group: MonitoringGroup) -> list[dict[str, Any]]:
    """The group's units in wall order, labelled as their tiles are."""
    tiles = walls.wall_tiles(group, photo_url=lambda performer: "")
    return [
        {"id": tile.unit.pk, "label": f"{tile.slot} {tile.performer_names}".strip()}
        for tile in tiles
        if tile is not None
    ]


@login_required
@require_GET
def group_report(request: HttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_group_for_user(request.user, group_id)
    try:
        start, end, ends_now = _report_range(request, group)
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    rows = report.build(group, access.visible_alerts(request.user), start, end, ends_now=ends_now)
    if request.GET.get("format") == "csv":
        response = HttpResponse(report.to_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="show-report-{group.pk}.csv"'
        return response
    context = {
        "group": group,
        "rows": rows,
        "start": timezone.localtime(start),
        "end": timezone.localtime(end),
        "csv_query": urlencode(
            {"start": _local_input(start), "end": _local_input(end), "format": "csv"}
        ),
    }
    return render(request, "dashboard/report.html", context)


def _report_range(request: HttpRequest, group: MonitoringGroup) -> tuple[datetime, datetime, bool]:
    """Return the asked range (default: from the last "show start" marker to now)."""
    now = timezone.now()
    end = _moment(request.GET.get("end")) or now
    start = _moment(request.GET.get("start")) or report.default_start(group, end)
    if start >= end:
        raise ValueError("The report's start must come before its end.")
    return start, end, now - end < timedelta(minutes=1)


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = parse_datetime(text)
    if moment is None:
        raise ValueError("Dates are written like 2026-12-03T20:00.")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _local_input(moment: datetime) -> str:
    """The value a datetime-local field shows: local time, to the second."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")
