"""A worn pack on a performer raises an alert on the unit wearing it, through AlertService,
and taking it out (a healthy pack reported instead) resolves it."""

from __future__ import annotations

import pytest

from micboard.models import Alert
from micboard.services import AlertService
from realtime.protocols.base import Reading
from realtime.units.state import SignalLossHolds, UnitTracker
from tests.realtime.conftest import build_live_stage

HOLDS = SignalLossHolds(lost=3.0, back=30.0)


def conditions_after(tracker: UnitTracker, health: int | None, now: float) -> frozenset[str]:
    tracker.observe(Reading(channel=1, battery_bars=5, battery_health=health), now)
    return tracker.conditions


def test_the_tracker_says_when_the_pack_it_wears_is_worn():
    tracker = UnitTracker(7, signal_loss=HOLDS, pack_health_min=80)
    assert "pack_worn" not in conditions_after(tracker, 96, 1.0)
    assert "pack_worn" in conditions_after(tracker, 79, 2.0)
    assert "pack_worn" not in conditions_after(tracker, None, 3.0)  # AA cells: no health


def test_without_a_threshold_no_pack_is_worn():
    tracker = UnitTracker(7, signal_loss=HOLDS)
    assert "pack_worn" not in conditions_after(tracker, 10, 1.0)


@pytest.mark.django_db
def test_a_worn_pack_alert_names_the_performer_and_clears_with_a_good_pack():
    stage = build_live_stage([40001])
    unit = stage.units[0]
    tracker = UnitTracker(unit.pk, signal_loss=HOLDS, pack_health_min=80)
    tracker.observe(Reading(channel=1, battery_bars=5, battery_health=70), 1.0)
    raised = AlertService.apply_conditions({unit.pk: tracker.take_conditions() or frozenset()})
    assert [(a.kind, a.severity, a.message) for a in raised.raised] == [
        ("pack_worn", "warning", f"Worn battery pack: Jane Smith ({unit.slot})")
    ]
    tracker.observe(Reading(channel=1, battery_bars=5, battery_health=97), 2.0)
    cleared = AlertService.apply_conditions({unit.pk: tracker.take_conditions() or frozenset()})
    assert [a.pk for a in cleared.resolved] == [raised.raised[0].pk]
    assert not Alert.objects.open().filter(wireless_unit=unit).exists()
