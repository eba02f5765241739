"""PackService: where each battery pack is, and its history, from what the poller sees.

The poller reports sightings (a pack in a charger bay, a bay emptied, a transmitter
reporting its pack) in batches from its database thread; this is the only writer of
BatteryPack and PackEvent.

Recognising a pack (an assumption, written down in docs/devices.md): no family we read
reports a pack's serial, but a Shure rechargeable reports its charge cycles and health
both to the charger and, once in a transmitter, through the receiver. A sighting is the
pack whose cycles are within CYCLE_SLACK and health within HEALTH_SLACK of it, the
closest first, then the one that left a charger most recently. Packs that read the same
(a batch of new packs at 0 cycles and 100 %) cannot be told apart until they age apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F

from micboard.models import (
    BatteryPack,
    Charger,
    PackEvent,
    Performer,
    PerformerAssignment,
    WirelessUnit,
)

CYCLE_SLACK = 1  # a charge can count one more cycle between the bay and the transmitter
HEALTH_SLACK = 2  # the pack's gauge re-estimates its health as it goes


@dataclass(frozen=True, slots=True)
class BaySighting:
    """A charger bay as it reads now: a pack (its cycles, health, charge) or none."""

    charger_id: int
    bay: int
    at: datetime
    cycles: int | None = None  # None with `health`: the bay is empty
    health: int | None = None
    charge: int | None = None


@dataclass(frozen=True, slots=True)
class UnitSighting:
    """The pack a transmitter reports, through its receiver."""

    unit_id: int
    at: datetime
    cycles: int
    health: int


Sighting = BaySighting | UnitSighting


class PackService:
    @staticmethod
    def record(sightings: Sequence[Sighting]) -> None:
        """Apply the sightings in order (called by the poller, as the system)."""
        with transaction.atomic():
            for sighting in sightings:
                if isinstance(sighting, BaySighting):
                    _in_bay(sighting)
                else:
                    _in_unit(sighting)


def _close(pack: BatteryPack, cycles: int, health: int) -> bool:
    return (
        abs(pack.cycle_count - cycles) <= CYCLE_SLACK
        and abs(pack.health_percent - health) <= HEALTH_SLACK
    )


def _candidates(organization_id: int, cycles: int, health: int) -> list[BatteryPack]:
    near = BatteryPack.unscoped.filter(
        organization_id=organization_id,
        cycle_count__range=(cycles - CYCLE_SLACK, cycles + CYCLE_SLACK),
        health_percent__range=(health - HEALTH_SLACK, health + HEALTH_SLACK),
    ).order_by(F("last_seen").desc())
    return sorted(near, key=lambda p: abs(p.cycle_count - cycles) + abs(p.health_percent - health))


def _new_pack(organization_id: int, cycles: int, health: int, at: datetime) -> BatteryPack:
    number = BatteryPack.unscoped.filter(organization_id=organization_id).count() + 1
    return BatteryPack.unscoped.create(
        organization_id=organization_id,
        label=f"Pack {number}",
        cycle_count=cycles,
        health_percent=health,
        last_seen=at,
    )


def _event(pack: BatteryPack, kind: PackEvent.Kind, at: datetime, **where: object) -> None:
    PackEvent.unscoped.create(
        organization_id=pack.organization_id,
        pack=pack,
        kind=kind,
        at=at,
        cycle_count=pack.cycle_count,
        health_percent=pack.health_percent,
        **where,
    )


def _age(pack: BatteryPack, cycles: int, health: int, at: datetime, **where: object) -> None:
    """Keep the pack's newest cycles and health; a change is a point of its history."""
    changed = (pack.cycle_count, pack.health_percent) != (cycles, health)
    pack.cycle_count, pack.health_percent, pack.last_seen = cycles, health, at
    if changed:
        _event(pack, PackEvent.Kind.AGED, at, **where)


def _in_bay(sighting: BaySighting) -> None:
    charger = Charger.unscoped.filter(pk=sighting.charger_id).first()
    if charger is None:
        return
    there = BatteryPack.unscoped.filter(charger=charger, bay=sighting.bay).first()
    cycles, health = sighting.cycles, sighting.health
    if cycles is None or health is None:
        if there is not None:
            _off_charger(there, sighting.at)
        return
    if there is not None and not _close(there, cycles, health):
        _off_charger(there, sighting.at)
        there = None
    pack = there
    if pack is None:
        free = [
            p for p in _candidates(charger.organization_id, cycles, health) if p.charger_id is None
        ]
        pack = free[0] if free else _new_pack(charger.organization_id, cycles, health, sighting.at)
        pack.charger, pack.bay, pack.wireless_unit = charger, sighting.bay, None
        pack.cycle_count, pack.health_percent = cycles, health
        _event(pack, PackEvent.Kind.CHARGING, sighting.at, charger=charger, bay=sighting.bay)
    else:
        _age(pack, cycles, health, sighting.at, charger=charger, bay=sighting.bay)
    pack.charge_percent, pack.last_seen = sighting.charge, sighting.at
    pack.save()


def _off_charger(pack: BatteryPack, at: datetime) -> None:
    _event(pack, PackEvent.Kind.OFF_CHARGER, at, charger_id=pack.charger_id, bay=pack.bay)
    pack.charger, pack.bay, pack.last_seen = None, None, at
    pack.save()


def _in_unit(sighting: UnitSighting) -> None:
    unit = WirelessUnit.unscoped.filter(pk=sighting.unit_id).first()
    if unit is None:
        return
    cycles, health = sighting.cycles, sighting.health
    there = BatteryPack.unscoped.filter(wireless_unit=unit).first()
    if there is not None and _close(there, cycles, health):
        _age(there, cycles, health, sighting.at, wireless_unit=unit)
        there.save()
        return
    if there is not None:
        there.wireless_unit = None  # swapped for another pack; where it went shows later
        there.save()
    # A pack in another transmitter is not this one; one still in a bay may be (the
    # charger's "taken out" and the receiver's report race), after those already out.
    free = [
        p for p in _candidates(unit.organization_id, cycles, health) if p.wireless_unit_id is None
    ]
    free.sort(key=lambda p: p.charger_id is not None)
    pack = free[0] if free else _new_pack(unit.organization_id, cycles, health, sighting.at)
    if pack.charger_id is not None:
        _off_charger(pack, sighting.at)
    pack.cycle_count, pack.health_percent, pack.last_seen = cycles, health, sighting.at
    pack.wireless_unit = unit
    pack.save()
    _event(pack, PackEvent.Kind.INSERTED, sighting.at, wireless_unit=unit, performer=_wearer(unit))


def _wearer(unit: WirelessUnit) -> Performer | None:
    """The unit's first active assignment (by priority, as alerts pick it) names who."""
    assignment = (
        PerformerAssignment.objects.active()
        .filter(wireless_unit=unit)
        .select_related("performer")
        .first()
    )
    return assignment.performer if assignment is not None else None
