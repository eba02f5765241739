"""The one hook through which committed domain changes reach the live path.

Services call `announce(...)` inside their transaction; receivers of `domain_changed`
run only after the commit succeeds (never for a rolled-back change). The live path
connects a receiver that refreshes the poller's unit-to-group map and re-renders the
affected tiles on open walls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.dispatch import Signal

domain_changed = Signal()  # sent with change=DomainChange


@dataclass(frozen=True, slots=True)
class DomainChange:
    """What changed: a verb-noun kind and the ids of everything a wall may need to redraw."""

    kind: str  # e.g. "assignment.created", "performer.updated"
    group_ids: frozenset[int] = field(default_factory=frozenset)
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    performer_ids: frozenset[int] = field(default_factory=frozenset)


def announce(
    kind: str,
    *,
    group_ids: Iterable[int | None] = (),
    unit_ids: Iterable[int | None] = (),
    performer_ids: Iterable[int | None] = (),
) -> None:
    """Send `domain_changed` once the surrounding transaction commits."""
    change = DomainChange(
        kind=kind,
        group_ids=_ids(group_ids),
        unit_ids=_ids(unit_ids),
        performer_ids=_ids(performer_ids),
    )
    transaction.on_commit(lambda: domain_changed.send(sender=DomainChange, change=change))


def _ids(values: Iterable[int | None]) -> frozenset[int]:
    return frozenset(value for value in values if value is not None)
