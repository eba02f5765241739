"""Kiosk screens: one group's wall for a signed link, with no login and no controls.

A kiosk request has no user, so it has no tenant either; each view runs in the tenant of
the link, which is all the token grants.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from dashboard import lookups, walls
from dashboard.views.common import photo_response, wall_context
from dashboard.views.walls import OPEN_ALERTS_SHOWN, render_tiles
from micboard import access
from micboard.models import Alert, KioskLink, Performer
from micboard.tenancy import tenant_context


@require_GET
def kiosk(request: HttpRequest, token: str) -> HttpResponse:
    link = access.live_kiosk_link(token)
    if link is None:
        return _unavailable(request, token)
    with tenant_context(link.organization_id):
        tiles = walls.wall_tiles(link.monitoring_group, photo_url=_photo_url(link))
        context = wall_context(link.monitoring_group, tiles)
        alerts = Alert.objects.filter(monitoring_group=link.monitoring_group)
        context["open_alerts"] = list(alerts.open().unacknowledged()[:OPEN_ALERTS_SHOWN])
    context.update(
        link=link,
        live_url=f"/ws/kiosk/{link.token}/",
        tiles_url=reverse("kiosk-tiles", args=[link.token]),
        kiosk=True,
        # The signed-in wall, never the kiosk link: a code on a screen anyone can photograph.
        phone_url=request.build_absolute_uri(reverse("wall", args=[link.monitoring_group_id])),
    )
    return render(request, "dashboard/kiosk.html", context)


@require_GET
def kiosk_tiles(request: HttpRequest, token: str) -> HttpResponse:
    link = access.live_kiosk_link(token)
    if link is None:
        return _unavailable(request, token)
    with tenant_context(link.organization_id):
        return render_tiles(
            request, link.monitoring_group, photo_url=_photo_url(link), tile_links=False
        )


@require_GET
def kiosk_photo(request: HttpRequest, token: str, performer_id: int) -> FileResponse:
    """Serve the photo of a performer on this kiosk's wall, and no one else's."""
    link = access.live_kiosk_link(token)
    if link is None:
        raise Http404("Not found.")
    with tenant_context(link.organization_id):
        return photo_response(lookups.get_kiosk_performer(link, performer_id))


def _photo_url(link: KioskLink) -> walls.PhotoUrl:
    def url(performer: Performer) -> str:
        return reverse("kiosk-photo", args=[link.token, performer.pk])

    return url


def _unavailable(request: HttpRequest, token: str) -> HttpResponse:
    """Say plainly why a kiosk shows nothing; never redirect a kiosk to a login page."""
    revoked = access.kiosk_link_revoked(token)
    status = 410 if revoked else 404
    return render(request, "dashboard/kiosk_unavailable.html", {"revoked": revoked}, status=status)
