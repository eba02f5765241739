"""Performer pages: list and live search, create/edit with photo, (de)activate, delete, CSV.

Admins manage performers; a tech may correct the details of performers on their walls
(the service allows it) but does not create, deactivate, delete or import them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import lookups
from dashboard.forms import (
    PerformerForm,
    PerformerImportConfirmForm,
    PerformerImportForm,
    show_service_errors,
)
from dashboard.views.common import HtmxHttpRequest, active_flag, photo_response
from micboard import access
from micboard.models import Performer
from micboard.services import PerformerService, performer_csv

PAGE_SIZE = 25
STATUS_FILTERS = {"active": True, "inactive": False, "all": None}


@login_required
@require_GET
def performer_list(request: HtmxHttpRequest) -> HttpResponse:
    query, status = _list_filters(request)
    performers = _filtered(access.managed_performers(request.user), query, status)
    page = Paginator(performers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": query,
        "status": status,
        "query": _query_without_page(query, status),
        "is_admin": access.is_admin(request.user),
    }
    template = "dashboard/performers.html"
    if request.htmx and request.htmx.target == "performer-list":
        template += "#performer-list"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def performer_create(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    form = PerformerForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            performer = PerformerService.create_performer(**form.changes(), by_user=request.user)
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            messages.success(request, f"{performer.name} was added.")
            return redirect("performers")
    return render(request, "dashboard/performer_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def performer_edit(request: HtmxHttpRequest, performer_id: int) -> HttpResponse:
    performer = lookups.get_performer_for_user(request.user, performer_id)
    form = PerformerForm.for_performer(performer)
    if request.method == "POST":
        form = PerformerForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                PerformerService.update_performer(performer, by_user=request.user, **form.changes())
            except ValidationError as error:
                show_service_errors(form, error)
            else:
                messages.success(request, f"{performer.name} was saved.")
                return redirect("performers")
    context = {"form": form, "performer": performer}
    return render(request, "dashboard/performer_form.html", context)


@login_required
@require_POST
def performer_set_active(request: HtmxHttpRequest, performer_id: int) -> HttpResponse:
    access.require_admin(request.user)
    performer = lookups.get_performer_for_user(request.user, performer_id)
    active = active_flag(request)
    if active is None:
        return HttpResponseBadRequest("Send active=1 or active=0.")
    if active:
        PerformerService.reactivate_performer(performer, by_user=request.user)
    else:
        PerformerService.deactivate_performer(performer, by_user=request.user)
    if request.htmx:
        context = {"performer": performer, "is_admin": True}
        return render(request, "dashboard/performers.html#performer-row", context)
    return redirect("performers")


@login_required
@require_http_methods(["GET", "POST"])
def performer_delete(request: HtmxHttpRequest, performer_id: int) -> HttpResponse:
    access.require_admin(request.user)
    performer = lookups.get_performer_for_user(request.user, performer_id)
    if request.method == "POST":
        name = performer.name
        PerformerService.delete_performer(performer, by_user=request.user)
        messages.success(request, f"{name} was deleted.")
        return redirect("performers")
    assignments = performer.assignments.select_related("wireless_unit", "monitoring_group")
    context = {"performer": performer, "assignments": assignments}
    return render(request, "dashboard/performer_delete.html", context)


@login_required
@require_GET
def performer_photo(request: HtmxHttpRequest, performer_id: int) -> FileResponse:
    """Serve a photo only to someone who may see the performer; photos are personal data."""
    return photo_response(lookups.get_performer_for_user(request.user, performer_id))


@login_required
@require_http_methods(["GET", "POST"])
def performer_import(request: HtmxHttpRequest) -> HttpResponse:
    """Upload a CSV to preview it; post the previewed content back to save it."""
    access.require_admin(request.user)
    if "content" in request.POST:
        return _confirm_import(request)
    form = PerformerImportForm(request.POST or None, request.FILES or None)
    context: dict[str, object] = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            text = performer_csv.decode_upload(form.cleaned_data["file"].read())
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            context["preview"] = performer_csv.preview_import(text)
            context["confirm"] = PerformerImportConfirmForm(initial={"content": text})
    return render(request, "dashboard/performer_import.html", context)


@login_required
@require_GET
def performer_export(request: HtmxHttpRequest) -> HttpResponse:
    query, status = _list_filters(request)
    performers = _filtered(access.managed_performers(request.user), query, status)
    response = HttpResponse(
        performer_csv.export_performers(performers), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="performers.csv"'
    return response


def _confirm_import(request: HtmxHttpRequest) -> HttpResponse:
    confirm = PerformerImportConfirmForm(request.POST)
    text = request.POST["content"]
    if confirm.is_valid():
        try:
            result = performer_csv.import_performers(
                text, on_existing=confirm.cleaned_data["on_existing"] or None, by_user=request.user
            )
        except ValidationError as error:
            # The preview below names every bad row; this says why nothing was saved.
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, result.summary)
            return redirect("performers")
    context = {
        "form": PerformerImportForm(),
        "preview": performer_csv.preview_import(text),
        "confirm": confirm,
    }
    return render(request, "dashboard/performer_import.html", context)


def _list_filters(request: HtmxHttpRequest) -> tuple[str, str]:
    # No stored text holds a NUL, and PostgreSQL refuses one even in a search.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    status = request.GET.get("status", "active")
    return query, status if status in STATUS_FILTERS else "active"


def _filtered(performers: QuerySet[Performer], query: str, status: str) -> QuerySet[Performer]:
    active = STATUS_FILTERS[status]
    if active is not None:
        performers = performers.filter(is_active=active)
    if query:
        text = Q(name__folded=query) | Q(title__folded=query) | Q(email__folded=query)
        performers = performers.filter(text)
    return performers.order_by("name", "id")


def _query_without_page(query: str, status: str) -> str:
    return urlencode({"q": query, "status": status})
