"""The Devices page: receivers with live health, add by address, discovery, edit, remove,
and the device list's export and import. Admins only, within their organization."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from asgiref.sync import async_to_sync
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import devices, lookups
from dashboard.forms import (
    DeviceAddForm,
    DeviceImportForm,
    DeviceOptionsForm,
    DeviceProbeForm,
    show_service_errors,
)
from dashboard.views.common import HtmxHttpRequest
from micboard import access
from micboard.devicelist import parse_device_list
from micboard.devices import DeviceInfo, Protocol
from micboard.models import WirelessChassis
from micboard.services.inventory import InventoryService
from realtime.discovery.probe import DEFAULT_PORTS, ProbeFailed, probe_device

PAGE = "dashboard/devices.html"
CHANGED = "devices-changed"  # an htmx event: the table re-reads itself at once


@login_required
@require_GET
def device_list(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    return render(request, PAGE, _context(request, probe_form=DeviceProbeForm()))


@login_required
@require_GET
def device_table(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    return render(request, f"{PAGE}#device-table", _context(request))


@login_required
@require_GET
def device_discovered(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    if not access.sees_discovered_devices(request.user):
        raise Http404("Not found.")
    return render(request, f"{PAGE}#discovered", _context(request))


@login_required
@require_POST
def device_probe(request: HtmxHttpRequest) -> HttpResponse:
    """Ask the receiver at an address who it is, and show what it said before saving."""
    access.require_admin(request.user)
    form = DeviceProbeForm(request.POST)
    context: dict[str, Any] = {"probe_form": form}
    if form.is_valid():
        data = form.cleaned_data
        protocol = Protocol(data["protocol"])
        port = data["port"] or DEFAULT_PORTS[protocol]
        try:
            info = async_to_sync(probe_device)(protocol, data["host"], port, serial=data["serial"])
        except ProbeFailed as failure:
            form.add_error(None, f"{data['host']}:{port} could not be identified: {failure}.")
        else:
            context |= _probed(info)
    return _part(request, "add-device", **context)


@login_required
@require_POST
def device_add(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    form = DeviceAddForm(request.POST)
    try:
        info = devices.unsign_probe(request.POST.get("probed", ""))
    except (signing.BadSignature, ValueError):
        stale = "That probe result is too old or was changed: probe again."
        return _part(request, "add-device", probe_form=DeviceProbeForm(), add_error=stale)
    if not form.is_valid():
        return _part(request, "add-device", probe_form=DeviceProbeForm(), info=info, add_form=form)
    try:
        chassis = _add(info, form.cleaned_data, request)
    except ValidationError as error:
        show_service_errors(form, error)
        return _part(request, "add-device", probe_form=DeviceProbeForm(), info=info, add_form=form)
    done = f"{chassis.name} was added with {len(info.channels)} channels."
    return _part(request, "add-device", changed=True, probe_form=DeviceProbeForm(), added=done)


@login_required
@require_POST
def device_add_found(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    found = _found_or_404(request)
    if found.info is None:
        problem = f"It could not be identified ({found.problem}); add it by address."
        return _part(request, "discovered", discovered_error=problem)
    try:
        chassis = _add(found.info, {}, request)
    except ValidationError as error:
        return _part(request, "discovered", discovered_error=" ".join(error.messages))
    done = f"{chassis.name} was added with {len(found.info.channels)} channels."
    return _part(request, "discovered", changed=True, discovered_added=done)


@login_required
@require_POST
def device_ignore(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    found = _found_or_404(request)
    model = found.info.model if found.info else found.sighting.hint
    InventoryService.ignore_device(
        found.sighting.protocol, found.identity, model, by_user=request.user
    )
    return _part(request, "discovered")


@login_required
@require_http_methods(["GET", "POST"])
def device_edit(request: HtmxHttpRequest, chassis_id: int) -> HttpResponse:
    chassis = lookups.get_chassis_for_admin(request.user, chassis_id)
    form = DeviceOptionsForm(request.POST or None, instance=chassis)
    if request.method == "POST" and form.is_valid():
        try:
            InventoryService.save_row(form.instance, by_user=request.user)
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            messages.success(request, f"{chassis.name} was saved.")
            return redirect("devices")
    return render(request, "dashboard/device_form.html", {"chassis": chassis, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def device_delete(request: HtmxHttpRequest, chassis_id: int) -> HttpResponse:
    chassis = lookups.get_chassis_for_admin(request.user, chassis_id)
    if request.method == "POST":
        name = chassis.name
        InventoryService.delete_row(chassis, by_user=request.user)
        messages.success(request, f"{name} was removed.")
        return redirect("devices")
    consequences = InventoryService.get_removal_consequences(chassis)
    context = {"chassis": chassis, "consequences": consequences}
    return render(request, "dashboard/device_delete.html", context)


@login_required
@require_GET
def device_export(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    text = devices.export_device_list(access.administered_chassis(request.user))
    response = HttpResponse(text, content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="devices.json"'
    return response


@login_required
@require_POST
def device_import(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    form = DeviceImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            entries = parse_device_list(form.cleaned_data["file"].read().decode("utf-8"))
            outcome = InventoryService.import_device_list(entries, by_user=request.user)
        except UnicodeDecodeError:
            form.add_error("file", "The file is not UTF-8 text.")
        except ValueError as error:
            form.add_error("file", f"Nothing was imported: {error}.")
        except ValidationError as error:
            form.add_error("file", "Nothing was imported: " + " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Imported {len(entries)} receiver{'s' if len(entries) != 1 else ''}: "
                f"{outcome.created} new, {outcome.updated} updated.",
            )
            return redirect("devices")
    return render(request, PAGE, _context(request, probe_form=DeviceProbeForm(), import_form=form))


def _add(info: DeviceInfo, options: dict[str, Any], request: HtmxHttpRequest) -> WirelessChassis:
    location = options.get("location")
    return InventoryService.upsert_device(
        replace(info, name=options.get("name") or info.name),
        location_id=location.pk if location else None,
        meter_interval_ms=options.get("meter_interval_ms"),
        by_user=request.user,
    )


def _probed(info: DeviceInfo) -> dict[str, Any]:
    token = devices.sign_probe(info)
    form = DeviceAddForm(initial={"probed": token, "name": info.name})
    return {"info": info, "add_form": form}


def _found_or_404(request: HtmxHttpRequest) -> devices.FoundDevice:
    if not access.sees_discovered_devices(request.user):
        raise Http404("Not found.")
    found = devices.found_device(request.POST.get("key", "")[:400])
    if found is None:
        raise Http404("Not found.")
    return found


def _context(request: HtmxHttpRequest, **extra: Any) -> dict[str, Any]:
    chassis = access.administered_chassis(request.user)
    sees_discovered = access.sees_discovered_devices(request.user)
    context = {
        "rows": devices.device_rows(chassis),
        "sees_discovered": sees_discovered,
        "found": devices.discovered(chassis) if sees_discovered else [],
        "import_form": DeviceImportForm(),
    }
    return context | extra


def _part(
    request: HtmxHttpRequest, partial: str, *, changed: bool = False, **extra: Any
) -> HttpResponse:
    """Answer htmx with one section (and tell the table to re-read when receivers changed)."""
    template = f"{PAGE}#{partial}" if request.htmx else PAGE
    response = render(request, template, _context(request, **extra))
    if changed:
        response["HX-Trigger"] = CHANGED
    return response
