"""Show prep pages: a shared unit's turns and hand-over, and the group's mic check."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import lookups, mic_check
from dashboard.views.common import HtmxHttpRequest
from micboard import access
from micboard.converters import is_id
from micboard.models import MonitoringGroup, Performer
from micboard.services import MicCheckService, SharedMicService
from micboard.services.shared_mics import STALE
from micboard.showprep.models import MicCheck
from micboard.showprep.order import now_index

TURN_VERBS = ("add", "up", "down", "remove")
CHECKED_FLAGS = {"1": True, "0": False}
EARLIER_CHECKS_SHOWN = 10


# --- shared mics -------------------------------------------------------------------------


@login_required
@require_POST
def hand_over(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Pass a shared unit (`unit`) on from who has it now (`current`, their assignment) to
    the next performer; every wall of the group redraws its tile."""
    group = lookups.get_group_for_user(request.user, group_id)
    raw_unit, raw = request.POST.get("unit", ""), request.POST.get("current", "")
    if not is_id(raw_unit) or not is_id(raw):
        return HttpResponseBadRequest("Send unit (a unit id) and current (who has it now).")
    unit = lookups.get_unit_for_user(request.user, int(raw_unit))
    context: dict[str, Any] = {"group": group}
    try:
        turn = SharedMicService.hand_over(
            group, unit, expected_current=int(raw), by_user=request.user
        )
    except ValidationError as error:
        context["error"] = " ".join(error.messages)
        stale = getattr(error, "code", None) == STALE
        return _hand_over_status(request, context, status=409 if stale else 400)
    context.update(unit=unit, performer=turn.assignment.performer)
    if request.htmx:
        return _hand_over_status(request, context, status=200)
    return redirect("wall", group.pk)


def _hand_over_status(
    request: HttpRequest, context: dict[str, Any], *, status: int
) -> HttpResponse:
    return render(request, "dashboard/wall_parts.html#hand-over-status", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def shared_mics(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Show and edit the order of each unit's turns: `action=<verb>:<assignment id>`."""
    group = lookups.get_admin_group(request.user, group_id)
    if request.method == "POST":
        error = _edit_turns(request, group)
        if error is not None:
            return HttpResponseBadRequest(error)
        if not request.htmx:
            return redirect("shared-mics", group.pk)
    template = "dashboard/shared_mics.html" + ("#shared-mics" if request.htmx else "")
    units = _units_with_wearers(request, group)
    return render(request, template, {"group": group, "units": units})


def _edit_turns(request: HttpRequest, group: MonitoringGroup) -> str | None:
    """Apply one edit; return what was wrong with it, or None."""
    verb, _, raw_id = request.POST.get("action", "").partition(":")
    if verb not in TURN_VERBS or not is_id(raw_id):
        return "action must be add, up, down or remove, a colon and an assignment id."
    assignment = lookups.get_assignment_for_user(request.user, int(raw_id))
    if assignment.monitoring_group_id != group.pk:
        return "That assignment is not in this group."
    try:
        if verb == "add":
            SharedMicService.add_turn(assignment, by_user=request.user)
        elif verb == "remove":
            SharedMicService.remove_turn(assignment, by_user=request.user)
        else:
            offset = -1 if verb == "up" else 1
            SharedMicService.move_turn(assignment, offset, by_user=request.user)
    except ValidationError as error:
        return " ".join(error.messages)
    return None


def _units_with_wearers(request: HttpRequest, group: MonitoringGroup) -> list[dict[str, Any]]:
    """Return each unit of the wall with its turns in order and the assignments without one."""
    rows = (
        access.accessible_assignments(request.user)
        .active()
        .filter(monitoring_group=group)
        .select_related("performer", "wireless_unit", "turn")
        .order_by("wireless_unit__slot", "wireless_unit_id", "performer__name")
    )
    units: dict[int, dict[str, Any]] = {}
    for assignment in rows:
        entry = units.setdefault(
            assignment.wireless_unit_id,
            {"unit": assignment.wireless_unit, "turns": [], "others": []},
        )
        has_turn = hasattr(assignment, "turn")
        entry["turns" if has_turn else "others"].append(assignment)
    for entry in units.values():
        entry["turns"].sort(key=lambda a: (a.turn.position, a.turn.pk))
        flags = [a.turn.is_current for a in entry["turns"]]
        entry["now"] = entry["turns"][now_index(flags)].pk if flags else None
    return list(units.values())


# --- mic check ---------------------------------------------------------------------------


@login_required
@require_GET
def mic_check_page(request: HttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_group_for_user(request.user, group_id)
    checks = list(MicCheck.objects.filter(monitoring_group=group)[: EARLIER_CHECKS_SHOWN + 1])
    context = _check_context(request, group, checks[0] if checks else None)
    context["earlier"] = _earlier(checks[1:])
    return render(request, "dashboard/mic_check.html", context)


@login_required
@require_GET
def mic_check_rows(request: HttpRequest, group_id: int) -> HttpResponse:
    """Answer the list's polling: the rows with the readings of now."""
    group = lookups.get_group_for_user(request.user, group_id)
    context = _check_context(request, group, MicCheckService.get_current_check(group))
    return render(request, "dashboard/mic_check.html#mic-check-rows", context)


@login_required
@require_POST
def mic_check_tick(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Tick (`checked=1`) or untick (`checked=0`) one unit of the current check."""
    group = lookups.get_group_for_user(request.user, group_id)
    raw_unit = request.POST.get("unit", "")
    checked = CHECKED_FLAGS.get(request.POST.get("checked", ""))
    if not is_id(raw_unit) or checked is None:
        return HttpResponseBadRequest("Send unit (a unit id) and checked (1 or 0).")
    unit = lookups.get_unit_for_user(request.user, int(raw_unit))
    try:
        if checked:
            MicCheckService.tick(group, unit, by_user=request.user)
        else:
            MicCheckService.untick(group, unit, by_user=request.user)
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages))
    if not request.htmx:
        return redirect("mic-check", group.pk)
    context = _check_context(request, group, MicCheckService.get_current_check(group))
    return render(request, "dashboard/mic_check.html#mic-check-rows", context)


@login_required
@require_POST
def mic_check_new(request: HttpRequest, group_id: int) -> HttpResponse:
    """Start over with nothing ticked; the finished check stays listed below."""
    group = lookups.get_group_for_user(request.user, group_id)
    MicCheckService.start_check(group, by_user=request.user)
    return redirect("mic-check", group.pk)


def _check_context(
    request: HttpRequest, group: MonitoringGroup, check: MicCheck | None
) -> dict[str, Any]:
    rows = mic_check.check_rows(group, check, photo_url=_photo_url)
    # One hidden CSRF field for every row's form: `{% csrf_token %}` per row cost more
    # than printing the row.
    csrf_field = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )
    return {
        "csrf_field": csrf_field,
        "group": group,
        "check": check,
        "rows": rows,
        "checked_count": sum(1 for row in rows if row.checked),
        "tick_url": reverse("mic-check-tick", args=[group.pk]),  # once, not once per row
    }


def _earlier(checks: list[MicCheck]) -> list[MicCheck]:
    """Return the earlier checks with `ticked`, their number of ticks, in one query."""
    ids = [c.pk for c in checks]
    counted = MicCheck.objects.filter(pk__in=ids).annotate(ticked=Count("ticks"))
    return list(counted.select_related("started_by").order_by("-started_at", "-pk"))


def _photo_url(performer: Performer) -> str:
    return reverse("performer-photo", args=[performer.pk])
