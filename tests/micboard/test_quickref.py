"""The performer quick reference (shared/reference/performer-quickref.md), call by call.

Each test makes the objects a documented call needs, makes the call with the documented
arguments, and checks what its caller would look at next. The example data is ours (a
touring musical), and wherever the reference shows a tech making the call, a tech does.
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

pytestmark = [
    pytest.mark.django_db,
    # The reference passes datetime.now(), naive, and Django says so; the calls still work.
    pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime"),
]


def cast_member(name: str = "Marisol Vega", **details: str) -> Performer:
    return PerformerService.create_performer(name=name, **details)


def assigned(performer: Performer, unit: WirelessUnit, group: MonitoringGroup, **options):
    return PerformerAssignmentService.create_assignment(
        performer=performer, wireless_unit=unit, monitoring_group=group, **options
    )


# --- user access --------------------------------------------------------------------------


def test_a_user_lists_their_groups_performers_and_devices(stage):
    marisol = cast_member()
    assigned(marisol, stage.units[2], stage.group_a)
    assigned(cast_member("Tomás Reyes"), stage.units[3], stage.group_b)
    user = User.objects.get(id=stage.tech_a.id)
    assert list(user.get_monitoring_groups()) == [stage.group_a]
    assert list(user.get_accessible_performers()) == [marisol]
    assert list(user.get_accessible_devices()) == [stage.units[2]]


# --- performers -----------------------------------------------------------------------------


def test_create_performer_stores_every_documented_field(stage):
    performer = PerformerService.create_performer(
        name="Marisol Vega",
        title="Alto sax",
        email="marisol@touring.example",
        phone="+44 20 7946 0000",
        photo_file=None,
        notes="Doubles on flute in act two",
    )
    performer.refresh_from_db()
    assert (performer.title, performer.email, performer.phone, performer.notes) == (
        "Alto sax",
        "marisol@touring.example",
        "+44 20 7946 0000",
        "Doubles on flute in act two",
    )


def test_get_performer_by_id_and_by_name(stage):
    marisol = cast_member()
    assert PerformerService.get_performer_by_id(performer_id=marisol.id) == marisol
    assert PerformerService.get_performer_by_name(name="marisol vega") == marisol
    assert PerformerService.get_performer_by_id(performer_id=marisol.id + 1000) is None


def test_get_all_and_search_performers_honour_active_only(stage):
    marisol = cast_member(title="Alto sax")
    resting = cast_member("Tomás Reyes")
    PerformerService.deactivate_performer(performer=resting)
    assert list(PerformerService.get_all_performers(active_only=True)) == [marisol]
    assert set(PerformerService.get_all_performers(active_only=False)) == {marisol, resting}
    assert list(PerformerService.search_performers(query="SAX", active_only=True)) == [marisol]
    assert list(PerformerService.search_performers(query="tomás", active_only=True)) == []


def test_update_performer_changes_only_the_named_fields(stage):
    performer = cast_member(title="Alto sax", email="marisol@touring.example")
    performer = PerformerService.update_performer(
        performer=performer, title="Tenor sax", notes="Moved to tenor for the tour"
    )
    performer.refresh_from_db()
    assert (performer.title, performer.notes, performer.email) == (
        "Tenor sax",
        "Moved to tenor for the tour",
        "marisol@touring.example",
    )


def test_deactivate_and_reactivate_performer(stage):
    performer = cast_member()
    PerformerService.deactivate_performer(performer=performer)
    assert PerformerService.count_total_performers(active_only=True) == 0
    PerformerService.reactivate_performer(performer=performer)
    assert PerformerService.count_total_performers(active_only=True) == 1


def test_delete_performer_removes_them_and_their_assignments(stage):
    performer = cast_member()
    assigned(performer, stage.units[0], stage.group_a)
    PerformerService.delete_performer(performer=performer)
    assert not Performer.objects.filter(pk=performer.pk).exists()
    assert PerformerAssignment.objects.count() == 0


def test_performer_statistics(stage):
    marisol = cast_member()
    cast_member("Tomás Reyes")
    assigned(marisol, stage.units[0], stage.group_a)
    assert PerformerService.count_total_performers(active_only=True) == 2
    assert list(PerformerService.get_performers_with_assignments()) == [marisol]


# --- assignments ----------------------------------------------------------------------------


def test_a_tech_creates_an_assignment_on_a_unit_new_to_their_groups(stage):
    """`assigned_by` records who made the assignment; it grants and checks nothing."""
    tech_user = stage.tech_a
    unit = stage.units[3]  # assigned nowhere, kept at no location
    assert unit not in tech_user.get_accessible_devices()
    assignment = PerformerAssignmentService.create_assignment(
        performer=cast_member(),
        wireless_unit=unit,
        monitoring_group=stage.group_a,
        priority="high",
        alert_enabled=True,
        notes="Radio mic taped at the hairline",
        assigned_by=tech_user,
    )
    assignment.refresh_from_db()
    assert (assignment.assigned_by, assignment.priority, assignment.notes) == (
        tech_user,
        "high",
        "Radio mic taped at the hairline",
    )
    assert unit in tech_user.get_accessible_devices()


def test_the_three_assignment_readers(stage):
    performer = cast_member()
    unit = stage.units[0]
    group = stage.group_a
    assignment = assigned(performer, unit, group)
    assert list(PerformerAssignmentService.get_performer_assignments(performer=performer)) == [
        assignment
    ]
    assert list(PerformerAssignmentService.get_unit_assignments(wireless_unit=unit)) == [assignment]
    assert list(PerformerAssignmentService.get_group_assignments(monitoring_group=group)) == [
        assignment
    ]


def test_get_assignments_needing_alerts_for_a_group_since_a_time(stage):
    wanted = assigned(cast_member(), stage.units[0], stage.group_a)
    assigned(cast_member("Quiet One"), stage.units[1], stage.group_a, alert_enabled=False)
    assigned(cast_member("Elsewhere"), stage.units[2], stage.group_b)
    alert_assignments = PerformerAssignmentService.get_assignments_needing_alerts(
        monitoring_group=stage.group_a, after=datetime.now() - timedelta(hours=1)
    )
    assert list(alert_assignments) == [wanted]


def test_update_assignment_and_update_alert_status(stage):
    assignment = assigned(cast_member(), stage.units[0], stage.group_a)
    assignment = PerformerAssignmentService.update_assignment(
        assignment=assignment, priority="critical", alert_enabled=True, notes="Spare pack ready"
    )
    PerformerAssignmentService.update_alert_status(assignment=assignment, alert_enabled=False)
    assignment.refresh_from_db()
    assert (assignment.priority, assignment.notes, assignment.alert_enabled) == (
        "critical",
        "Spare pack ready",
        False,
    )


def test_deactivate_reactivate_and_delete_assignment(stage):
    assignment = assigned(cast_member(), stage.units[0], stage.group_a)
    PerformerAssignmentService.deactivate_assignment(assignment=assignment)
    assert PerformerAssignmentService.count_total_assignments() == 0
    PerformerAssignmentService.reactivate_assignment(assignment=assignment)
    assert PerformerAssignmentService.count_total_assignments() == 1
    PerformerAssignmentService.delete_assignment(assignment=assignment)
    assert not PerformerAssignment.objects.exists()


def test_assignment_statistics(stage):
    assigned(cast_member(), stage.units[0], stage.group_a)
    assigned(cast_member("Quiet One"), stage.units[1], stage.group_a, alert_enabled=False)
    assert PerformerAssignmentService.count_total_assignments() == 2
    assert PerformerAssignmentService.count_assignments_with_alerts() == 1


# --- querysets and alert preferences --------------------------------------------------------


def test_with_assignments_prefetches_assignments_and_units(stage, django_assert_num_queries):
    for number, unit in enumerate(stage.units):
        assigned(cast_member(f"Ensemble {number}"), unit, stage.group_a)
    with django_assert_num_queries(2):
        performers = Performer.objects.active().with_assignments()
        slots = [[a.wireless_unit.slot for a in p.assignments.all()] for p in performers]
    assert len(slots) == 4


def test_with_performer_and_unit_selects_in_one_query(stage, django_assert_num_queries):
    for number, unit in enumerate(stage.units):
        assigned(cast_member(f"Ensemble {number}"), unit, stage.group_a)
    with django_assert_num_queries(1):
        assignments = PerformerAssignment.objects.filter(
            monitoring_group=stage.group_a
        ).with_performer_and_unit()
        rows = [(a.performer.name, a.wireless_unit.base_chassis.name) for a in assignments]
    assert len(rows) == 4


def test_needing_alerts_on_the_queryset(stage):
    assigned(cast_member(), stage.units[0], stage.group_a)
    assigned(cast_member("Quiet One"), stage.units[1], stage.group_a, alert_enabled=False)
    alert_assignments = PerformerAssignment.objects.needing_alerts(
        after=datetime.now() - timedelta(hours=24)
    )
    assert [a.performer.name for a in alert_assignments] == ["Marisol Vega"]


def test_alert_preferences_read_as_a_dict_and_save_per_field(stage):
    assigned(cast_member(), stage.units[0], stage.group_a)
    assignment = PerformerAssignment.objects.first()
    assert assignment.get_alert_preferences() == {
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


# --- common patterns ------------------------------------------------------------------------


def test_performers_created_in_bulk(stage):
    performers = [
        PerformerService.create_performer(name=f"Chorus {i}", title="Ensemble") for i in range(10)
    ]
    assert Performer.objects.filter(title="Ensemble").count() == len(performers) == 10


def test_one_performer_on_every_unit_of_a_chassis(stage):
    performer = PerformerService.get_performer_by_id(cast_member().id)
    for unit in WirelessUnit.objects.filter(chassis=stage.chassis):
        PerformerAssignmentService.create_assignment(
            performer=performer, wireless_unit=unit, monitoring_group=stage.group_a
        )
    assert performer.assignments.count() == len(stage.units)


def test_walking_the_alert_enabled_assignments_of_a_group(stage):
    tech = stage.tech_a
    assigned(cast_member(), stage.units[0], stage.group_a, assigned_by=tech)
    assigned(cast_member("Tomás Reyes"), stage.units[1], stage.group_a, assigned_by=tech)
    WirelessUnit.objects.filter(pk=stage.units[0].pk).update(battery_bars=1)
    told = []
    for assignment in PerformerAssignmentService.get_assignments_needing_alerts(
        monitoring_group=stage.group_a
    ):
        if assignment.wireless_unit.battery_low:
            told.append((assignment.assigned_by, assignment.performer.name))
    assert told == [(tech, "Marisol Vega")]


def test_a_deactivated_performer_leaves_every_users_queries(stage):
    resting = cast_member()
    assigned(resting, stage.units[0], stage.group_a)
    tech = stage.tech_a
    performer = PerformerService.get_performer_by_id(resting.id)
    PerformerService.deactivate_performer(performer=performer)

    assert list(tech.get_accessible_performers()) == []
    assert list(stage.admin.get_accessible_performers()) == []
    assert stage.units[0] not in tech.get_accessible_devices()
    assert list(PerformerAssignmentService.get_group_assignments(stage.group_a)) == []
    assert list(PerformerAssignmentService.get_assignments_needing_alerts(stage.group_a)) == []
    assert list(PerformerAssignment.objects.needing_alerts()) == []
    assert list(Performer.objects.all()) == [resting]  # still there, to reactivate


def test_one_unit_shared_by_several_performers(stage):
    shared_unit = stage.units[1]
    for performer in [cast_member(f"Understudy {n}") for n in range(3)]:
        PerformerAssignmentService.create_assignment(
            performer=performer, wireless_unit=shared_unit, monitoring_group=stage.group_b
        )
    assert PerformerAssignmentService.get_unit_assignments(wireless_unit=shared_unit).count() == 3


# --- legacy, tenancy, soft delete, audit ----------------------------------------------------


def test_the_legacy_assignment_service_still_works_and_warns(stage):
    channel = stage.chassis.channels.first()
    with pytest.warns(DeprecationWarning, match="PerformerAssignmentService"):
        link = AssignmentService.create_assignment(
            user=stage.tech_a, channel=channel, alert_enabled=True
        )
    assert (link.user, link.channel) == (stage.tech_a, channel)


def test_current_services_raise_no_deprecation_warning(stage):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assigned(cast_member(), stage.units[0], stage.group_a)


def test_queries_are_tenant_filtered_with_no_configuration(stage):
    cast_member()
    assert Performer.objects.all().count() == 1
    assert PerformerAssignment.objects.all().count() == 0


def test_soft_delete_keeps_the_row_out_of_active(stage):
    performer = cast_member()
    PerformerService.deactivate_performer(performer)
    assert performer.is_active is False
    assert list(Performer.objects.active()) == []
    assert list(Performer.objects.all()) == [performer]


def test_the_audit_fields_say_who_and_when(stage):
    assigned(cast_member(), stage.units[0], stage.group_a, assigned_by=stage.tech_a)
    assignment = PerformerAssignment.objects.first()
    assert assignment.assigned_by == stage.tech_a
    assert assignment.assigned_at <= assignment.updated_at
    assert [(h.history_type, h.history_user) for h in assignment.history.all()] == [
        ("+", stage.tech_a)
    ]


# --- common queries -------------------------------------------------------------------------


def test_the_common_queries(stage):
    lead = cast_member()
    swing = cast_member("Tomás Reyes")
    cast_member("Not Cast Yet")
    assigned(lead, stage.units[0], stage.group_a, priority="critical")
    assigned(lead, stage.units[1], stage.group_b)
    assigned(swing, stage.units[0], stage.group_a)

    per_group = Performer.objects.annotate(
        group_count=Count("assignments__monitoring_group", distinct=True)
    )
    assert {p.name: p.group_count for p in per_group} == {
        "Marisol Vega": 2,
        "Tomás Reyes": 1,
        "Not Cast Yet": 0,
    }
    assert [p.name for p in Performer.objects.exclude(assignments__isnull=False)] == [
        "Not Cast Yet"
    ]
    assert PerformerAssignment.objects.filter(priority="critical").count() == 1
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


# --- troubleshooting ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_assignment_is_recovered_inside_the_callers_transaction(transactional_db):
    from micboard.models import Organization
    from tests.micboard.conftest import build_stage

    stage = build_stage(Organization.default())
    performer = cast_member()
    unit = stage.units[0]
    first = assigned(performer, unit, stage.group_a)
    with transaction.atomic():
        try:
            assignment = assigned(performer, unit, stage.group_a)
        except IntegrityError:
            assignment = PerformerAssignment.objects.get(performer=performer, wireless_unit=unit)
        PerformerService.update_performer(performer=performer, notes="written after the clash")
    assert assignment == first
    performer.refresh_from_db()
    assert performer.notes == "written after the clash"


def test_a_user_in_no_group_is_added_to_one(stage):
    newcomer = User.objects.create_user("newcomer", password="pw-for-tests-only")
    user = User.objects.get(id=newcomer.id)
    if not user.get_monitoring_groups():
        MonitoringGroup.objects.first().users.add(user)
    assert user.get_monitoring_groups().count() == 1


def test_a_performer_becomes_accessible_once_assigned_in_the_users_group(stage):
    visiting = cast_member("Visiting Artist")
    assigned(visiting, stage.units[1], stage.group_b)
    user = stage.tech_a
    assert visiting.id not in [p.id for p in user.get_accessible_performers()]
    assigned(visiting, stage.units[0], stage.group_a)
    assert visiting.id in [p.id for p in user.get_accessible_performers()]
