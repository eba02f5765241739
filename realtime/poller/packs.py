"""Follow battery packs: note what bays and transmitters report, save it off the loop.

In the loop this only compares a pack's figures with the last ones seen for that bay or
unit (a dict look-up per reading); a change becomes a sighting, and once a second the
sightings go to PackService in the database thread. With the database away they wait
for the next try, up to MAX_PENDING (the oldest are dropped first: the newest say where
each pack is now).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from micboard.services.packs import BaySighting, PackService, Sighting, UnitSighting
from realtime.poller.database import run_db
from realtime.protocols.base import Reading
from realtime.protocols.shure_charger import Bay

logger = logging.getLogger(__name__)

MAX_PENDING = 5000
BayFigures = tuple[int | None, int | None, int | None] | None  # cycles, health, charge


class PackWatch:
    def __init__(self) -> None:
        self.dropped = 0
        self._units: dict[int, tuple[int, int]] = {}
        self._bays: dict[tuple[int, int], BayFigures] = {}
        self._pending: list[Sighting] = []

    def reading(self, unit_id: int, reading: Reading) -> None:
        cycles, health = reading.battery_cycles, reading.battery_health
        if not reading.rx_reachable or cycles is None or health is None:
            return  # no pack reported (off, AA cells, or a family without the figures)
        if self._units.get(unit_id) != (cycles, health):
            self._units[unit_id] = (cycles, health)
            self._add(UnitSighting(unit_id, _now(), cycles, health))

    def bay(self, charger_id: int, bay: Bay) -> None:
        figures: BayFigures = None
        if bay.present:
            if bay.cycle_count is None or bay.health_percent is None:
                return  # a pack whose figures are not in yet (or unknown): nothing to match
            figures = (bay.cycle_count, bay.health_percent, bay.charge_percent)
        key = (charger_id, bay.bay)
        if key in self._bays and self._bays[key] == figures:
            return
        self._bays[key] = figures  # an empty bay seen first still says "no pack here"
        cycles, health, charge = figures or (None, None, None)
        self._add(BaySighting(charger_id, bay.bay, _now(), cycles, health, charge))

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            await run_db(PackService.record, batch)
        except Exception:
            logger.warning("pack sightings not saved; keeping them for the next try", exc_info=True)
            self._pending = batch + self._pending
            self._trim()

    def _add(self, sighting: Sighting) -> None:
        self._pending.append(sighting)
        self._trim()

    def _trim(self) -> None:
        excess = len(self._pending) - MAX_PENDING
        if excess > 0:
            self.dropped += excess
            del self._pending[:excess]


def _now() -> datetime:
    return datetime.now(UTC)
