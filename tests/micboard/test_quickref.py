"""Every snippet of the performer quick reference, run as written.

Each test creates the objects a snippet assumes (performer, unit, group, tech_user...)
and then runs the snippet's lines unchanged, asserting what a user would check next.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count

from micboard.models import MonitoringGroup, Performer, PerformerAssignment, WirelessUnit
from micboard.services import AssignmentService, PerformerAssignmentService, PerformerService

pytestmark = pytest.mark.django_db


def test_it_imports_and_exposes_user_access(stage):
    user = User.objects.get(id=stage.tech_a.id)
    groups = user.get_monitoring_groups()
    performers = user.get_accessible_performers()
    devices = user.get_accessible_devices()
    assert list(groups) == [stage.group_a]
    assert list(performers) == []
    assert set(devices) == set()  # nothing assigned, and no unit kept at the group's location


def test_it_runs_performer_crud_as_documented(stage):
    performer = PerformerService.create_performer(
        name="Jane Smith",
        title="Lead Vocals",
        email="jane@band.com",
        phone="+1234567890",
        photo_file=None,  # Optional file object
        notes="Professional session singer",
    )
    assert PerformerService.get_performer_by_id(performer_id=performer.id) == performer
    assert PerformerService.get_performer_by_name(name="Jane Smith") == performer
    all_performers = PerformerService.get_all_performers(active_only=True)
    results = PerformerService.search_performers(query="jane", active_only=True)
    assert list(all_performers) == [performer]
    assert list(results) == [performer]

    performer = PerformerService.update_performer(
        performer=performer,
        title="Co-Lead",  # Only fields to change
        notes="Now co-lead",
    )
    performer.refresh_from_db()
    assert (performer.title, performer.notes, performer.email) == (
        "Co-Lead",
        "Now co-lead",
        "jane@band.com",
    )

    PerformerService.deactivate_performer(performer=performer)
    assert PerformerService.count_total_performers(active_only=True) == 0
    PerformerService.reactivate_performer(performer=performer)
    count = PerformerService.count_total_performers(active_only=True)
    with_assignments = PerformerService.get_performers_with_assignments()
    assert count == 1
    assert list(with_assignments) == []

    PerformerService.delete_performer(performer=performer)
    assert not Performer.objects.filter(pk=performer.pk).exists()


def test_it_runs_assignment_management_as_documented(stage):
    performer = PerformerService.create_performer(name="Jane Smith")
    unit = stage.units[0]
    group = stage.group_a
    unit.location = stage.location_a  # the tech's group watches the main stage's units
    unit.save()
    tech_user = stage.tech_a

    assignment = PerformerAssignmentService.create_assignment(
        performer=performer,
        wireless_unit=unit,
        monitoring_group=group,
        priority="high",  # low, normal, high, critical
        alert_enabled=True,
        notes="Lead microphone",
        assigned_by=tech_user,
    )
    assert assignment.assigned_by == tech_user

    performer_assignments = PerformerAssignmentService.get_performer_assignments(
        performer=performer
    )
    unit_assignments = PerformerAssignmentService.get_unit_assignments(wireless_unit=unit)
    group_assignments = PerformerAssignmentService.get_group_assignments(monitoring_group=group)
    assert (
        list(performer_assignments)
        == list(unit_assignments)
        == list(group_assignments)
        == [assignment]
    )

    alert_assignments = PerformerAssignmentService.get_assignments_needing_alerts(
        monitoring_group=group, after=datetime.now() - timedelta(hours=1)
    )
    assert list(alert_assignments) == [assignment]

    assignment = PerformerAssignmentService.update_assignment(
        assignment=assignment, priority="critical", alert_enabled=True, notes="Changed to critical"
    )
    PerformerAssignmentService.update_alert_status(assignment=assignment, alert_enabled=False)
    assignment.refresh_from_db()
    assert (assignment.priority, assignment.alert_enabled) == ("critical", False)
    with_alerts = PerformerAssignmentService.count_assignments_with_alerts()
    assert with_alerts == 0

    PerformerAssignmentService.deactivate_assignment(assignment=assignment)
    assert PerformerAssignmentService.count_total_assignments() == 0
    PerformerAssignmentService.reactivate_assignment(assignment=assignment)
    total = PerformerAssignmentService.count_total_assignments()
    assert total == 1

    PerformerAssignmentService.delete_assignment(assignment=assignment)
    assert PerformerAssignment.objects.count() == 0


def test_it_runs_the_query_optimisation_snippets(stage, django_assert_num_queries):
    group = stage.group_a
    for number, unit in enumerate(stage.units):
        performer = PerformerService.create_performer(name=f"P{number}")
        PerformerAssignmentService.create_assignment(
            performer=performer, wireless_unit=unit, monitoring_group=group
        )

    with django_assert_num_queries(2):  # performers, assignments joined to their units
        performers = Performer.objects.active().with_assignments()
        names = [(p.name, [a.wireless_unit.slot for a in p.assignments.all()]) for p in performers]
    assert len(names) == 4

    with django_assert_num_queries(1):
        assignments = PerformerAssignment.objects.filter(
            monitoring_group=group
        ).with_performer_and_unit()
        rows = [
            (a.performer.name, a.wireless_unit.base_chassis.name, a.wireless_unit.location)
            for a in assignments
        ]
    assert len(rows) == 4

    alert_assignments = PerformerAssignment.objects.needing_alerts(
        after=datetime.now() - timedelta(hours=24)
    )
    assert alert_assignments.count() == 4


def test_it_reads_and_edits_alert_preferences(stage):
    performer = PerformerService.create_performer(name="Jane Smith")
    PerformerAssignmentService.create_assignment(
        performer=performer, wireless_unit=stage.units[0], monitoring_group=stage.group_a
    )

    assignment = PerformerAssignment.objects.first()
    alerts = assignment.get_alert_preferences()
    assert alerts == {
        "battery_low": True,
        "signal_loss": True,
        "audio_low": False,
        "device_offline": True,
    }

    assignment.alert_on_battery_low = False
    assignment.alert_on_signal_loss = True
    assignment.save()
    assignment.refresh_from_db()
    assert assignment.get_alert_preferences()["battery_low"] is False


def test_it_runs_the_common_patterns(stage, mailoutbox):
    performers = [
        PerformerService.create_performer(name=f"Performer {i}", title="Band Member")
        for i in range(10)
    ]
    assert len(performers) == 10

    chassis = stage.chassis
    group = stage.group_a
    performer = PerformerService.get_performer_by_id(performers[0].id)
    for unit in WirelessUnit.objects.filter(chassis=chassis):
        PerformerAssignmentService.create_assignment(
            performer=performer, wireless_unit=unit, monitoring_group=group
        )
    assert performer.assignments.count() == 4

    WirelessUnit.objects.filter(pk=stage.units[0].pk).update(battery_bars=2)
    notified = []

    def notify_user(user, message):
        notified.append(message)

    stage_group = group
    alert_assignments = PerformerAssignmentService.get_assignments_needing_alerts(
        monitoring_group=stage_group
    )

    for assignment in alert_assignments:
        if assignment.wireless_unit.battery_low:
            notify_user(assignment.assigned_by, f"Low battery: {assignment.performer.name}")
    assert notified == ["Low battery: Performer 0"]

    performer = PerformerService.get_performer_by_id(performers[0].id)
    PerformerService.deactivate_performer(performer=performer)
    # All assignments automatically filtered out in queries
    assert list(PerformerAssignmentService.get_group_assignments(monitoring_group=group)) == []

    festival_headliners = performers[1:4]
    shared_stage_mic = stage.units[1]
    festival_group = stage.group_b
    for performer in festival_headliners:
        PerformerAssignmentService.create_assignment(
            performer=performer, wireless_unit=shared_stage_mic, monitoring_group=festival_group
        )
    assert (
        PerformerAssignmentService.get_unit_assignments(wireless_unit=shared_stage_mic).count() == 3
    )


def test_it_keeps_the_legacy_assignment_service_working(stage):
    tech_user = stage.tech_a
    rf_channel = stage.chassis.channels.first()
    with pytest.warns(DeprecationWarning, match="PerformerAssignmentService"):
        assignment = AssignmentService.create_assignment(
            user=tech_user, channel=rf_channel, alert_enabled=True
        )
    assert assignment.channel == rf_channel

    performer = PerformerService.create_performer(name="Performer Name")
    assignment = PerformerAssignmentService.create_assignment(
        performer=performer, wireless_unit=stage.units[0], monitoring_group=stage.group_a
    )
    assert assignment.pk


def test_it_filters_by_tenant_without_configuration(stage):
    PerformerService.create_performer(name="Jane Smith")
    performers = Performer.objects.all()
    assignments = PerformerAssignment.objects.all()
    assert performers.count() == 1
    assert assignments.count() == 0


def test_it_runs_the_soft_delete_patterns(stage):
    performer = PerformerService.create_performer(name="Jane Smith")
    PerformerService.deactivate_performer(performer)
    assert performer.is_active is False
    active_performers = Performer.objects.active()
    all_performers = Performer.objects.all()  # Note: _all_
    assert list(active_performers) == []
    assert list(all_performers) == [performer]


def test_it_keeps_the_audit_fields(stage):
    performer = PerformerService.create_performer(name="Jane Smith")
    PerformerAssignmentService.create_assignment(
        performer=performer,
        wireless_unit=stage.units[0],
        monitoring_group=stage.group_a,
        assigned_by=stage.admin,
    )
    assignment = PerformerAssignment.objects.first()
    creator = assignment.assigned_by  # User who created assignment
    created_at = assignment.assigned_at  # Timestamp
    updated_at = assignment.updated_at  # Auto-updated on save
    assert creator == stage.admin
    assert created_at <= updated_at
    history = list(assignment.history.all())
    assert [(h.history_type, h.history_user) for h in history] == [("+", stage.admin)]


def test_it_runs_the_common_queries(stage):
    p1 = PerformerService.create_performer(name="A")
    p2 = PerformerService.create_performer(name="B")
    PerformerService.create_performer(name="Unassigned")
    PerformerAssignmentService.create_assignment(
        performer=p1,
        wireless_unit=stage.units[0],
        monitoring_group=stage.group_a,
        priority="critical",
    )
    PerformerAssignmentService.create_assignment(
        performer=p1, wireless_unit=stage.units[1], monitoring_group=stage.group_b
    )
    PerformerAssignmentService.create_assignment(
        performer=p2, wireless_unit=stage.units[0], monitoring_group=stage.group_a
    )

    group_count = Performer.objects.annotate(
        group_count=Count("assignments__monitoring_group", distinct=True)
    )
    assert {p.name: p.group_count for p in group_count} == {"A": 2, "B": 1, "Unassigned": 0}

    unassigned = Performer.objects.exclude(assignments__isnull=False)
    assert [p.name for p in unassigned] == ["Unassigned"]

    critical = PerformerAssignment.objects.filter(priority="critical")
    assert critical.count() == 1

    crowded = (
        PerformerAssignment.objects.values("wireless_unit")
        .annotate(count=Count("id"))
        .filter(count__gt=1)
    )
    assert list(crowded) == [{"wireless_unit": stage.units[0].pk, "count": 2}]

    recent = PerformerAssignment.objects.filter(
        updated_at__gte=datetime.now() - timedelta(hours=24)
    )
    assert recent.count() == 3


def test_it_orders_priority_by_severity(stage):
    for number, priority in enumerate(["normal", "critical", "low", "high"]):
        performer = PerformerService.create_performer(name=f"P{number}")
        PerformerAssignmentService.create_assignment(
            performer=performer,
            wireless_unit=stage.units[number],
            monitoring_group=stage.group_a,
            priority=priority,
        )
    assert [a.priority for a in PerformerAssignment.objects.all()] == [
        "critical",
        "high",
        "normal",
        "low",
    ]


@pytest.mark.django_db(transaction=True)
def test_it_recovers_from_a_duplicate_assignment_as_troubleshooting_says(transactional_db):
    from micboard.models import Organization
    from tests.micboard.conftest import build_stage

    stage = build_stage(Organization.default())
    performer = PerformerService.create_performer(name="Jane Smith")
    unit = stage.units[0]
    PerformerAssignmentService.create_assignment(
        performer=performer, wireless_unit=unit, monitoring_group=stage.group_a
    )
    with transaction.atomic():  # the caller's own transaction stays usable
        try:
            assignment = PerformerAssignmentService.create_assignment(
                performer=performer,
                wireless_unit=unit,
                monitoring_group=stage.group_a,
            )
        except IntegrityError:
            assignment = PerformerAssignment.objects.get(performer=performer, wireless_unit=unit)
        PerformerService.update_performer(performer=performer, notes="still in the transaction")
    assert assignment.pk is not None
    performer.refresh_from_db()
    assert performer.notes == "still in the transaction"


def test_it_runs_the_group_not_found_troubleshooting(stage):
    loner = User.objects.create_user("loner", password="x")
    user = User.objects.get(id=loner.id)
    if not user.get_monitoring_groups():
        group = MonitoringGroup.objects.first()
        group.users.add(user)
    assert list(user.get_monitoring_groups()) == [MonitoringGroup.objects.first()]


def test_it_runs_the_access_denied_troubleshooting(stage):
    performer = PerformerService.create_performer(name="Side Singer")
    PerformerAssignmentService.create_assignment(
        performer=performer, wireless_unit=stage.units[1], monitoring_group=stage.group_b
    )
    user = stage.tech_a
    performer_id = performer.id
    accessible = user.get_accessible_performers()
    assert performer_id not in [p.id for p in accessible]
    PerformerAssignmentService.create_assignment(
        performer=performer, wireless_unit=stage.units[0], monitoring_group=stage.group_a
    )
    assert performer_id in [p.id for p in user.get_accessible_performers()]


def test_no_deprecation_warning_from_current_services(stage):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        performer = PerformerService.create_performer(name="Jane")
        PerformerAssignmentService.create_assignment(
            performer=performer, wireless_unit=stage.units[0], monitoring_group=stage.group_a
        )
