"""Pieces several views share."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from dashboard import walls
from micboard.models import MonitoringGroup

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
        "status_labels": labels,
    }
