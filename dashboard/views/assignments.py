"""Assignment pages of one monitoring group: create, bulk-assign, edit inline, (de)activate,
delete. Techs manage the groups they belong to; admins manage every group.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import lookups
from dashboard.forms import (
    AssignmentForm,
    AssignmentSettingsForm,
    BulkAssignForm,
    show_service_errors,
)
from dashboard.views.common import HtmxHttpRequest
from micboard import access
from micboard.models import MonitoringGroup, PerformerAssignment
from micboard.services import PerformerAssignmentService

PAGE = "dashboard/assignments.html"
DUPLICATE = "{performer} is already assigned to {unit}."


@login_required
@require_GET
def assignment_index(request: HtmxHttpRequest) -> HttpResponse:
    groups = list(access.monitoring_groups(request.user))
    if len(groups) == 1:
        return redirect("group-assignments", groups[0].pk)
    return render(request, "dashboard/assignment_groups.html", {"groups": groups})


@login_required
@require_GET
def group_assignments(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_group_for_user(request.user, group_id)
    context = {
        **_table_context(group),
        "create_form": _create_form(request),
        "bulk_form": _bulk_form(request),
    }
    return render(request, PAGE, context)


@login_required
@require_POST
def assignment_create(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_group_for_user(request.user, group_id)
    form = _create_form(request, request.POST)
    if form.is_valid():
        try:
            PerformerAssignmentService.create_assignment(
                performer=form.cleaned_data["performer"],
                wireless_unit=form.cleaned_data["wireless_unit"],
                monitoring_group=group,
                assigned_by=request.user,
                **form.settings(),
            )
        except IntegrityError:
            form.add_error("wireless_unit", _duplicate(form.cleaned_data))
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            return _after_change(request, group, "create_form", _create_form(request))
    return _form_response(request, group, "create_form", form)


@login_required
@require_POST
def assignment_bulk(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Assign one performer to each chosen unit; report each unit that could not be."""
    group = lookups.get_group_for_user(request.user, group_id)
    form = _bulk_form(request, request.POST)
    if not form.is_valid():
        return _form_response(request, group, "bulk_form", form)
    performer = form.cleaned_data["performer"]
    problems = []
    for unit in form.cleaned_data["wireless_units"]:
        try:
            PerformerAssignmentService.create_assignment(
                performer=performer,
                wireless_unit=unit,
                monitoring_group=group,
                priority=form.cleaned_data["priority"],
                assigned_by=request.user,
            )
        except IntegrityError:
            problems.append(DUPLICATE.format(performer=performer, unit=unit))
        except ValidationError as error:
            problems.append(f"{unit}: {' '.join(error.messages)}")
    for problem in problems:
        form.add_error("wireless_units", problem)
    if problems:
        return _form_response(request, group, "bulk_form", form, changed=True)
    return _after_change(request, group, "bulk_form", _bulk_form(request))


@login_required
@require_POST
def assignment_update(request: HtmxHttpRequest, assignment_id: int) -> HttpResponse:
    """Save priority, notes and alert flags from the inline form of one row."""
    assignment = lookups.get_assignment_for_user(request.user, assignment_id)
    form = AssignmentSettingsForm(request.POST, prefix=f"a{assignment.pk}")
    if form.is_valid():
        try:
            PerformerAssignmentService.update_assignment(
                assignment, by_user=request.user, **form.settings()
            )
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            form = _settings_form(assignment)
    return _row_response(request, assignment, form)


@login_required
@require_POST
def assignment_set_active(request: HtmxHttpRequest, assignment_id: int) -> HttpResponse:
    assignment = lookups.get_assignment_for_user(request.user, assignment_id)
    if request.POST.get("active") == "1":
        PerformerAssignmentService.reactivate_assignment(assignment, by_user=request.user)
    else:
        PerformerAssignmentService.deactivate_assignment(assignment, by_user=request.user)
    return _row_response(request, assignment, _settings_form(assignment))


@login_required
@require_http_methods(["GET", "POST"])
def assignment_delete(request: HtmxHttpRequest, assignment_id: int) -> HttpResponse:
    assignment = lookups.get_assignment_for_user(request.user, assignment_id)
    group_id = assignment.monitoring_group_id
    if request.method == "GET":
        return render(request, "dashboard/assignment_delete.html", {"assignment": assignment})
    PerformerAssignmentService.delete_assignment(assignment, by_user=request.user)
    if request.htmx:
        return HttpResponse("")  # the row is swapped for nothing
    return redirect("group-assignments", group_id)


def _create_form(request: HtmxHttpRequest, data: Any = None) -> AssignmentForm:
    return AssignmentForm(
        data,
        prefix="new",
        performers=lookups.assignable_performers(request.user),
        units=access.accessible_devices(request.user),
    )


def _bulk_form(request: HtmxHttpRequest, data: Any = None) -> BulkAssignForm:
    return BulkAssignForm(
        data,
        prefix="bulk",
        performers=lookups.assignable_performers(request.user),
        units=access.accessible_devices(request.user),
    )


def _settings_form(assignment: PerformerAssignment) -> AssignmentSettingsForm:
    initial = {name: getattr(assignment, name) for name in AssignmentSettingsForm.base_fields}
    return AssignmentSettingsForm(initial=initial, prefix=f"a{assignment.pk}")


def _table_context(group: MonitoringGroup) -> dict[str, Any]:
    assignments = (
        PerformerAssignment.objects.filter(monitoring_group=group)
        .select_related("performer", "wireless_unit")
        .order_by("wireless_unit__slot", "performer__name", "id")
    )
    rows = [(assignment, _settings_form(assignment)) for assignment in assignments]
    return {"group": group, "rows": rows}


def _duplicate(data: dict[str, Any]) -> str:
    return DUPLICATE.format(performer=data["performer"], unit=data["wireless_unit"])


def _form_response(
    request: HtmxHttpRequest, group: MonitoringGroup, name: str, form: Any, *, changed: bool = False
) -> HttpResponse:
    """Show a form again with its errors; with `changed`, refresh the table too."""
    if not request.htmx:
        forms = {"create_form": _create_form(request), "bulk_form": _bulk_form(request)}
        return render(request, PAGE, {**_table_context(group), **forms, name: form})
    context = {"group": group, name: form}
    partial = "assignment-create" if name == "create_form" else "assignment-bulk"
    html = render(request, f"{PAGE}#{partial}", context).content.decode()
    if changed:
        html += _oob_table(request, group)
    return HttpResponse(html)


def _after_change(
    request: HtmxHttpRequest, group: MonitoringGroup, name: str, fresh_form: Any
) -> HttpResponse:
    if not request.htmx:
        return redirect("group-assignments", group.pk)
    return _form_response(request, group, name, fresh_form, changed=True)


def _oob_table(request: HtmxHttpRequest, group: MonitoringGroup) -> str:
    context = {**_table_context(group), "oob": True}
    return render(request, f"{PAGE}#assignment-table", context).content.decode()


def _row_response(
    request: HtmxHttpRequest, assignment: PerformerAssignment, form: AssignmentSettingsForm
) -> HttpResponse:
    if not request.htmx:
        return redirect("group-assignments", assignment.monitoring_group_id)
    context = {"assignment": assignment, "form": form}
    return render(request, f"{PAGE}#assignment-row", context)
