"""Telemetry batches: the latest state of each unit and device, saved every few seconds.

Only the newest value per unit is kept between batches. A batch that fails (database
down) is merged back under anything newer and retried with the next one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from micboard.services.telemetry import ChassisTelemetry, TelemetryService, UnitTelemetry
from realtime.poller.database import run_db
from realtime.units.state import UnitState

logger = logging.getLogger(__name__)


class TelemetryBatcher:
    def __init__(self) -> None:
        self._units: dict[int, UnitState] = {}
        self._chassis: dict[int, tuple[bool, float]] = {}
        self.failed_batches = 0  # shown by the heartbeat: is the database keeping up?

    @property
    def pending(self) -> int:
        return len(self._units) + len(self._chassis)

    def record(self, state: UnitState) -> None:
        self._units[state.id] = state

    def chassis_seen(self, chassis_id: int, reachable: bool, at: float) -> None:
        self._chassis[chassis_id] = (reachable, at)

    async def flush(self) -> bool:
        """Save what is pending; return False (and keep it) when the database fails."""
        units, self._units = self._units, {}
        chassis, self._chassis = self._chassis, {}
        if not units and not chassis:
            return True
        unit_rows = [unit_telemetry(state) for state in units.values()]
        chassis_rows = [chassis_telemetry(cid, *seen) for cid, seen in chassis.items()]
        try:
            await run_db(_save, unit_rows, chassis_rows)
        except Exception:
            logger.warning("telemetry batch not saved; retrying later", exc_info=True)
            self.failed_batches += 1
            self._units = {**units, **self._units}
            self._chassis = {**chassis, **self._chassis}
            return False
        return True


def unit_telemetry(state: UnitState) -> UnitTelemetry:
    heard = bool(state.online and state.tx_on)
    return UnitTelemetry(
        unit_id=state.id,
        status=state.status,
        is_online=heard,
        battery_bars=state.bars,
        battery_percent=state.percent,
        battery_minutes=state.minutes,
        rf_a_dbm=state.rf_a,
        rf_b_dbm=state.rf_b,
        antenna=state.antenna or "",
        audio_dbfs=state.audio,
        tx_offset_db=state.tx_offset,
        frequency_khz=state.freq,
        last_seen=_when(state.ts) if heard else None,
    )


def chassis_telemetry(chassis_id: int, reachable: bool, at: float) -> ChassisTelemetry:
    return ChassisTelemetry(chassis_id, reachable, _when(at) if reachable else None)


def _save(units: list[UnitTelemetry], chassis: list[ChassisTelemetry]) -> None:
    TelemetryService.save_units(units)
    TelemetryService.save_chassis(chassis)


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
