"""The access rules: a tech sees and changes only their own groups' performers, units and
assignments, through every helper and service; admins see their whole organization."""

from __future__ import annotations

import inspect

import pytest
from django.core.exceptions import PermissionDenied

from micboard import access, services
from micboard.models import PerformerAssignment
from micboard.services import PerformerAssignmentService, PerformerService
from micboard.services.inventory import InventoryService

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(stage):
    """Jane on unit 0 in group A, Bob on unit 1 in group B."""
    jane = PerformerService.create_performer(name="Jane")
    bob = PerformerService.create_performer(name="Bob")
    jane_a = PerformerAssignmentService.create_assignment(
        performer=jane, wireless_unit=stage.units[0], monitoring_group=stage.group_a
    )
    bob_b = PerformerAssignmentService.create_assignment(
        performer=bob, wireless_unit=stage.units[1], monitoring_group=stage.group_b
    )
    return jane, bob, jane_a, bob_b


def test_a_tech_sees_only_their_groups(stage, assigned):
    jane, _bob, _, _ = assigned
    tech = stage.tech_a
    assert list(tech.get_monitoring_groups()) == [stage.group_a]
    assert list(tech.get_accessible_performers()) == [jane]
    assert list(tech.get_accessible_devices()) == [stage.units[0]]
    assert list(access.accessible_assignments(tech)) == [assigned[2]]


def test_a_tech_sees_units_kept_at_their_groups_location(stage, assigned):
    stage.units[3].location = stage.location_a
    stage.units[3].save()
    assert set(stage.tech_a.get_accessible_devices()) == {stage.units[0], stage.units[3]}
    assert stage.units[3] not in stage.tech_b.get_accessible_devices()


def test_admins_and_superusers_see_the_whole_organization(stage, assigned):
    for user in (stage.admin, stage.superuser):
        assert set(user.get_monitoring_groups()) == {stage.group_a, stage.group_b}
        assert set(user.get_accessible_performers()) == {assigned[0], assigned[1]}
        assert set(user.get_accessible_devices()) == set(stage.units)


def test_inactive_groups_and_assignments_drop_out(stage, assigned):
    _jane, _, jane_a, _ = assigned
    PerformerAssignmentService.deactivate_assignment(jane_a)
    assert list(stage.tech_a.get_accessible_performers()) == []
    assert list(stage.tech_a.get_accessible_devices()) == []
    stage.group_a.is_active = False
    stage.group_a.save()
    assert list(stage.tech_a.get_monitoring_groups()) == []


def test_a_tech_cannot_change_another_groups_assignment(stage, assigned):
    _, bob, _, bob_b = assigned
    tech = stage.tech_a
    attempts = [
        lambda: PerformerAssignmentService.update_assignment(bob_b, by_user=tech, priority="low"),
        lambda: PerformerAssignmentService.update_alert_status(
            bob_b, alert_enabled=False, by_user=tech
        ),
        lambda: PerformerAssignmentService.deactivate_assignment(bob_b, by_user=tech),
        lambda: PerformerAssignmentService.delete_assignment(bob_b, by_user=tech),
        lambda: PerformerService.update_performer(bob, by_user=tech, name="Hacked"),
        lambda: PerformerService.deactivate_performer(bob, by_user=tech),
        lambda: PerformerService.delete_performer(bob, by_user=tech),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    bob_b.refresh_from_db()
    bob.refresh_from_db()
    assert (bob_b.priority, bob_b.alert_enabled, bob_b.is_active) == ("normal", True, True)
    assert (bob.name, bob.is_active) == ("Bob", True)


def test_a_tech_cannot_assign_into_another_group_or_with_unseen_units(stage, assigned):
    jane, bob, _, _ = assigned
    tech = stage.tech_a
    with pytest.raises(PermissionDenied):  # not a member of group B
        PerformerAssignmentService.create_assignment(
            performer=jane,
            wireless_unit=stage.units[0],
            monitoring_group=stage.group_b,
            by_user=tech,
        )
    with pytest.raises(PermissionDenied):  # unit 2 is neither assigned in A nor kept there
        PerformerAssignmentService.create_assignment(
            performer=jane,
            wireless_unit=stage.units[2],
            monitoring_group=stage.group_a,
            by_user=tech,
        )
    with pytest.raises(PermissionDenied):  # Bob belongs to group B's wall
        PerformerAssignmentService.create_assignment(
            performer=bob,
            wireless_unit=stage.units[0],
            monitoring_group=stage.group_a,
            by_user=tech,
        )
    assert PerformerAssignment.objects.count() == 2


def test_a_tech_can_manage_their_own_group(stage, assigned):
    _, _, jane_a, _ = assigned
    newcomer = PerformerService.create_performer(name="Newcomer", by_user=stage.tech_a)
    PerformerAssignmentService.create_assignment(
        performer=newcomer,
        wireless_unit=stage.units[0],
        monitoring_group=stage.group_a,
        by_user=stage.tech_a,
    )
    PerformerAssignmentService.update_assignment(jane_a, by_user=stage.tech_a, priority="high")
    jane_a.refresh_from_db()
    assert jane_a.priority == "high"
    assert newcomer in stage.tech_a.get_accessible_performers()


def test_an_anonymous_or_inactive_user_sees_nothing(stage, assigned):
    from django.contrib.auth.models import AnonymousUser

    stage.tech_a.is_active = False
    stage.tech_a.save()
    for user in (AnonymousUser(), stage.tech_a):
        assert not access.monitoring_groups(user).exists()
        assert not access.accessible_performers(user).exists()
        assert not access.accessible_devices(user).exists()


# The live path's own writes: no person ever makes them, so no person is named.
LIVE_PATH_WRITES = {
    "AlertService.apply_conditions",
    "AlertService.raise_alert",
    "TelemetryService.save_units",
    "TelemetryService.save_chassis",
    "InventoryService.readdress_device",  # discovery's: a receiver heard at a new address
}
READERS = ("get_", "count_", "search_", "candidate_")


def service_writes() -> list[tuple[str, inspect.Signature]]:
    classes = [getattr(services, name) for name in services.__all__ if name != "AssignmentService"]
    return [
        (f"{service.__name__}.{name}", inspect.signature(member.__func__))
        for service in [*classes, InventoryService]
        for name, member in vars(service).items()
        if isinstance(member, staticmethod) and not name.startswith(READERS)
    ]


@pytest.mark.parametrize(("name", "signature"), service_writes(), ids=lambda v: str(v)[:60])
def test_every_write_takes_the_acting_user_as_the_keyword_by_user(name, signature):
    if name in LIVE_PATH_WRITES:
        assert "by_user" not in signature.parameters
        return
    acting = signature.parameters["by_user"]
    assert acting.kind is inspect.Parameter.KEYWORD_ONLY


def test_a_deactivated_performer_drops_out_of_a_techs_view(stage, assigned):
    jane, _, jane_a, _ = assigned
    PerformerService.deactivate_performer(jane, by_user=stage.admin)
    tech = stage.tech_a
    assert jane not in tech.get_accessible_performers()
    assert jane not in access.assignable_performers(tech)
    assert jane_a.wireless_unit not in access.accessible_devices(tech).filter(location=None)
    assert jane in access.managed_performers(stage.admin)
    assert jane not in access.managed_performers(tech)


def test_a_tech_reads_details_only_of_performers_assigned_in_their_groups(stage, assigned):
    jane, bob, _, _ = assigned
    newcomer = PerformerService.create_performer(name="Newcomer", email="new@example.com")
    tech = stage.tech_a
    assert set(access.managed_performers(tech)) == {jane}
    assert {jane, newcomer} <= set(access.assignable_performers(tech))
    assert bob not in access.assignable_performers(tech)
    with pytest.raises(PermissionDenied):
        PerformerService.update_performer(newcomer, by_user=tech, notes="peeked")
