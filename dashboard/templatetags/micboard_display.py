"""Formatting of telemetry for the wall, as rules that static/js/live.js applies too.

The wall page emits the rules once (`wall_rules`), so a tile the server rendered and the
same tile updated live by the script read the same, and neither side repeats the other.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

import segno
from django import template
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from micboard import access
from micboard.models import Alert
from realtime import codes
from realtime.units.state import STALE_AFTER

register = template.Library()


class Readout(NamedTuple):
    """How one reading prints on a tile.

    `style` "clock" prints minutes as H:MM; "fixed" prints `digits` decimals; "general"
    prints up to `digits` significant digits without trailing zeros, as printf's %g.
    """

    source: str  # the reading's key in a live frame's unit state
    style: Literal["clock", "fixed", "general"]
    scale: int = 1  # the reading is divided by this first
    digits: int = 0
    suffix: str = ""
    zero_is_unknown: bool = False  # a frequency of 0 means "not tuned", not 0 MHz

    def text(self, value: float | None) -> str:
        """Return the reading as the tile shows it, blank when unknown."""
        if value is None or (self.zero_is_unknown and not value):
            return ""
        if self.style == "clock":
            minutes = int(value)
            return f"{minutes // 60}:{minutes % 60:02d}{self.suffix}"
        kind = "f" if self.style == "fixed" else "g"
        return f"{value / self.scale:.{self.digits}{kind}}{self.suffix}"


# Keyed by the tile element's data-field.
READOUTS: dict[str, Readout] = {
    "runtime": Readout("minutes", "clock"),
    "tx_offset": Readout("tx_offset", "general", digits=6, suffix=" dB"),
    "freq": Readout("freq", "fixed", scale=1000, digits=3, suffix=" MHz", zero_is_unknown=True),
    "rf_out": Readout("rf_out", "general", digits=3, suffix=" mW"),  # IEM transmitters only
}


class MeterScale(NamedTuple):
    """The range a meter spans: `floor` shows empty, `ceil` full, in the reading's unit."""

    floor: float
    ceil: float


METERS: dict[str, MeterScale] = {"audio": MeterScale(-60, 0), "rf": MeterScale(-100, -30)}


class BatteryGauge(NamedTuple):
    """The battery's segments, lit from the device's bars or else from its percentage."""

    segments: int
    percent_per_segment: int
    label: str  # spoken; {bars} and {segments} are filled in
    unknown_label: str

    def bars(self, bars: int | None, percent: int | None) -> int | None:
        """Return the lit segments, None when the device reports neither."""
        if bars is not None:
            return min(bars, self.segments)
        if percent is not None:
            return min(self.segments, -(-percent // self.percent_per_segment))  # ceiling
        return None

    def spoken(self, bars: int | None) -> str:
        if bars is None:
            return self.unknown_label
        return self.label.format(bars=bars, segments=self.segments)


BATTERY = BatteryGauge(5, 20, "Battery {bars} of {segments} bars", "Battery unknown")


class BatteryProjection(NamedTuple):
    """When a battery runs out against when the show ends (the group's show_ends_at).

    The receiver's time-left estimate is counted from the reading it came with, so the
    server (from the unit's last_seen) and live.js (from the state's ts) project the same
    moment. Times print as HH:MM in `time_zone`, the server's TIME_ZONE.
    """

    text: str  # {empty} and {show_end} are filled in
    time_zone: str

    def warning(self, minutes: int | None, read_at: float | None, show_end: float | None) -> str:
        """Return the tile's warning, blank when the battery lasts or nothing is known."""
        if minutes is None or read_at is None or show_end is None:
            return ""
        empty = read_at + minutes * 60
        if empty >= show_end:
            return ""
        return self.text.format(empty=self._clock(empty), show_end=self._clock(show_end))

    def _clock(self, moment: float) -> str:
        return datetime.fromtimestamp(moment, tz=ZoneInfo(self.time_zone)).strftime("%H:%M")


def battery_projection() -> BatteryProjection:
    return BatteryProjection("won't last: {empty} < {show_end}", settings.TIME_ZONE)


@register.filter
def runtime(minutes: int | None) -> str:
    """Format battery minutes as H:MM, blank when unknown."""
    return READOUTS["runtime"].text(minutes)


@register.filter
def mhz(khz: int | None) -> str:
    """Format a frequency in kHz as MHz with three decimals, blank when unknown."""
    return READOUTS["freq"].text(khz)


@register.filter
def decibels(value: float | None) -> str:
    """Format a transmitter offset in dB, blank when unknown."""
    return READOUTS["tx_offset"].text(value)


# Least to most severe: the alert strip names the most severe open alert (the newest of those).
SEVERITY_ORDER = [Alert.Severity.INFO, Alert.Severity.WARNING, Alert.Severity.CRITICAL]


@register.filter
def worst_alert(alerts: list[Alert]) -> str:
    """Return the message of the most severe alert; `alerts` come newest first."""
    worst = max(alerts, key=lambda alert: SEVERITY_ORDER.index(Alert.Severity(alert.severity)))
    return worst.message


# The unit page's last saved levels (not live-updated, so not among READOUTS).
AUDIO_LEVEL = Readout("audio", "general", digits=4, suffix=" dBFS")
RF_LEVEL = Readout("rf", "general", digits=4, suffix=" dBm")


@register.filter
def dbfs(value: float | None) -> str:
    """Format an audio level, blank when unknown."""
    return AUDIO_LEVEL.text(value)


@register.filter
def dbm(value: float | None) -> str:
    """Format an RF level, blank when unknown."""
    return RF_LEVEL.text(value)


@register.simple_tag
def wall_rules(*, kiosk: bool) -> dict[str, Any]:
    """Return the rules live.js draws with; the wall page emits them as json_script."""
    return {
        "readouts": {field: rule._asdict() for field, rule in READOUTS.items()},
        "meters": {name: scale._asdict() for name, scale in METERS.items()},
        "battery": BATTERY._asdict(),
        "projection": battery_projection()._asdict(),
        "stale_after": STALE_AFTER,
        "severities": [str(severity) for severity in SEVERITY_ORDER],
        "server_time": time.time(),  # the page's own clock may be off: kiosks run for days
        "close": {
            "messages": codes.final_messages(kiosk=bool(kiosk)),
            "NOT_SIGNED_IN": codes.NOT_SIGNED_IN,
            "NO_ACCESS": codes.NO_ACCESS,
            "KIOSK_REVOKED": codes.KIOSK_REVOKED,
        },
    }


@register.simple_tag
def qr_code(url: str) -> SafeString:
    """Draw `url` as a QR code in inline SVG, on the server: no script and no CDN."""
    svg = segno.make(url, error="m").svg_inline(scale=6, dark="#000", light="#fff", border=4)
    return mark_safe(svg)  # segno's own SVG: modules only, the URL is not in it as text


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
        names += [("groups", "Groups"), ("devices", "Devices"), ("api-tokens", "API tokens")]
        names += [("rosters", "Rosters")]
    names += [("chargers", "Chargers"), ("alerts", "Alerts")]
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
    if name.startswith(("group", "kiosk-link", "manual-unit")):
        return "groups"
    if name.startswith("alert"):
        return "alerts"
    if name.startswith("device"):
        return "devices"
    if name.startswith("charger") or name == "pack":
        return "chargers"
    if name.startswith("api-token"):
        return "api-tokens"
    if name.startswith("roster"):
        return "rosters"
    return "home"
