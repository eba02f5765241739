"""Service behaviour beyond the quick reference: validation, atomicity, announcements,
audit entries and constant query counts."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from micboard.events import DomainChange, domain_changed
from micboard.models import Performer, PerformerAssignment, WirelessUnit
from micboard.services import PerformerAssignmentService, PerformerService
from tests.factories import make_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def announcements():
    received: list[DomainChange] = []

    def listen(sender, change, **kwargs):
        received.append(change)

    domain_changed.connect(listen)
    yield received
    domain_changed.disconnect(listen)


def png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Jane", "email": "not-an-email"}, "email"),
    ],
)
def test_create_performer_names_the_bad_field(stage, fields, bad_field):
    with pytest.raises(ValidationError) as raised:
        PerformerService.create_performer(**fields)
    assert bad_field in raised.value.message_dict
    assert Performer.objects.count() == 0


def test_update_performer_refuses_unknown_fields(stage):
    performer = PerformerService.create_performer(name="Jane")
    with pytest.raises(ValidationError) as raised:
        PerformerService.update_performer(performer, is_active=False, organization=None)
    assert set(raised.value.message_dict) == {"is_active", "organization"}


def test_create_assignment_validates_priority(stage):
    performer = PerformerService.create_performer(name="Jane")
    with pytest.raises(ValidationError) as raised:
        PerformerAssignmentService.create_assignment(
            performer=performer,
            wireless_unit=stage.units[0],
            monitoring_group=stage.group_a,
            priority="urgent",
        )
    assert "priority" in raised.value.message_dict


def test_create_assignment_refuses_unknown_alert_flags(stage):
    performer = PerformerService.create_performer(name="Jane")
    with pytest.raises(ValidationError) as raised:
        PerformerAssignmentService.create_assignment(
            performer=performer,
            wireless_unit=stage.units[0],
            monitoring_group=stage.group_a,
            alert_on_everything=True,
        )
    assert "alert_on_everything" in raised.value.message_dict


def test_photo_upload_accepts_images_and_rejects_the_rest(stage, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    good = SimpleUploadedFile("jane.png", png_bytes(), content_type="image/png")
    performer = PerformerService.create_performer(name="Jane", photo_file=good)
    assert performer.photo.name.startswith("performers/")
    for bad in (
        SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png"),
        SimpleUploadedFile("bomb.png", png_bytes((6000, 6000)), content_type="image/png"),
    ):
        with pytest.raises(ValidationError) as raised:
            PerformerService.create_performer(name="Bob", photo_file=bad)
        assert "photo" in raised.value.message_dict
    assert Performer.objects.count() == 1


def test_changes_are_announced_only_after_commit(
    stage, announcements, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        performer = PerformerService.create_performer(name="Jane")
        assignment = PerformerAssignmentService.create_assignment(
            performer=performer, wireless_unit=stage.units[0], monitoring_group=stage.group_a
        )
    kinds = [change.kind for change in announcements]
    assert kinds == ["performer.created", "assignment.created"]
    assert announcements[1].group_ids == {stage.group_a.pk}
    assert announcements[1].unit_ids == {stage.units[0].pk}

    announcements.clear()
    with django_capture_on_commit_callbacks(execute=True):
        PerformerAssignmentService.update_assignment(assignment, monitoring_group=stage.group_b)
    assert announcements[0].group_ids == {stage.group_a.pk, stage.group_b.pk}


def test_a_rolled_back_change_is_not_announced(
    stage, announcements, django_capture_on_commit_callbacks
):
    from django.db import transaction

    def create_then_give_up() -> None:
        with transaction.atomic():
            PerformerService.create_performer(name="Ghost")
            raise RuntimeError("the caller gives up")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        create_then_give_up()
    assert callbacks == []
    assert announcements == []
    assert Performer.objects.count() == 0


def test_every_change_leaves_an_audit_entry(stage):
    performer = PerformerService.create_performer(name="Jane", by_user=stage.admin)
    PerformerService.update_performer(performer, title="Lead", by_user=stage.admin)
    PerformerService.deactivate_performer(performer, by_user=stage.admin)
    entries = list(performer.history.order_by("history_date"))
    assert [(e.history_type, e.title, e.is_active) for e in entries] == [
        ("+", "", True),
        ("~", "Lead", True),
        ("~", "Lead", False),
    ]
    assert {e.history_user for e in entries} == {stage.admin}


def _populate(stage, count: int) -> None:
    _chassis, units = make_receiver(
        stage.organization, 3000 + count, name=f"Bulk{count}", channels=count
    )
    for number, unit in enumerate(units):
        performer = PerformerService.create_performer(name=f"Bulk {number}")
        PerformerAssignmentService.create_assignment(
            performer=performer, wireless_unit=unit, monitoring_group=stage.group_a
        )


@pytest.mark.parametrize("rows", [2, 40])
def test_listing_costs_the_same_queries_whatever_the_rows(stage, rows, django_assert_num_queries):
    _populate(stage, rows)
    with django_assert_num_queries(2):
        listed = [
            (p.name, [a.wireless_unit.slot for a in p.assignments.all()])
            for p in Performer.objects.active().with_assignments()
        ]
    assert len(listed) == rows
    with django_assert_num_queries(1):
        group_rows = [
            (a.performer.name, a.wireless_unit.base_chassis.name)
            for a in PerformerAssignmentService.get_group_assignments(stage.group_a)
        ]
    assert len(group_rows) == rows


def test_service_calls_cost_the_same_queries_whatever_the_rows(
    stage, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def measure() -> list[int]:
        counts = []
        performer = PerformerService.create_performer(name="Measured")
        unit = stage.units[3]
        steps = [
            lambda: PerformerService.update_performer(performer, title="x", by_user=stage.admin),
            lambda: PerformerAssignmentService.create_assignment(
                performer=performer,
                wireless_unit=unit,
                monitoring_group=stage.group_a,
                by_user=stage.tech_a,
            ),
            lambda: PerformerAssignmentService.update_assignment(
                PerformerAssignment.objects.get(performer=performer),
                priority="high",
                by_user=stage.tech_a,
            ),
            lambda: PerformerService.deactivate_performer(performer, by_user=stage.admin),
            lambda: PerformerService.count_total_performers(),
            lambda: PerformerService.delete_performer(performer, by_user=stage.admin),
        ]
        for step in steps:
            with CaptureQueriesContext(connection) as captured:
                step()
            counts.append(len(captured))
        return counts

    stage.units[3].location = stage.location_a
    stage.units[3].save()
    measure()  # warm the per-user caches (profiles) so both runs start alike
    small = measure()
    _populate(stage, 60)
    large = measure()
    assert small == large


def test_an_update_does_not_undo_a_concurrent_deactivation(stage):
    performer = PerformerService.create_performer(name="Jane")
    assignment = PerformerAssignmentService.create_assignment(
        performer=performer, wireless_unit=stage.units[0], monitoring_group=stage.group_a
    )
    stale_assignment = PerformerAssignment.objects.get(pk=assignment.pk)
    stale_performer = Performer.objects.get(pk=performer.pk)
    PerformerAssignmentService.deactivate_assignment(assignment)
    PerformerService.deactivate_performer(performer)
    PerformerAssignmentService.update_assignment(stale_assignment, notes="edited meanwhile")
    PerformerService.update_performer(stale_performer, title="edited meanwhile")
    assignment.refresh_from_db()
    performer.refresh_from_db()
    assert (assignment.is_active, assignment.notes) == (False, "edited meanwhile")
    assert (performer.is_active, performer.title) == (False, "edited meanwhile")


def test_performers_with_assignments_come_in_two_queries_at_thousands_of_rows(
    stage, django_assert_num_queries
):
    """SQLite refused the old prefetch past a thousand units (an expression too deep)."""
    rows = 2_500
    org = stage.organization
    units = WirelessUnit.objects.bulk_create(
        WirelessUnit(organization=org, base_chassis=stage.chassis, slot=f"S{n:05d}")
        for n in range(rows)
    )
    performers = Performer.objects.bulk_create(
        Performer(organization=org, name=f"Singer {n:05d}") for n in range(rows)
    )
    PerformerAssignment.objects.bulk_create(
        PerformerAssignment(organization=org, performer=performer, wireless_unit=unit,
                            monitoring_group=stage.group_a, is_active=n % 5 != 0)
        for n, (performer, unit) in enumerate(zip(performers, units, strict=True))
    )  # fmt: skip
    with django_assert_num_queries(2):
        listed = {
            p.name: [a.wireless_unit.slot for a in p.assignments.all()]
            for p in PerformerService.get_performers_with_assignments()
        }
    assert len(listed) == rows - rows // 5  # every fifth assignment is inactive
    assert listed["Singer 00001"] == ["S00001"]
    assert "Singer 00000" not in listed


def test_reads_of_a_group_give_each_row_that_group_without_a_query_per_row(
    stage, django_assert_num_queries
):
    _populate(stage, 5)
    with django_assert_num_queries(1):
        rows = PerformerAssignmentService.get_group_assignments(stage.group_a)
        assert [a.monitoring_group for a in rows] == [stage.group_a] * 5
        assert all(a.monitoring_group is stage.group_a for a in rows)
        assert len({a.wireless_unit.base_chassis.name for a in rows}) == 1
    with django_assert_num_queries(1):
        wanting = PerformerAssignmentService.get_assignments_needing_alerts(stage.group_a)
        assert [a.monitoring_group.name for a in wanting] == [stage.group_a.name] * 5
