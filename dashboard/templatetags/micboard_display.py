"""Formatting of telemetry for the wall, matching what static/js/live.js writes later."""

from __future__ import annotations

from typing import NamedTuple

from django import template
from django.http import HttpRequest
from django.urls import reverse

from micboard import access

register = template.Library()


@register.filter
def runtime(minutes: int | None) -> str:
    """Format battery minutes as H:MM, blank when unknown."""
    if minutes is None:
        return ""
    return f"{minutes // 60}:{minutes % 60:02d}"


@register.filter
def mhz(khz: int | None) -> str:
    """Format a frequency in kHz as MHz with three decimals, blank when unknown."""
    if not khz:
        return ""
    return f"{khz / 1000:.3f} MHz"


@register.filter
def decibels(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g} dB"


class NavItem(NamedTuple):
    url: str
    label: str
    current: bool


@register.simple_tag
def nav_items(request: HttpRequest) -> list[NavItem]:
    """Return the pages this user may use, and nothing they may not."""
    user = request.user
    if not user.is_authenticated:
        return []
    names = [("home", "Walls"), ("performers", "Performers"), ("assignments", "Assignments")]
    if access.is_admin(user):
        names.append(("groups", "Groups"))
    names.append(("alerts", "Alerts"))
    section = nav_section(request)
    return [NavItem(reverse(name), label, name == section) for name, label in names]


def nav_section(request: HttpRequest) -> str:
    """Return which nav item the current page belongs to, from its URL name."""
    match = request.resolver_match
    name = match.url_name if match is not None and match.url_name else ""
    if name.startswith("performer"):
        return "performers"
    if name.startswith("assignment") or name == "group-assignments":
        return "assignments"
    if name.startswith(("group", "kiosk-link")):
        return "groups"
    if name.startswith("alert"):
        return "alerts"
    return "home"
