"""Which charged pack goes to whom next, and a pack's history, for the Chargers pages.

No group or assignment carries show times, so the charged packs go out in the wall's
order: the performers of each group the user watches, as their tiles stand, get the
charged packs best health first (the page says so). A pack is charged at CHARGED_FROM %;
a worn one (health below MICBOARD_PACK_HEALTH_MIN) is never offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from dashboard.walls import arrange
from micboard import access
from micboard.models import BatteryPack, PackEvent, Performer, PerformerAssignment

if TYPE_CHECKING:
    from micboard.access import AnyUser

CHARGED_FROM = 100


@dataclass(frozen=True, slots=True)
class NextPack:
    slot: str
    performer: Performer
    pack: BatteryPack


@dataclass(frozen=True, slots=True)
class HistoryRow:
    event: PackEvent
    performer: Performer | None  # None: nobody, or someone outside the user's groups


def next_packs(user: AnyUser) -> list[NextPack]:
    charged = list(
        access.visible_packs(user)
        .filter(
            charger__isnull=False,
            charge_percent__gte=CHARGED_FROM,
            health_percent__gte=settings.MICBOARD_PACK_HEALTH_MIN,
        )
        .select_related("charger")
        .order_by("-health_percent", "charger__name", "bay")
    )
    if not charged:
        return []
    return [
        NextPack(
            assignment.wireless_unit.slot or str(assignment.wireless_unit),
            assignment.performer,
            pack,
        )
        for assignment, pack in zip(_performers_in_wall_order(user), charged, strict=False)
    ]


def _performers_in_wall_order(user: AnyUser) -> list[PerformerAssignment]:
    """Each unit's first active assignment, group by group, in the order of its wall."""
    ordered: list[PerformerAssignment] = []
    seen: set[int] = set()
    assignments = (
        access.accessible_assignments(user).active().select_related("performer", "wireless_unit")
    )
    for group in access.monitoring_groups(user).order_by("name", "pk"):
        first: dict[int, PerformerAssignment] = {}
        for assignment in assignments.filter(monitoring_group=group):
            first.setdefault(assignment.wireless_unit_id, assignment)
        by_slot = sorted(first, key=lambda u: (first[u].wireless_unit.slot, u))
        for unit_id in arrange(group.tile_order, by_slot):
            if unit_id is not None and unit_id not in seen:
                seen.add(unit_id)
                ordered.append(first[unit_id])
    return ordered


def pack_history(user: AnyUser, pack: BatteryPack) -> list[HistoryRow]:
    visible = set(access.accessible_performers(user).values_list("pk", flat=True))
    events = pack.events.select_related("charger", "wireless_unit", "performer")
    return [
        HistoryRow(event, event.performer if event.performer_id in visible else None)
        for event in events
    ]
