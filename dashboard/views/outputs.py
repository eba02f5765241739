"""A group's outputs page, for the admins who administer the group: list, add, edit,
enable or disable, delete, send a test event, and the delivery log (an htmx partial)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import lookups
from dashboard.forms import output_form_class, output_initial, output_values, show_output_errors
from dashboard.views.common import HtmxHttpRequest, active_flag
from micboard import access
from micboard.integrations.drivers import DRIVERS
from micboard.integrations.kinds import EVENT_LABELS
from micboard.integrations.models import DeliveryAttempt, Output
from micboard.integrations.types import Driver
from micboard.models import MonitoringGroup
from micboard.services import OutputService
from micboard.services.outputs import stored_secret_names

PAGE = "dashboard/outputs.html"
FORM_PAGE = "dashboard/output_form.html"
LOG_ROWS = 50


@login_required
@require_GET
def group_outputs(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_admin_group(request.user, group_id)
    return render(request, PAGE, _context(request, group))


@login_required
@require_GET
def output_log(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_admin_group(request.user, group_id)
    return render(request, f"{PAGE}#output-log", _context(request, group))


@login_required
@require_http_methods(["GET", "POST"])
def output_create(request: HtmxHttpRequest, group_id: int, kind: str) -> HttpResponse:
    group = lookups.get_admin_group(request.user, group_id)
    driver = _driver(kind)
    form_class = output_form_class(driver, editing=False)
    if request.method == "GET":
        form = form_class(initial={"events": list(EVENT_LABELS)})
        return _form_page(request, group, driver, form, None)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            OutputService.create_output(group, kind, **output_values(form), by_user=request.user)
        except ValidationError as error:
            show_output_errors(form, error)
        else:
            return redirect("group-outputs", group_id=group.pk)
    return _form_page(request, group, driver, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def output_edit(request: HtmxHttpRequest, output_id: int) -> HttpResponse:
    output = lookups.get_output_for_admin(request.user, output_id)
    driver = _driver(output.kind)
    form_class = output_form_class(driver, editing=True)
    if request.method == "GET":
        form = form_class(initial=output_initial(output))
        return _form_page(request, output.monitoring_group, driver, form, output)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            OutputService.update_output(output, **output_values(form), by_user=request.user)
        except ValidationError as error:
            show_output_errors(form, error)
        else:
            return redirect("group-outputs", group_id=output.monitoring_group_id)
    return _form_page(request, output.monitoring_group, driver, form, output)


@login_required
@require_POST
def output_set_enabled(request: HtmxHttpRequest, output_id: int) -> HttpResponse:
    output = lookups.get_output_for_admin(request.user, output_id)
    enabled = active_flag(request)
    if enabled is None:
        return HttpResponseBadRequest("Send active=1 (enable) or active=0 (disable).")
    OutputService.set_enabled(output, enabled, by_user=request.user)
    return _part(request, output.monitoring_group)


@login_required
@require_POST
def output_delete(request: HtmxHttpRequest, output_id: int) -> HttpResponse:
    output = lookups.get_output_for_admin(request.user, output_id)
    group, name = output.monitoring_group, output.name
    OutputService.delete_output(output, by_user=request.user)
    return _part(request, group, message=f"{name} deleted.")


@login_required
@require_POST
def output_test(request: HtmxHttpRequest, output_id: int) -> HttpResponse:
    output = lookups.get_output_for_admin(request.user, output_id)
    OutputService.send_test_event(output, by_user=request.user)
    message = f"Test event sent to {output.name}: its delivery shows in the log below."
    return _part(request, output.monitoring_group, message=message)


def _driver(kind: str) -> type[Driver]:
    driver = DRIVERS.get(kind)
    if driver is None:
        raise Http404("Not found.")
    return driver


def _form_page(
    request: HtmxHttpRequest,
    group: MonitoringGroup,
    driver: type[Driver],
    form: Any,
    output: Output | None,
) -> HttpResponse:
    context = {
        "group": group,
        "driver": driver,
        "form": form,
        "output": output,
        "stored_secrets": stored_secret_names(output) if output is not None else [],
    }
    return render(request, FORM_PAGE, context)


def _context(request: HtmxHttpRequest, group: MonitoringGroup, **overrides: Any) -> dict[str, Any]:
    outputs = access.administered_outputs(request.user).filter(monitoring_group=group)
    attempts = DeliveryAttempt.objects.filter(output__in=outputs).select_related("output")
    context = {
        "group": group,
        "outputs": outputs,
        "attempts": attempts[:LOG_ROWS],
        "drivers": [(kind, driver.label) for kind, driver in DRIVERS.items()],
        "message": "",
    }
    context.update(overrides)
    return context


def _part(request: HtmxHttpRequest, group: MonitoringGroup, **overrides: Any) -> HttpResponse:
    """Answer htmx with the outputs section; a plain form post gets the whole page."""
    template = f"{PAGE}#outputs" if request.htmx else PAGE
    return render(request, template, _context(request, group, **overrides))
