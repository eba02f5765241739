"""AlertService: one alert per unit, group and condition, resolution, flags, access."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from micboard.models import Alert
from micboard.services import AlertService, PerformerAssignmentService, PerformerService
from tests.realtime.conftest import build_live_stage


@pytest.fixture
def stage(db):
    return build_live_stage([40001])


def open_alerts(unit):
    return list(Alert.objects.open().filter(wireless_unit=unit).values_list("kind", "assignment"))


def test_a_condition_opens_exactly_one_alert(stage):
    unit = stage.units[0]
    first = AlertService.apply_conditions({unit.pk: frozenset({"battery_low"})})
    again = AlertService.apply_conditions({unit.pk: frozenset({"battery_low"})})
    assert [a.message for a in first.raised] == [f"Battery low: Jane Smith ({unit.slot})"]
    assert (again.raised, again.resolved) == ([], [])
    assert open_alerts(unit) == [("battery_low", stage.assignments[0].pk)]


def test_performers_sharing_a_unit_on_one_wall_get_one_alert_naming_them_all(stage):
    unit = stage.units[0]
    extra = PerformerService.create_performer("Understudy")
    PerformerAssignmentService.create_assignment(extra, unit, stage.group_a)
    changes = AlertService.apply_conditions({unit.pk: frozenset({"signal_loss"})})
    assert [a.message for a in changes.raised] == [
        f"Signal loss: Jane Smith, Understudy ({unit.slot})"
    ]
    assert open_alerts(unit) == [("signal_loss", stage.assignments[0].pk)]


def test_an_alert_is_resolved_when_its_unit_leaves_the_group(stage):
    unit = stage.units[0]
    raised = AlertService.apply_conditions({unit.pk: frozenset({"battery_low"})}).raised
    PerformerAssignmentService.deactivate_assignment(stage.assignments[0])
    changes = AlertService.apply_conditions({unit.pk: frozenset({"battery_low"})})
    assert ([a.pk for a in changes.resolved], changes.raised) == ([raised[0].pk], [])
    assert open_alerts(unit) == []


def test_each_group_of_a_shared_unit_gets_its_own_alert(stage):
    unit = stage.units[0]
    extra = PerformerService.create_performer("Understudy")
    second = PerformerAssignmentService.create_assignment(extra, unit, stage.group_b)
    changes = AlertService.apply_conditions({unit.pk: frozenset({"signal_loss"})})
    assert sorted((a.assignment_id, a.monitoring_group_id) for a in changes.raised) == sorted(
        [(stage.assignments[0].pk, stage.group_a.pk), (second.pk, stage.group_b.pk)]
    )


def test_an_alert_is_resolved_when_its_condition_clears(stage):
    unit = stage.units[0]
    raised = AlertService.apply_conditions({unit.pk: frozenset({"battery_low"})}).raised
    changes = AlertService.apply_conditions({unit.pk: frozenset({"battery_critical"})})
    assert [a.pk for a in changes.resolved] == [raised[0].pk]
    assert [a.kind for a in changes.raised] == ["battery_critical"]
    cleared = AlertService.apply_conditions({unit.pk: frozenset()})
    assert [a.kind for a in cleared.resolved] == ["battery_critical"]
    assert open_alerts(unit) == []
    assert Alert.objects.filter(wireless_unit=unit, resolved_at__isnull=False).count() == 2


def test_a_condition_that_returns_opens_a_new_alert(stage):
    unit = stage.units[0]
    for conditions in ({"device_offline"}, set(), {"device_offline"}):
        AlertService.apply_conditions({unit.pk: frozenset(conditions)})
    assert Alert.objects.filter(wireless_unit=unit).count() == 2
    assert len(open_alerts(unit)) == 1


def test_alert_enabled_off_silences_every_condition(stage):
    PerformerAssignmentService.update_alert_status(stage.assignments[0], alert_enabled=False)
    every = frozenset({"battery_critical", "signal_loss", "audio_low", "device_offline"})
    assert AlertService.apply_conditions({stage.units[0].pk: every}).raised == []


@pytest.mark.parametrize(
    ("condition", "flag"),
    [
        ("battery_low", "alert_on_battery_low"),
        ("battery_critical", "alert_on_battery_low"),
        ("signal_loss", "alert_on_signal_loss"),
        ("audio_low", "alert_on_audio_low"),
        ("device_offline", "alert_on_device_offline"),
    ],
)
def test_each_flag_decides_its_condition(stage, condition, flag):
    unit, assignment = stage.units[0], stage.assignments[0]
    PerformerAssignmentService.update_alert_status(assignment, **{flag: False})
    assert AlertService.apply_conditions({unit.pk: frozenset({condition})}).raised == []
    PerformerAssignmentService.update_alert_status(assignment, **{flag: True})
    raised = AlertService.apply_conditions({unit.pk: frozenset({condition})}).raised
    assert [a.kind for a in raised] == [condition]


def test_audio_low_is_off_by_default(stage):
    assert AlertService.apply_conditions({stage.units[0].pk: frozenset({"audio_low"})}).raised == []


def test_deactivated_assignments_and_performers_raise_nothing(stage):
    PerformerAssignmentService.deactivate_assignment(stage.assignments[0])
    PerformerService.deactivate_performer(stage.assignments[1].performer)
    conditions = frozenset({"battery_critical"})
    changes = AlertService.apply_conditions({u.pk: conditions for u in stage.units[:2]})
    assert changes.raised == []


def test_applying_conditions_costs_the_same_queries_for_one_unit_or_many(
    stage, django_assert_num_queries
):
    with django_assert_num_queries(4):  # savepoint, open alerts, active assignments, release
        AlertService.apply_conditions({stage.units[0].pk: frozenset({"audio_low"})})
    with django_assert_num_queries(4):
        AlertService.apply_conditions({u.pk: frozenset({"audio_low"}) for u in stage.units})


def test_a_member_of_the_group_acknowledges_an_alert(stage):
    alert = AlertService.raise_alert(stage.assignments[0], "battery_low")
    AlertService.acknowledge(alert, by_user=stage.tech_a)
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.acknowledged_at is not None) == (stage.tech_a, True)


@pytest.mark.parametrize("who", ["tech_b", "anonymous", "nobody"])
def test_acknowledging_needs_access_to_the_alerts_group(stage, who):
    alert = AlertService.raise_alert(stage.assignments[0], "battery_low")
    user = {"tech_b": stage.tech_b, "anonymous": AnonymousUser(), "nobody": None}[who]
    with pytest.raises(PermissionDenied):
        AlertService.acknowledge(alert, by_user=user)
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
