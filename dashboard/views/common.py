"""Pieces several views share."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from django_htmx.middleware import HtmxDetails

from dashboard import walls
from micboard.models import MonitoringGroup, Performer
from micboard.services.photos import STORED_CONTENT_TYPE, STORED_EXTENSION

ACTIVE_FLAGS = {"1": True, "0": False}


def active_flag(request: HttpRequest) -> bool | None:
    """Read the `active` field of a (de)activate button: True, False, or None when not 1/0."""
    return ACTIVE_FLAGS.get(request.POST.get("active", ""))


class HtmxHttpRequest(HttpRequest):
    """A request as HtmxMiddleware leaves it (for type checking)."""

    htmx: HtmxDetails


def wall_context(group: MonitoringGroup, tiles: list[walls.Tile | None]) -> dict[str, Any]:
    """Return what the wall and kiosk pages both render."""
    labels = {code: {"label": s.label, "glyph": s.glyph} for code, s in walls.STATUSES.items()}
    return {
        "group": group,
        "tiles": tiles,
        "statuses": walls.STATUSES,
        "priorities": walls.PRIORITY_LEGEND,
        "status_labels": labels,
    }


def photo_response(performer: Performer) -> FileResponse:
    """Serve a stored photo as what it is, whatever its file was once called.

    Photos are re-encoded JPEGs (micboard/services/photos.py); the type is fixed, never
    guessed from a file name, and nosniff (SecurityMiddleware) stops a browser from
    reading one as anything else. The names are ours, so the download name says nothing.
    """
    if not performer.photo:
        raise Http404("Not found.")
    response = FileResponse(
        performer.photo.open("rb"),
        content_type=STORED_CONTENT_TYPE,
        filename=f"performer-{performer.pk}{STORED_EXTENSION}",
    )
    return response
