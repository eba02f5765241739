"""Monitoring group pages for admins: members, the wall's tile order, kiosk links and the
manual tiles of unnetworked devices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard import lookups, walls
from dashboard.forms import (
    GroupMembersForm,
    GroupNumberForm,
    KioskLinkForm,
    ManualUnitForm,
    ShowEndForm,
    show_service_errors,
)
from dashboard.views.common import HtmxHttpRequest
from micboard import access
from micboard.models import KioskLink, MonitoringGroup
from micboard.services import GroupService, KioskService
from micboard.services.inventory import InventoryService

PAGE = "dashboard/group_detail.html"
# A kiosk opens in TV mode with a layout from its address (static/js/wall.js reads the hash).
TV_LAYOUTS = [
    ("11", "TV: name, colour block and meters"),
    ("01", "TV: name and colour block"),
    ("10", "TV: name and meters"),
    ("00", "TV: name only, full height"),
]


@login_required
@require_GET
def group_list(request: HtmxHttpRequest) -> HttpResponse:
    access.require_admin(request.user)
    groups = access.monitoring_groups(request.user).annotate(
        member_count=Count("users", distinct=True),
        assignment_count=Count("assignments", filter=Q(assignments__is_active=True), distinct=True),
    )
    return render(request, "dashboard/groups.html", {"groups": groups})


@login_required
@require_GET
def group_detail(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_admin_group(request.user, group_id)
    return render(request, PAGE, _context(request, group))


@login_required
@require_POST
def group_members(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_admin_group(request.user, group_id)
    form = GroupMembersForm(request.POST, users=GroupService.candidate_members(group))
    saved = False
    if form.is_valid():
        try:
            GroupService.set_members(group, form.cleaned_data["users"], by_user=request.user)
            saved = True
        except ValidationError as error:
            show_service_errors(form, error)
    return _part(request, group, "group-members", members_form=form, members_saved=saved)


@login_required
@require_POST
def group_number(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_admin_group(request.user, group_id)
    form = GroupNumberForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            GroupService.set_number(group, form.cleaned_data["number"], by_user=request.user)
            saved = True
        except ValidationError as error:
            show_service_errors(form, error)
    return _part(request, group, "group-number", number_form=form, number_saved=saved)


@login_required
@require_POST
def group_tile_order(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_admin_group(request.user, group_id)
    try:
        order = walls.edit_order(_current_order(group), request.POST.get("action", ""))
    except ValueError:
        return HttpResponseBadRequest("Unknown tile order action.")
    GroupService.set_tile_order(group, order, by_user=request.user)
    return _part(request, group, "tile-order")


@login_required
@require_POST
def group_show_end(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_admin_group(request.user, group_id)
    form = ShowEndForm(request.POST)
    saved = False
    if form.is_valid():
        GroupService.set_show_end(group, form.cleaned_data["show_ends_at"], by_user=request.user)
        saved = True
    return _part(request, group, "show-end", show_end_form=form, show_end_saved=saved)


@login_required
@require_POST
def kiosk_link_create(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_admin_group(request.user, group_id)
    form = KioskLinkForm(request.POST)
    if form.is_valid():
        try:
            KioskService.create_link(group, form.cleaned_data["label"], by_user=request.user)
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            form = KioskLinkForm()
    return _part(request, group, "kiosk-links", link_form=form)


@login_required
@require_POST
def manual_unit_create(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_admin_group(request.user, group_id)
    form = ManualUnitForm(request.POST, performers=access.assignable_performers(request.user))
    placed = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            placed = InventoryService.place_manual_unit(
                group, data["performer"], slot=data["slot"], kind=data["kind"], by_user=request.user
            )
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            form = ManualUnitForm(performers=access.assignable_performers(request.user))
    return _part(request, group, "manual-units", manual_form=form, placed=placed)


@login_required
@require_POST
def kiosk_link_revoke(request: HtmxHttpRequest, link_id: int) -> HttpResponse:
    link = lookups.get_kiosk_link_for_admin(request.user, link_id)
    KioskService.revoke_link(link, by_user=request.user)
    return _part(request, link.monitoring_group, "kiosk-links")


def _context(request: HtmxHttpRequest, group: MonitoringGroup, **overrides: Any) -> dict[str, Any]:
    candidates = GroupService.candidate_members(group)
    links = KioskLink.objects.filter(monitoring_group=group).select_related("created_by")
    context = {
        "group": group,
        "members_form": GroupMembersForm(
            initial={"users": list(group.users.values_list("pk", flat=True))}, users=candidates
        ),
        "order": walls.wall_tiles(group, photo_url=_no_photo),
        "links": [_link_addresses(request, link) for link in links],
        "link_form": KioskLinkForm(),
        "show_end_form": ShowEndForm(initial={"show_ends_at": _local(group.show_ends_at)}),
        "manual_form": ManualUnitForm(performers=access.assignable_performers(request.user)),
        "number_form": GroupNumberForm(initial={"number": group.number}),
    }
    context.update(overrides)
    return context


def _part(
    request: HtmxHttpRequest, group: MonitoringGroup, partial: str, **overrides: Any
) -> HttpResponse:
    """Answer htmx with the changed section; a plain form post gets the whole page."""
    template = f"{PAGE}#{partial}" if request.htmx else PAGE
    return render(request, template, _context(request, group, **overrides))


def _current_order(group: MonitoringGroup) -> list[int | None]:
    return [tile.unit.pk if tile else None for tile in walls.wall_tiles(group, photo_url=_no_photo)]


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else timezone.localtime(moment)


def _link_addresses(
    request: HtmxHttpRequest, link: KioskLink
) -> tuple[KioskLink, str, list[tuple[str, str, str]]]:
    """The link's address for a desk screen, and one per TV layout: (key, label, address)."""
    url = request.build_absolute_uri(_kiosk_path(link))
    layout = {key: "" if key == "11" else f"&layout={key}" for key, _ in TV_LAYOUTS}
    tv = [(key, label, f"{url}#mode=tv{layout[key]}") for key, label in TV_LAYOUTS]
    return link, url, tv


def _kiosk_path(link: KioskLink) -> str:
    return reverse("kiosk", args=[link.token])


def _no_photo(_performer: object) -> str:
    return ""
