"""The one hook through which committed domain changes reach the live path.

Services call `announce(...)` inside their transaction; receivers of `domain_changed`
run only after the commit succeeds (never for a rolled-back change). Every kind of change
is an `EventKind`, and `REACTIONS` says, for each, what the live path does with it: refresh
the poller's unit-to-group map, make open sockets re-check their access, and which frame
(if any) open walls and kiosks of the affected groups get.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.dispatch import Signal

domain_changed = Signal()  # sent with change=DomainChange


class EventKind(enum.StrEnum):
    ASSIGNMENT_CREATED = "assignment.created"
    ASSIGNMENT_UPDATED = "assignment.updated"
    ASSIGNMENT_DEACTIVATED = "assignment.deactivated"
    ASSIGNMENT_REACTIVATED = "assignment.reactivated"
    ASSIGNMENT_DELETED = "assignment.deleted"
    PERFORMER_CREATED = "performer.created"
    PERFORMER_UPDATED = "performer.updated"
    PERFORMER_DEACTIVATED = "performer.deactivated"
    PERFORMER_REACTIVATED = "performer.reactivated"
    PERFORMER_DELETED = "performer.deleted"
    GROUP_CHANGED = "group.changed"  # saved or deleted, on any path (a model signal)
    GROUP_MEMBERS_CHANGED = "group.members_changed"  # on any path (a model signal)
    GROUP_TILE_ORDER_CHANGED = "group.tile_order_changed"
    USER_CHANGED = "user.changed"  # signed out, deactivated, new password, new profile
    INVENTORY_SAVED = "inventory.saved"
    INVENTORY_DELETED = "inventory.deleted"
    INVENTORY_IMPORTED = "inventory.imported"
    KIOSK_REVOKED = "kiosk.revoked"
    API_TOKEN_REVOKED = "api_token.revoked"  # its open sockets (/ws/api/…) close
    ALERT_RAISED = "alert.raised"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    ALERT_RESOLVED = "alert.resolved"
    OUTPUT_CHANGED = "output.changed"  # an output made, edited, switched or deleted
    OUTPUT_TEST = "output.test"  # "Send test event": the outputs worker sends one
    SHARED_MIC_CHANGED = "shared_mic.changed"  # a hand-over, or turns added/moved/removed
    MIC_CHECK_CHANGED = "mic_check.changed"  # a tick, an untick, a new check


class WallFrame(enum.Enum):
    """What open walls of the affected groups are sent."""

    NONE = "none"
    STRUCTURE = "structure"  # re-fetch the tiles named (or the whole grid)
    ALERT = "alert"  # show or remove an alert banner


@dataclass(frozen=True, slots=True)
class Reaction:
    refreshes_topology: bool  # the poller reloads which units it reads for which group
    rechecks_access: bool  # open sockets of the groups ask again whether they may stay
    wall_frame: WallFrame


# Tiles may appear, go or change: the poller re-reads its map, walls re-fetch tiles.
_TILES = Reaction(refreshes_topology=True, rechecks_access=False, wall_frame=WallFrame.STRUCTURE)
# Who may watch changed: every open socket of the group (or of the user) asks again.
_ACCESS = Reaction(refreshes_topology=False, rechecks_access=True, wall_frame=WallFrame.NONE)
# A group itself changed (deactivated, moved to another location): all of the above.
_GROUP = Reaction(refreshes_topology=True, rechecks_access=True, wall_frame=WallFrame.STRUCTURE)
# Only the order of the tiles changed: walls re-fetch the grid, the poller's map holds.
_ORDER = Reaction(refreshes_topology=False, rechecks_access=False, wall_frame=WallFrame.STRUCTURE)
# What a tile says changed (who has a shared mic, checked or not): the same units, redrawn.
_TILE_TEXT = Reaction(
    refreshes_topology=False, rechecks_access=False, wall_frame=WallFrame.STRUCTURE
)
_ALERT = Reaction(refreshes_topology=False, rechecks_access=False, wall_frame=WallFrame.ALERT)
# For the outputs worker only (realtime/outputs/): walls and the poller do nothing.
_OUTPUTS = Reaction(refreshes_topology=False, rechecks_access=False, wall_frame=WallFrame.NONE)

REACTIONS: dict[EventKind, Reaction] = {
    EventKind.ASSIGNMENT_CREATED: _TILES,
    EventKind.ASSIGNMENT_UPDATED: _TILES,
    EventKind.ASSIGNMENT_DEACTIVATED: _TILES,
    EventKind.ASSIGNMENT_REACTIVATED: _TILES,
    EventKind.ASSIGNMENT_DELETED: _TILES,
    EventKind.PERFORMER_CREATED: _TILES,
    EventKind.PERFORMER_UPDATED: _TILES,
    EventKind.PERFORMER_DEACTIVATED: _TILES,
    EventKind.PERFORMER_REACTIVATED: _TILES,
    EventKind.PERFORMER_DELETED: _TILES,
    EventKind.GROUP_CHANGED: _GROUP,
    EventKind.GROUP_MEMBERS_CHANGED: _ACCESS,
    EventKind.GROUP_TILE_ORDER_CHANGED: _ORDER,
    EventKind.INVENTORY_SAVED: _TILES,
    EventKind.INVENTORY_DELETED: _TILES,
    EventKind.INVENTORY_IMPORTED: _TILES,
    EventKind.KIOSK_REVOKED: _ACCESS,
    EventKind.API_TOKEN_REVOKED: _ACCESS,
    EventKind.USER_CHANGED: _ACCESS,
    EventKind.ALERT_RAISED: _ALERT,
    EventKind.ALERT_ACKNOWLEDGED: _ALERT,
    EventKind.ALERT_RESOLVED: _ALERT,
    EventKind.OUTPUT_CHANGED: _OUTPUTS,
    EventKind.OUTPUT_TEST: _OUTPUTS,
    EventKind.SHARED_MIC_CHANGED: _TILE_TEXT,
    EventKind.MIC_CHECK_CHANGED: _TILE_TEXT,
}


@dataclass(frozen=True, slots=True)
class DomainChange:
    """What changed: its kind and the ids of everything a wall may need to redraw."""

    kind: EventKind
    group_ids: frozenset[int] = field(default_factory=frozenset)
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    performer_ids: frozenset[int] = field(default_factory=frozenset)
    alert_ids: frozenset[int] = field(default_factory=frozenset)
    user_ids: frozenset[int] = field(default_factory=frozenset)
    output_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def reaction(self) -> Reaction:
        return REACTIONS[self.kind]


def announce(
    kind: EventKind,
    *,
    group_ids: Iterable[int | None] = (),
    unit_ids: Iterable[int | None] = (),
    performer_ids: Iterable[int | None] = (),
    alert_ids: Iterable[int | None] = (),
    user_ids: Iterable[int | None] = (),
    output_ids: Iterable[int | None] = (),
) -> None:
    """Send `domain_changed` once the surrounding transaction commits."""
    change = DomainChange(
        kind=kind,
        group_ids=_ids(group_ids),
        unit_ids=_ids(unit_ids),
        performer_ids=_ids(performer_ids),
        alert_ids=_ids(alert_ids),
        user_ids=_ids(user_ids),
        output_ids=_ids(output_ids),
    )
    transaction.on_commit(lambda: domain_changed.send(sender=DomainChange, change=change))


def _ids(values: Iterable[int | None]) -> frozenset[int]:
    return frozenset(value for value in values if value is not None)
