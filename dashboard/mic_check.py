"""What the mic-check list shows: each unit of the wall, its live readings and its tick.

The readings are the units' latest states in Redis (`{p}:unit:{id}`, docs/live-protocol.md),
the same the walls draw, read in one MGET each time the list refreshes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from django.utils import timezone
from redis.exceptions import RedisError

from dashboard import walls
from dashboard.templatetags.micboard_display import BATTERY
from micboard.models import MonitoringGroup
from micboard.showprep.models import MicCheck, MicCheckTick
from realtime import keys, redis_client

logger = logging.getLogger(__name__)
UNKNOWN = "—"


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One unit on the list as text ready to print (the list refreshes every 2 s, and
    lookups and filters left in the template would cost more than the rest of the page)."""

    key: str  # the unit's id
    slot: str
    performer: str  # for a shared unit, who has it now
    shared: bool
    battery: str
    rf: str
    audio: str
    on_air: bool  # a transmitter is heard
    checked: bool
    checked_by: str
    checked_at: str  # ISO 8601, for <time datetime>
    checked_time: str  # HH:MM in the site's time zone


def check_rows(
    group: MonitoringGroup, check: MicCheck | None, *, photo_url: walls.PhotoUrl
) -> list[CheckRow]:
    """Return the list in the wall's order (blanks left out)."""
    tiles = [t for t in walls.wall_tiles(group, photo_url=photo_url) if t is not None]
    ticks = {} if check is None else _ticks(check)
    states = _states([t.unit.pk for t in tiles])
    return [_row(tile, states.get(tile.unit.pk), ticks.get(tile.unit.pk)) for tile in tiles]


def _ticks(check: MicCheck) -> dict[int, MicCheckTick]:
    rows = MicCheckTick.objects.filter(mic_check=check).select_related("checked_by")
    return {tick.wireless_unit_id: tick for tick in rows}


def _states(unit_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not unit_ids:
        return {}
    try:
        raws = redis_client.sync_client().mget([keys.unit_state(i) for i in unit_ids])
    except RedisError:
        # The list still serves its ticks; every reading then shows as unknown.
        logger.warning("could not read live states for the mic check", exc_info=True)
        return {}
    return {uid: orjson.loads(raw) for uid, raw in zip(unit_ids, raws, strict=True) if raw}


def _row(tile: walls.Tile, state: dict[str, Any] | None, tick: MicCheckTick | None) -> CheckRow:
    live = state or {}
    bars = BATTERY.bars(live.get("bars"), live.get("percent"))
    rf = [v for v in (live.get("rf_a"), live.get("rf_b")) if v is not None]
    audio = live.get("audio")
    when = timezone.localtime(tick.checked_at) if tick is not None else None
    return CheckRow(
        key=tile.key,
        slot=tile.slot,
        performer=tile.now or tile.performer_names,
        shared=bool(tile.now),
        battery=UNKNOWN if bars is None else f"{bars}/{BATTERY.segments}",
        rf=f"{max(rf):.0f} dBm" if rf else UNKNOWN,
        audio=UNKNOWN if audio is None else f"{audio:.0f} dBFS",
        on_air=bool(live.get("tx_on")),
        checked=tick is not None,
        checked_by=_who(tick),
        checked_at=when.isoformat() if when is not None else "",
        checked_time=f"{when:%H:%M}" if when is not None else "",
    )


def _who(tick: MicCheckTick | None) -> str:
    if tick is None:
        return ""
    return tick.checked_by.get_username() if tick.checked_by is not None else "someone"
