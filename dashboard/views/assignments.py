"""Assignment pages of one monitoring group: create, bulk-assign, edit inline, (de)activate,
delete. Techs manage the groups they belong to; admins manage every group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import lookups
from dashboard.forms import (
    AssignmentForm,
    AssignmentSettingsForm,
    BulkAssignForm,
    SettingsControls,
    settings_prefix,
    show_service_errors,
)
from dashboard.views.common import HtmxHttpRequest, active_flag
from micboard import access
from micboard.converters import is_id
from micboard.models import MonitoringGroup, Performer, PerformerAssignment, WirelessUnit
from micboard.services import PerformerAssignmentService

if TYPE_CHECKING:
    from micboard.access import AnyUser

PAGE = "dashboard/assignments.html"
DUPLICATE = "{performer} is already assigned to {unit}."
NOTHING_ASSIGNED = "Nothing was assigned: untick or fix the units named below, then assign again."
CREATE, BULK = "new", "bulk"  # the prefixes of the page's two forms
PERFORMERS_LISTED = 10  # a picker lists this many performers; a search narrows them
LONGEST_SEARCH = 100


@dataclass(frozen=True)
class PerformerPicker:
    """The performer choices of one form: a short list, narrowed by a search as you type."""

    prefix: str  # of the form
    search: str
    performers: list[Performer]
    selected: int | None
    more: bool  # more performers match than are listed
    titled: frozenset[int]  # whose title shows: a tech sees others' names only

    @property
    def field(self) -> str:
        """The name of the form's performer field, e.g. `new-performer`."""
        return f"{self.prefix}-performer"


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
    # A search sent without JavaScript comes back here, as a query of the page.
    context = {**_table_context(group), **_forms_context(request, group, search=request.GET)}
    return render(request, PAGE, context)


@login_required
@require_GET
def assignment_performers(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Answer the performer search of one of the page's forms with the performers to pick."""
    lookups.get_group_for_user(request.user, group_id)  # only the group's managers search
    prefix = request.GET.get("form", "")
    if prefix not in (CREATE, BULK):
        return HttpResponseBadRequest("form must be new or bulk.")
    picker = _performer_picker(request.user, prefix, request.GET)
    return render(request, f"{PAGE}#performer-choices", {"picker": picker})


@login_required
@require_POST
def assignment_create(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_group_for_user(request.user, group_id)
    form = _create_form(request, group, request.POST)
    if form.is_valid():
        try:
            PerformerAssignmentService.create_assignment(
                performer=form.cleaned_data["performer"],
                wireless_unit=form.cleaned_data["wireless_unit"],
                monitoring_group=group,
                by_user=request.user,
                **form.settings(),
            )
        except IntegrityError:
            form.add_error("wireless_unit", _duplicate(form.cleaned_data))
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            return _after_change(request, group, "create_form", _create_form(request, group))
    return _form_response(request, group, "create_form", form)


@login_required
@require_POST
def assignment_bulk(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Assign one performer to all chosen units or to none; name each unit that was refused."""
    group = lookups.get_group_for_user(request.user, group_id)
    form = _bulk_form(request, group, request.POST)
    if not form.is_valid():
        return _form_response(request, group, "bulk_form", form)
    try:
        PerformerAssignmentService.assign_to_units(
            performer=form.cleaned_data["performer"],
            wireless_units=form.cleaned_data["wireless_units"],
            monitoring_group=group,
            priority=form.cleaned_data["priority"],
            by_user=request.user,
        )
    except ValidationError as error:
        form.add_error(None, NOTHING_ASSIGNED)
        for problem in error.messages:
            form.add_error("wireless_units", problem)
        return _form_response(request, group, "bulk_form", form)
    return _after_change(request, group, "bulk_form", _bulk_form(request, group))


@login_required
@require_POST
def assignment_update(request: HtmxHttpRequest, assignment_id: int) -> HttpResponse:
    """Save priority, notes and alert flags from the inline form of one row."""
    assignment = lookups.get_assignment_for_user(request.user, assignment_id)
    form = AssignmentSettingsForm(request.POST, prefix=settings_prefix(assignment))
    if form.is_valid():
        try:
            PerformerAssignmentService.update_assignment(
                assignment, by_user=request.user, **form.settings()
            )
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            return _row_response(request, assignment, SettingsControls.of_assignment(assignment))
    return _row_response(request, assignment, SettingsControls.of_form(form))


@login_required
@require_POST
def assignment_set_active(request: HtmxHttpRequest, assignment_id: int) -> HttpResponse:
    assignment = lookups.get_assignment_for_user(request.user, assignment_id)
    active = active_flag(request)
    if active is None:
        return HttpResponseBadRequest("Send active=1 or active=0.")
    if active:
        PerformerAssignmentService.reactivate_assignment(assignment, by_user=request.user)
    else:
        PerformerAssignmentService.deactivate_assignment(assignment, by_user=request.user)
    return _row_response(request, assignment, SettingsControls.of_assignment(assignment))


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


def _create_form(
    request: HtmxHttpRequest, group: MonitoringGroup, data: Any = None
) -> AssignmentForm:
    return AssignmentForm(
        data,
        prefix=CREATE,
        performers=access.assignable_performers(request.user),
        units=_units_for(request.user, group),
    )


def _bulk_form(
    request: HtmxHttpRequest, group: MonitoringGroup, data: Any = None
) -> BulkAssignForm:
    return BulkAssignForm(
        data,
        prefix=BULK,
        performers=access.assignable_performers(request.user),
        units=_units_for(request.user, group),
    )


def _units_for(user: AnyUser, group: MonitoringGroup) -> QuerySet[WirelessUnit]:
    """Return the units the forms offer for `group`: those free (on no active assignment),
    those already in the group (to share) and those kept at its location.

    Not every unit the user may see: an admin sees the whole inventory, and a page that
    listed it would grow with the inventory instead of with the group.
    """
    in_use = PerformerAssignment.objects.active().values("wireless_unit_id")
    in_group = PerformerAssignment.objects.filter(monitoring_group=group)
    offered = ~Q(id__in=in_use) | Q(id__in=in_group.values("wireless_unit_id"))
    if group.location_id is not None:
        offered |= Q(location_id=group.location_id)
    return access.accessible_devices(user).filter(offered).order_by("slot", "id")


def _forms_context(
    request: HtmxHttpRequest,
    group: MonitoringGroup,
    search: Mapping[str, Any] | None = None,
    **shown: AssignmentForm | BulkAssignForm,
) -> dict[str, Any]:
    """Return both forms of the page with their pickers; `shown` replaces a fresh form
    (a form with its errors, by its context name)."""
    create = shown.get("create_form") or _create_form(request, group)
    bulk = shown.get("bulk_form") or _bulk_form(request, group)
    return {
        "create_form": create,
        "bulk_form": bulk,
        "create_picker": _picker_of(request.user, create, search),
        "bulk_picker": _picker_of(request.user, bulk, search),
    }


def _picker_of(
    user: AnyUser, form: AssignmentForm | BulkAssignForm, search: Mapping[str, Any] | None = None
) -> PerformerPicker:
    """Return the picker of a form: as it was posted, as `search` asks, or fresh."""
    data = form.data if form.is_bound else search
    return _performer_picker(user, form.prefix or "", data or {})


def _performer_picker(user: AnyUser, prefix: str, data: Mapping[str, Any]) -> PerformerPicker:
    """List the assignable performers matching the form's search, the chosen one first."""
    field = f"{prefix}-performer"
    search = data.get(f"{field}_search", "").strip()[:LONGEST_SEARCH]
    assignable = access.assignable_performers(user)
    readable = access.managed_performers(user)
    matches = assignable
    if search:
        by_title = Q(title__folded=search, id__in=readable.values("id"))
        matches = matches.filter(Q(name__folded=search) | by_title)
    listed = list(matches.order_by("name", "id")[: PERFORMERS_LISTED + 1])
    more = len(listed) > PERFORMERS_LISTED
    del listed[PERFORMERS_LISTED:]
    raw = data.get(field, "")
    selected = int(raw) if is_id(raw) else None
    if selected is not None and all(performer.pk != selected for performer in listed):
        # A new search must not silently drop the choice already made.
        chosen = assignable.filter(pk=selected).first()
        if chosen is None:
            selected = None  # out of scope answers like missing: nothing is shown
        else:
            listed.insert(0, chosen)
    titled = readable.filter(pk__in=[performer.pk for performer in listed])
    return PerformerPicker(
        prefix, search, listed, selected, more, frozenset(titled.values_list("pk", flat=True))
    )


def _table_context(group: MonitoringGroup) -> dict[str, Any]:
    assignments = (
        PerformerAssignment.objects.filter(monitoring_group=group)
        .select_related("performer", "wireless_unit")
        .order_by("wireless_unit__slot", "performer__name", "id")
    )
    rows = [(assignment, SettingsControls.of_assignment(assignment)) for assignment in assignments]
    return {"group": group, "rows": rows}


def _duplicate(data: dict[str, Any]) -> str:
    return DUPLICATE.format(performer=data["performer"], unit=data["wireless_unit"])


def _form_response(
    request: HtmxHttpRequest, group: MonitoringGroup, name: str, form: Any, *, changed: bool = False
) -> HttpResponse:
    """Show a form again with its errors; with `changed`, refresh the table too."""
    if not request.htmx:
        forms = _forms_context(request, group, **{name: form})
        return render(request, PAGE, {**_table_context(group), **forms})
    picker = "create_picker" if name == "create_form" else "bulk_picker"
    context = {"group": group, name: form, picker: _picker_of(request.user, form)}
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
    request: HtmxHttpRequest, assignment: PerformerAssignment, settings: SettingsControls
) -> HttpResponse:
    if not request.htmx:
        return redirect("group-assignments", assignment.monitoring_group_id)
    context = {"assignment": assignment, "settings": settings}
    return render(request, f"{PAGE}#assignment-row", context)
