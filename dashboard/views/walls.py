"""The wall display of a monitoring group, its tile fragments, and the list of walls."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from dashboard import lookups, walls
from dashboard.views.common import wall_context
from micboard import access
from micboard.models import Alert, MonitoringGroup, Performer

OPEN_ALERTS_SHOWN = 20
OTHER_WALLS_SHOWN = 12


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    groups = access.monitoring_groups(request.user)
    return render(request, "dashboard/home.html", {"groups": groups})


@login_required
@require_GET
def wall(request: HttpRequest, group_id: int) -> HttpResponse:
    group = lookups.get_group_for_user(request.user, group_id)
    tiles = walls.wall_tiles(group, photo_url=_photo_url, unit_url=_unit_url())
    context = wall_context(group, tiles)
    context.update(
        live_url=f"/ws/groups/{group.pk}/",
        tiles_url=reverse("wall-tiles", args=[group.pk]),
        other_walls=_other_walls(request),
        open_alerts=_open_alerts(request, group),
        can_edit=access.is_admin(request.user),
        can_acknowledge=True,
        can_hand_over=True,  # whoever watches the group may (access.require_hand_over_rights)
        phone_url=request.build_absolute_uri(reverse("wall", args=[group.pk])),
    )
    return render(request, "dashboard/wall.html", context)


@login_required
@require_GET
def wall_tiles(request: HttpRequest, group_id: int) -> HttpResponse:
    """Answer a `structure` frame: the named tiles, or the whole grid, swapped by id."""
    group = lookups.get_group_for_user(request.user, group_id)
    return render_tiles(request, group, photo_url=_photo_url, tile_links=True, hand_over=True)


def render_tiles(
    request: HttpRequest,
    group: MonitoringGroup,
    *,
    photo_url: walls.PhotoUrl,
    tile_links: bool,
    hand_over: bool = False,
) -> HttpResponse:
    """Render `?units=17,18` as out-of-band tiles, or no `units` as the whole grid; with
    `hand_over`, shared tiles get their Hand over button (not on a read-only kiosk)."""
    raw = request.GET.get("units")
    context: dict[str, Any] = {"oob": True, "group": group, "can_hand_over": hand_over}
    unit_url = _unit_url() if tile_links else None
    if raw is None:
        context["tiles"] = walls.wall_tiles(group, photo_url=photo_url, unit_url=unit_url)
        return render(request, "dashboard/wall_parts.html#wall-tiles", context)
    unit_ids = walls.parse_unit_ids(raw)
    if unit_ids is None:
        return HttpResponseBadRequest("units must be a comma-separated list of ids.")
    context["tiles"] = walls.some_tiles(group, unit_ids, photo_url=photo_url, unit_url=unit_url)
    return render(request, "dashboard/wall_parts.html#tile-list", context)


def _unit_url() -> walls.IdUrl:
    return walls.url_of_ids("unit-detail")


def _photo_url(performer: Performer) -> str:
    return reverse("performer-photo", args=[performer.pk])


def _other_walls(request: HttpRequest) -> list[MonitoringGroup]:
    """The walls to switch to: those with a key (the admin's number) first, by key."""
    groups = access.monitoring_groups(request.user)
    return list(groups.order_by(F("number").asc(nulls_last=True), "name")[:OTHER_WALLS_SHOWN])


def _open_alerts(request: HttpRequest, group: MonitoringGroup) -> list[Alert]:
    alerts = access.visible_alerts(request.user).filter(monitoring_group=group)
    return list(alerts.open().unacknowledged()[:OPEN_ALERTS_SHOWN])
