"""TelemetryService: latest values saved in a constant number of statements."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from micboard.models import WirelessChassis, WirelessUnit
from micboard.services import TelemetryService
from micboard.services.telemetry import ChassisTelemetry, UnitTelemetry
from tests.realtime.conftest import build_live_stage

SEEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def stage(db):
    return build_live_stage([40001])


def test_latest_values_land_on_the_units(stage):
    heard, gone = stage.units[0], stage.units[1]
    WirelessUnit.objects.filter(pk=gone.pk).update(last_seen=SEEN)
    TelemetryService.save_units(
        [
            UnitTelemetry(heard.pk, "REPLACE", True, battery_bars=3, rf_a_dbm=-70.5,
                          antenna="B", last_seen=SEEN),
            UnitTelemetry(gone.pk, "PREV_GOOD", False),
        ]
    )  # fmt: skip
    heard.refresh_from_db()
    gone.refresh_from_db()
    assert (heard.status, heard.battery_bars, heard.rf_a_dbm, heard.antenna) == (
        "REPLACE", 3, -70.5, "B",
    )  # fmt: skip
    assert heard.battery_low
    assert heard.is_online
    assert heard.last_seen == SEEN
    assert (gone.status, gone.is_online, gone.last_seen) == ("PREV_GOOD", False, SEEN)


def test_receivers_are_marked_online_or_offline(stage):
    chassis = stage.chassis[0]
    TelemetryService.save_chassis([ChassisTelemetry(chassis.pk, True, SEEN)])
    TelemetryService.save_chassis([ChassisTelemetry(chassis.pk, False)])
    chassis = WirelessChassis.objects.get(pk=chassis.pk)
    assert (chassis.is_online, chassis.last_seen) == (False, SEEN)


def test_a_batch_costs_the_same_statements_for_one_unit_or_many(stage, django_assert_num_queries):
    def batch(units):
        return [UnitTelemetry(u.pk, "GOOD", True, battery_bars=5, last_seen=SEEN) for u in units]

    with django_assert_num_queries(3):  # savepoint, one executemany UPDATE, release
        TelemetryService.save_units(batch(stage.units[:1]))
    with django_assert_num_queries(3):
        TelemetryService.save_units(batch(stage.units))
