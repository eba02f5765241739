"""A roster and what syncing it into a group would do: the entries (from Planning Center or
a CSV file), and the planner that places them (its rules: `micboard/services/rosters.py`).

Planning reads and never writes; `RosterService.plan_sync` is the dry run built on it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace

from micboard.models import MonitoringGroup, Performer, PerformerAssignment, WirelessUnit
from micboard.rosters.models import PersonLink, Placement, PositionPool, StatusFilter
from micboard.services.performer import PerformerService

KEPT_STATUSES = {
    StatusFilter.CONFIRMED: {"C"},
    StatusFilter.NOT_DECLINED: {"C", "U"},
    StatusFilter.EVERYONE: {"C", "U", "D"},
}
MAX_POOL_UNITS = 200
Worn = dict[int, set[tuple[int, int]]]  # unit id → {(performer id, group id)}


@dataclass(frozen=True)
class RosterEntry:
    """One person in one position of a roster."""

    name: str
    position: str
    status: str = "C"
    pco_person_id: str = ""  # Planning Center's person id; empty for a CSV row
    unit_label: str = ""  # a CSV row may name the unit (its slot label or name)
    starts: str = ""  # a CSV row's start time, kept in the assignment's notes


@dataclass(frozen=True)
class Roster:
    source: str  # what the sync result says it came from
    entries: list[RosterEntry]
    waited: float = 0.0  # seconds spent waiting out Planning Center's 429s
    from_pco: bool = False  # a success clears the connection's last error


@dataclass(frozen=True)
class Seat:
    name: str
    position: str
    unit_id: int
    unit_label: str
    performer_id: int | None  # None: a new performer
    pco_person_id: str = ""
    how: str = ""  # "kept", "sticky pin" or "free unit"
    notes: str = ""
    placed: bool = False  # the roster's placement says so already (nothing to record)


@dataclass(frozen=True)
class Ended:
    name: str
    position: str
    unit_label: str
    assignment_id: int
    placement_id: int


@dataclass(frozen=True)
class Unplaced:
    name: str
    position: str
    reason: str


@dataclass
class RosterPlan:
    """What a sync would do to a group (a dry run), or did (once applied)."""

    group_id: int
    source: str
    new_performers: list[str] = field(default_factory=list)
    added: list[Seat] = field(default_factory=list)
    kept: list[Seat] = field(default_factory=list)
    ended: list[Ended] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    filtered_out: list[Unplaced] = field(default_factory=list)
    waited: float = 0.0

    @property
    def fingerprint(self) -> str:
        """Names the changes, so an apply can refuse a roster that moved since its dry run."""
        changes = [self.new_performers, [asdict(s) for s in self.added], self.ended]
        text = json.dumps(changes, default=str, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def changes_anything(self) -> bool:
        return bool(self.added or self.ended)

    def summary(self) -> dict[str, object]:
        return {
            "new_performers": self.new_performers,
            "added": [f"{s.name} → {s.unit_label} ({s.position})" for s in self.added],
            "kept": [f"{s.name} → {s.unit_label}" for s in self.kept],
            "ended": [f"{e.name} off {e.unit_label}" for e in self.ended],
            "unplaced": [f"{u.name} ({u.position}): {u.reason}" for u in self.unplaced],
            "waited": self.waited,
        }


class Planner:
    def __init__(self, roster: Roster, group: MonitoringGroup, status_filter: str) -> None:
        self.roster = roster
        self.group = group
        self.kept_statuses = KEPT_STATUSES.get(StatusFilter(status_filter), {"C"})
        self.pools = {
            pool.position_name.casefold(): pool.ordered_units()
            for pool in PositionPool.objects.filter(monitoring_group=group)
        }
        self.placements = {
            (p.performer_id, p.position_name.casefold()): p
            for p in Placement.objects.filter(monitoring_group=group)
        }
        self.claimed: set[int] = set()
        self.result = RosterPlan(group_id=group.pk, source=roster.source, waited=roster.waited)

    def plan(self) -> RosterPlan:
        wanted = self._wanted()
        performers = self._performers(wanted)
        worn = self._worn_units()
        seats: dict[int, Seat] = {}
        pending: list[tuple[int, RosterEntry]] = []
        for index, entry in enumerate(wanted):
            units = self.pools.get(entry.position.casefold())
            if units is None:
                self._unplaced(entry, f"no pool is mapped for the position {entry.position!r}")
                continue
            performer = performers.get(index)
            if (seat := self._first_choice(entry, performer, units, worn)) is not None:
                seats[index] = seat
            else:
                pending.append((index, entry))
        for index, entry in pending:
            units = self.pools[entry.position.casefold()]
            seat = self._free_unit(entry, performers.get(index), units, worn)
            if seat is None:
                self._unplaced(entry, f"every unit of the {entry.position} pool is taken")
            else:
                seats[index] = seat
        self._collect(seats)
        return self.result

    def _wanted(self) -> list[RosterEntry]:
        """The entries the filter keeps, each person once per position."""
        seen: set[tuple[str, str]] = set()
        wanted = []
        for entry in self.roster.entries:
            if entry.status not in self.kept_statuses:
                status = {"U": "unconfirmed", "D": "declined"}.get(entry.status, entry.status)
                self.result.filtered_out.append(Unplaced(entry.name, entry.position, status))
                continue
            key = (entry.pco_person_id or entry.name.casefold(), entry.position.casefold())
            if key not in seen:
                seen.add(key)
                wanted.append(entry)
        return wanted

    def _performers(self, entries: list[RosterEntry]) -> dict[int, Performer]:
        """Who each entry is: by Planning Center id (a PersonLink), a CSV row by name."""
        ids = [e.pco_person_id for e in entries if e.pco_person_id]
        links = PersonLink.objects.filter(pco_person_id__in=ids).select_related("performer")
        by_pco = {link.pco_person_id: link.performer for link in links}
        found: dict[int, Performer] = {}
        for index, entry in enumerate(entries):
            if entry.pco_person_id:
                performer = by_pco.get(entry.pco_person_id)
            else:
                performer = PerformerService.get_performer_by_name(entry.name)
            if performer is not None:
                found[index] = performer
        return found

    def _worn_units(self) -> Worn:
        """Unit id → who wears it and in which group, for the active assignments on pool
        units (a shared mic has several)."""
        unit_ids = {unit.pk for units in self.pools.values() for unit in units}
        rows = PerformerAssignment.objects.filter(
            is_active=True, wireless_unit_id__in=unit_ids
        ).values_list("wireless_unit_id", "performer_id", "monitoring_group_id")
        worn: Worn = {}
        for unit_id, performer_id, group_id in rows:
            worn.setdefault(unit_id, set()).add((performer_id, group_id))
        return worn

    def _first_choice(
        self,
        entry: RosterEntry,
        performer: Performer | None,
        units: list[WirelessUnit],
        worn: Worn,
    ) -> Seat | None:
        """The unit the person already wears, the CSV row's unit, or their sticky pin."""
        if performer is not None:
            for unit in units:
                wears_it_here = (performer.pk, self.group.pk) in worn.get(unit.pk, set())
                if wears_it_here and unit.pk not in self.claimed:
                    return self._seat(entry, performer, unit, "kept")
        asked = _named_unit(units, entry.unit_label)
        if asked is not None and self._free(asked, worn):
            return self._seat(entry, performer, asked, "asked for")
        pin = self.placements.get((performer.pk, entry.position.casefold())) if performer else None
        if pin is not None:
            pinned = next((u for u in units if u.pk == pin.wireless_unit_id), None)
            if pinned is not None and self._free(pinned, worn):
                return self._seat(entry, performer, pinned, "sticky pin")
        return None

    def _free_unit(
        self,
        entry: RosterEntry,
        performer: Performer | None,
        units: list[WirelessUnit],
        worn: Worn,
    ) -> Seat | None:
        unit = next((u for u in units if self._free(u, worn)), None)
        return None if unit is None else self._seat(entry, performer, unit, "free unit")

    def _free(self, unit: WirelessUnit, worn: Worn) -> bool:
        """Free: nobody claimed it in this plan, and nobody wears it but people the roster
        placed on it in this group (whose assignments this sync may end)."""
        if unit.pk in self.claimed:
            return False
        return all(
            group_id == self.group.pk and self._placed_here(performer_id, unit.pk)
            for performer_id, group_id in worn.get(unit.pk, set())
        )

    def _placed_here(self, performer_id: int, unit_id: int) -> bool:
        return any(
            p.current and p.performer_id == performer_id and p.wireless_unit_id == unit_id
            for p in self.placements.values()
        )

    def _seat(
        self, entry: RosterEntry, performer: Performer | None, unit: WirelessUnit, how: str
    ) -> Seat:
        self.claimed.add(unit.pk)
        notes = f"Roster: {entry.position}" + (f", from {entry.starts}" if entry.starts else "")
        return Seat(
            name=performer.name if performer is not None else entry.name,
            position=entry.position,
            unit_id=unit.pk,
            unit_label=unit.slot or unit.name or f"unit {unit.pk}",
            performer_id=performer.pk if performer is not None else None,
            pco_person_id=entry.pco_person_id,
            how=how,
            notes=notes,
        )

    def _unplaced(self, entry: RosterEntry, reason: str) -> None:
        self.result.unplaced.append(Unplaced(entry.name, entry.position, reason))

    def _collect(self, seats: dict[int, Seat]) -> None:
        result = self.result
        seated = {(s.performer_id, s.position.casefold(), s.unit_id) for s in seats.values()}
        for seat in seats.values():
            placement = (
                self.placements.get((seat.performer_id, seat.position.casefold()))
                if seat.performer_id is not None
                else None
            )
            is_current = (
                placement is not None
                and placement.current
                and placement.wireless_unit_id == seat.unit_id
            )
            if is_current:
                result.kept.append(replace(seat, placed=True))
            elif seat.how == "kept":
                result.kept.append(seat)
            else:
                result.added.append(seat)
            if seat.performer_id is None and seat.name not in result.new_performers:
                result.new_performers.append(seat.name)
        self._ended(seated)
        result.added.sort(key=lambda s: (s.position, s.unit_label))
        result.kept.sort(key=lambda s: (s.position, s.unit_label))

    def _ended(self, seated: set[tuple[int | None, str, int]]) -> None:
        current = [p for p in self.placements.values() if p.current]
        assignments = {
            (a.performer_id, a.wireless_unit_id): a
            for a in PerformerAssignment.objects.filter(
                is_active=True,
                monitoring_group=self.group,
                performer_id__in=[p.performer_id for p in current],
            ).select_related("performer", "wireless_unit")
        }
        for placement in current:
            key = (placement.performer_id, placement.position_name.casefold())
            if (*key, placement.wireless_unit_id) in seated:
                continue
            assignment = assignments.get((placement.performer_id, placement.wireless_unit_id))
            if assignment is None:  # ended (or moved to another group) by hand already
                continue
            unit = assignment.wireless_unit
            self.result.ended.append(
                Ended(
                    name=assignment.performer.name,
                    position=placement.position_name,
                    unit_label=unit.slot or unit.name or f"unit {unit.pk}",
                    assignment_id=assignment.pk,
                    placement_id=placement.pk,
                )
            )


def _named_unit(units: list[WirelessUnit], label: str) -> WirelessUnit | None:
    if not label:
        return None
    wanted = label.casefold()
    return next((u for u in units if wanted in (u.slot.casefold(), u.name.casefold())), None)
