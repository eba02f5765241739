"""TelemetryService: the live path's latest readings, saved to the database in batches.

The poller keeps live state in Redis; these batches (every few seconds) make the models
current for pages, the admin and properties such as `WirelessUnit.battery_low`. They
touch only the telemetry columns, so they never overwrite an admin's edit of a name.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction

from micboard.models import WirelessChassis, WirelessUnit

UNIT_FIELDS = (
    "battery_bars",
    "battery_percent",
    "battery_minutes",
    "rf_a_dbm",
    "rf_b_dbm",
    "antenna",
    "audio_dbfs",
    "tx_offset_db",
    "frequency_khz",
    "status",
    "is_online",
)


@dataclass(frozen=True, slots=True)
class UnitTelemetry:
    """The latest telemetry of one unit; `last_seen` None keeps the stored value."""

    unit_id: int
    status: str
    is_online: bool
    battery_bars: int | None = None
    battery_percent: int | None = None
    battery_minutes: int | None = None
    rf_a_dbm: float | None = None
    rf_b_dbm: float | None = None
    antenna: str = ""
    audio_dbfs: float | None = None
    tx_offset_db: float | None = None
    frequency_khz: int | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChassisTelemetry:
    chassis_id: int
    is_online: bool
    last_seen: datetime | None = None


class TelemetryService:
    """Save the latest telemetry of many units and receivers with a few statements."""

    @staticmethod
    def save_units(batch: Collection[UnitTelemetry]) -> None:
        seen = [item for item in batch if item.last_seen is not None]
        unseen = [item for item in batch if item.last_seen is None]
        with transaction.atomic():
            _update_many(WirelessUnit, [*UNIT_FIELDS, "last_seen"], seen, _unit_values)
            _update_many(WirelessUnit, list(UNIT_FIELDS), unseen, _unit_values)

    @staticmethod
    def save_chassis(batch: Collection[ChassisTelemetry]) -> None:
        seen = [item for item in batch if item.last_seen is not None]
        unseen = [item for item in batch if item.last_seen is None]
        with transaction.atomic():
            _update_many(WirelessChassis, ["is_online", "last_seen"], seen, _chassis_values)
            _update_many(WirelessChassis, ["is_online"], unseen, _chassis_values)


def _update_many(
    model: type[models.Model],
    fields: list[str],
    items: Sequence[Any],
    values_of: Callable[[Any], dict[str, Any]],
) -> None:
    """Run one parameterised UPDATE per row through a single executemany().

    Why not bulk_update: for a thousand rows it builds a CASE expression per field with a
    thousand branches, which costs seconds of CPU in the poller's process every batch.
    """
    if not items:
        return
    opts = model._meta
    quote = connection.ops.quote_name
    columns = [_concrete(model, name) for name in fields]
    assignments = ", ".join(f"{quote(column)} = %s" for _, column in columns)
    _, pk_column = _concrete(model, "id")
    sql = f"UPDATE {quote(opts.db_table)} SET {assignments} WHERE {quote(pk_column)} = %s"
    rows = []
    for item in items:
        values = values_of(item)
        row = [field.get_db_prep_save(values[field.name], connection) for field, _ in columns]
        rows.append([*row, values["pk"]])
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _concrete(model: type[models.Model], name: str) -> tuple[models.Field[Any, Any], str]:
    """Return a field that is a column of the model's table, and that column's name."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is not a column"
    assert field.column is not None, f"{name} is not a column"
    return field, field.column


def _unit_values(item: UnitTelemetry) -> dict[str, Any]:
    return {
        "pk": item.unit_id,
        "battery_bars": item.battery_bars,
        "battery_percent": item.battery_percent,
        "battery_minutes": item.battery_minutes,
        "rf_a_dbm": item.rf_a_dbm,
        "rf_b_dbm": item.rf_b_dbm,
        "antenna": item.antenna,
        "audio_dbfs": item.audio_dbfs,
        "tx_offset_db": item.tx_offset_db,
        "frequency_khz": item.frequency_khz,
        "status": item.status,
        "is_online": item.is_online,
        "last_seen": item.last_seen,
    }


def _chassis_values(item: ChassisTelemetry) -> dict[str, Any]:
    return {"pk": item.chassis_id, "is_online": item.is_online, "last_seen": item.last_seen}
