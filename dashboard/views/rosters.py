"""Roster pages for admins: the Planning Center connection and schedule (/rosters/), and per
group the position pools, a dry run and its apply, from Planning Center or a CSV file.

Planning Center's failures (a token that stopped working, rate limits, no answer) are
messages on the page, never a 500; the token is write-only: no page renders it back.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from dashboard import lookups
from dashboard.forms import show_service_errors
from dashboard.roster_forms import (
    PcoConnectForm,
    PoolForm,
    RosterCsvApplyForm,
    RosterCsvForm,
    RosterScheduleForm,
    RosterSyncForm,
)
from dashboard.views.common import HtmxHttpRequest
from micboard import access
from micboard.models import MonitoringGroup
from micboard.rosters.models import SyncRun
from micboard.rosters.pco import PcoError
from micboard.services import RosterService, performer_csv, roster_csv
from micboard.services.rosters import Roster

HOME = "dashboard/rosters.html"
# What the result section may show; each view sets the ones it has.
RESULT_DEFAULTS: dict[str, Any] = {
    "plan": None,
    "applied": None,
    "error": "",
    "csv_errors": [],
    "apply_form": None,
    "csv_apply_form": None,
    "plans": [],
    "plans_error": "",
}
GROUP = "dashboard/roster_group.html"


# --- the connection and the schedule -------------------------------------------------------


@login_required
@require_GET
def roster_home(request: HtmxHttpRequest) -> HttpResponse:
    access.require_roster_admin(request.user)
    return render(request, HOME, _home_context(request))


# Django's error reports (a 500 mailed or logged) show the secret as stars.
@sensitive_post_parameters("secret")
@login_required
@require_POST
def roster_connect(request: HtmxHttpRequest) -> HttpResponse:
    access.require_roster_admin(request.user)
    form = PcoConnectForm(request.POST)
    if form.is_valid():
        try:
            RosterService.connect(
                form.cleaned_data["app_id"], form.cleaned_data["secret"], by_user=request.user
            )
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            form = PcoConnectForm()
    return _home_part(request, connect_form=form)


@login_required
@require_POST
def roster_disconnect(request: HtmxHttpRequest) -> HttpResponse:
    access.require_roster_admin(request.user)
    RosterService.disconnect(by_user=request.user)
    return _home_part(request)


@login_required
@require_POST
def roster_schedule(request: HtmxHttpRequest) -> HttpResponse:
    access.require_roster_admin(request.user)
    context = _home_context(request)
    form = _schedule_form(request, context["service_types"], data=request.POST)
    if form.is_valid():
        try:
            RosterService.configure_schedule(
                form.cleaned_data["service_type_id"],
                form.cleaned_data["group"],
                form.cleaned_data["status_filter"],
                by_user=request.user,
            )
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            context["schedule_saved"] = True
    context["schedule_form"] = form
    return _render_part(request, HOME, "pco-connection", context)


@login_required
@require_GET
def roster_plans(request: HtmxHttpRequest) -> HttpResponse:
    """The plan picker's options for the chosen service type."""
    access.require_roster_admin(request.user)
    service_type_id = request.GET.get("service_type_id", "")
    plans, error = [], ""
    if service_type_id.isdigit():
        try:
            plans = RosterService.plans(service_type_id, by_user=request.user)
        except PcoError as failure:
            error = str(failure)
    context = {"plans": plans, "plans_error": error, "plan_id": ""}
    return render(request, f"{GROUP}#roster-plans", context)


# --- a group's roster ----------------------------------------------------------------------


@login_required
@require_GET
def roster_group(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_roster_group(request.user, group_id)
    return render(request, GROUP, _group_context(request, group))


@login_required
@require_POST
def roster_pool_save(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_roster_group(request.user, group_id)
    form = PoolForm(request.POST, units=access.accessible_devices(request.user))
    if form.is_valid():
        try:
            RosterService.save_pool(
                group,
                form.cleaned_data["position_name"],
                form.cleaned_data["units"],
                by_user=request.user,
            )
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            form = _pool_form(request)
    return _group_part(request, group, "roster-pools", pool_form=form)


@login_required
@require_POST
def roster_pool_delete(request: HtmxHttpRequest, pool_id: int) -> HttpResponse:
    pool = lookups.get_pool_for_admin(request.user, pool_id)
    group = pool.monitoring_group
    RosterService.delete_pool(pool, by_user=request.user)
    return _group_part(request, group, "roster-pools")


@login_required
@require_POST
def roster_dry_run(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Fetch the plan and show what a sync would change; nothing changes."""
    group = lookups.get_roster_group(request.user, group_id)
    form = RosterSyncForm(request.POST)
    context: dict[str, Any] = {"sync_form": form}
    if form.is_valid():
        data = form.cleaned_data
        try:
            roster = _fetch(request, data)
        except PcoError as error:
            context["error"] = str(error)
        else:
            plan = RosterService.plan_sync(
                roster, group, data["status_filter"], by_user=request.user
            )
            context["plan"] = plan
            context["apply_form"] = RosterSyncForm(
                initial={**data, "fingerprint": plan.fingerprint}
            )
    return _group_part(request, group, "roster-result", **context)


@login_required
@require_POST
def roster_apply(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_roster_group(request.user, group_id)
    form = RosterSyncForm(request.POST)
    context: dict[str, Any] = {"sync_form": form}
    if form.is_valid():
        data = form.cleaned_data
        try:
            roster = _fetch(request, data)
            context["applied"] = RosterService.apply_sync(
                roster,
                group,
                data["status_filter"],
                expected=data["fingerprint"],
                by_user=request.user,
            )
        except PcoError as error:
            context["error"] = str(error)
            RosterService.record_failure(group, "Planning Center", str(error), by_user=request.user)
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
    return _group_part(request, group, "roster-result", **context)


@login_required
@require_POST
def roster_csv_upload(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Upload a roster CSV for its dry run; post the previewed content back to apply it."""
    group = lookups.get_roster_group(request.user, group_id)
    if "content" in request.POST:
        return _apply_csv(request, group)
    form = RosterCsvForm(request.POST, request.FILES)
    context: dict[str, Any] = {"csv_form": form}
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = performer_csv.decode_upload(upload.read())
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            context.update(_csv_dry_run(request, group, text, upload.name[:200]))
    return _group_part(request, group, "roster-result", **context)


def _apply_csv(request: HtmxHttpRequest, group: MonitoringGroup) -> HttpResponse:
    form = RosterCsvApplyForm(request.POST)
    context: dict[str, Any] = {}
    if not form.is_valid():
        context["csv_errors"] = ["The dry run's file did not come back whole; upload it again."]
        return _group_part(request, group, "roster-result", **context)
    data = form.cleaned_data
    read = roster_csv.read_roster(data["content"], f"{data['name']} (CSV)")
    if read.roster is None:
        context["csv_errors"] = read.errors
        return _group_part(request, group, "roster-result", **context)
    try:
        context["applied"] = RosterService.apply_sync(
            read.roster, group, expected=data["fingerprint"], by_user=request.user
        )
    except ValidationError as error:
        context["error"] = " ".join(error.messages)
    return _group_part(request, group, "roster-result", **context)


def _csv_dry_run(
    request: HtmxHttpRequest, group: MonitoringGroup, text: str, name: str
) -> dict[str, Any]:
    read = roster_csv.read_roster(text, f"{name} (CSV)")
    if read.roster is None:
        return {"csv_errors": read.errors}
    plan = RosterService.plan_sync(read.roster, group, by_user=request.user)
    initial = {"content": text, "name": name, "fingerprint": plan.fingerprint}
    return {"plan": plan, "csv_apply_form": RosterCsvApplyForm(initial=initial)}


# --- pieces --------------------------------------------------------------------------------


def _fetch(request: HtmxHttpRequest, data: dict[str, Any]) -> Roster:
    return RosterService.fetch_plan(data["service_type_id"], data["plan_id"], by_user=request.user)


def _home_context(request: HtmxHttpRequest, **overrides: Any) -> dict[str, Any]:
    connection = RosterService.get_connection()
    service_types: list[tuple[str, str]] = []
    error = ""
    if connection is not None:
        try:
            types = RosterService.service_types(by_user=request.user)
        except PcoError as failure:
            error = str(failure)
        else:
            service_types = [(t.id, t.name) for t in types]
    context: dict[str, Any] = {
        "connection": connection,
        "connect_form": PcoConnectForm(),
        "pco_error": error,
        "service_types": service_types,
        "groups": access.roster_groups(request.user),
        "schedule_saved": False,
    }
    context["schedule_form"] = _schedule_form(request, service_types, connection=connection)
    context.update(overrides)
    return context


def _schedule_form(
    request: HtmxHttpRequest, service_types: list[tuple[str, str]], **kwargs: Any
) -> RosterScheduleForm:
    connection = kwargs.pop("connection", None)
    if connection is not None:
        kwargs["initial"] = {
            "service_type_id": connection.service_type_id,
            "group": connection.schedule_group_id,
            "status_filter": connection.status_filter,
        }
    groups = access.roster_groups(request.user)
    return RosterScheduleForm(groups=groups, service_types=service_types, **kwargs)


def _home_part(request: HtmxHttpRequest, **overrides: Any) -> HttpResponse:
    return _render_part(request, HOME, "pco-connection", _home_context(request, **overrides))


def _pool_form(request: HtmxHttpRequest) -> PoolForm:
    return PoolForm(units=access.accessible_devices(request.user))


def _group_context(
    request: HtmxHttpRequest, group: MonitoringGroup, **overrides: Any
) -> dict[str, Any]:
    connection = RosterService.get_connection()
    initial = {
        "service_type_id": connection.service_type_id if connection else "",
        "status_filter": connection.status_filter if connection else "confirmed",
    }
    context: dict[str, Any] = {
        "group": group,
        "connection": connection,
        "pools": group.position_pools.prefetch_related("slots__wireless_unit"),
        "pool_form": _pool_form(request),
        "sync_form": RosterSyncForm(initial=initial),
        "csv_form": RosterCsvForm(),
        "last_run": SyncRun.objects.filter(monitoring_group=group).first(),
        **RESULT_DEFAULTS,
        "plan_id": request.POST.get("plan_id", "")[:20],
    }
    context.update(overrides)
    return context


def _group_part(
    request: HtmxHttpRequest, group: MonitoringGroup, part: str, **overrides: Any
) -> HttpResponse:
    return _render_part(request, GROUP, part, _group_context(request, group, **overrides))


def _render_part(
    request: HtmxHttpRequest, template: str, part: str, context: dict[str, Any]
) -> HttpResponse:
    """Answer htmx with the one section it targets; a plain form post gets the whole page."""
    return render(request, f"{template}#{part}" if request.htmx else template, context)
