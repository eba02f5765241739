"""The access rules: a tech sees and changes only their own groups' performers, units and
assignments, through every helper and service; admins see their whole organization."""

from __future__ import annotations

import inspect

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from micboard import access, services
from micboard.models import PerformerAssignment
from micboard.services import (
    AlertService,
    ApiTokenService,
    PerformerAssignmentService,
    PerformerService,
    SharedMicService,
)
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
    "ApiTokenService.note_use",  # an API request's: the token acts, no user is signed in
    "OutputService.record_attempts",  # the outputs worker's delivery log
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


# --- API tokens ------------------------------------------------------------------------------


def test_an_api_token_reads_only_its_groups(stage, assigned):
    jane, _bob, jane_a, _ = assigned
    stage.units[3].location = stage.location_a
    stage.units[3].save()
    token = ApiTokenService.create_token("Companion", [stage.group_a], by_user=stage.admin).token
    assert list(access.token_groups(token)) == [stage.group_a]
    assert set(access.token_units(token)) == {stage.units[0], stage.units[3]}
    assert list(access.token_performers(token)) == [jane]
    assert list(access.token_assignments(token)) == [jane_a]
    raised = AlertService.raise_alert(jane_a, "battery_low")
    AlertService.raise_alert(assigned[3], "battery_low")
    assert list(access.token_alerts(token)) == [raised]


def test_an_api_token_of_an_inactive_group_reads_nothing(stage, assigned):
    token = ApiTokenService.create_token("Companion", [stage.group_a], by_user=stage.admin).token
    stage.group_a.is_active = False
    stage.group_a.save()
    assert list(access.token_groups(token)) == []
    assert list(access.token_units(token)) == []
    assert list(access.token_performers(token)) == []


def test_an_api_token_reads_nothing_once_its_maker_is_demoted(stage):
    token = ApiTokenService.create_token("Companion", [stage.group_a], by_user=stage.admin).token
    stage.admin.profile.role = "tech"
    stage.admin.profile.save()
    token.refresh_from_db()
    assert list(access.token_groups(token)) == []
    assert list(access.token_units(token)) == []
    assert list(access.token_alerts(token)) == []


def test_an_api_token_reads_nothing_once_its_maker_is_deactivated_or_deleted(stage):
    token = ApiTokenService.create_token("Companion", [stage.group_a], by_user=stage.admin).token
    stage.admin.is_active = False
    stage.admin.save()
    token.refresh_from_db()
    assert list(access.token_groups(token)) == []
    stage.admin.delete()
    token.refresh_from_db()
    assert token.created_by is None
    assert list(access.token_groups(token)) == []


def test_an_api_token_made_by_a_superuser_keeps_its_groups(stage, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    token = ApiTokenService.create_token("Grafana", [stage.group_a], by_user=root).token
    assert list(access.token_groups(token)) == [stage.group_a]


def test_a_secret_finds_its_token_until_it_is_revoked(stage):
    made = ApiTokenService.create_token("Grafana", [stage.group_a], by_user=stage.admin)
    assert made.token.secret_hash == access.hash_api_secret(made.secret)
    assert made.secret not in made.token.secret_hash
    assert access.live_api_token(made.secret) == made.token
    assert access.live_api_token(made.secret[:-1] + "x") is None
    assert access.live_api_token("not a token\x00") is None
    ApiTokenService.revoke_token(made.token, by_user=stage.admin)
    assert access.live_api_token(made.secret) is None


def test_only_admins_make_and_revoke_api_tokens(stage):
    with pytest.raises(PermissionDenied):
        ApiTokenService.create_token("Mine", [stage.group_a], by_user=stage.tech_a)
    made = ApiTokenService.create_token("Theirs", [stage.group_a], by_user=stage.admin)
    with pytest.raises(PermissionDenied):
        ApiTokenService.revoke_token(made.token, by_user=stage.tech_a)
    assert list(access.administered_api_tokens(stage.tech_a)) == []
    assert list(access.administered_api_tokens(stage.admin)) == [made.token]


def test_an_api_token_needs_a_group(stage):
    with pytest.raises(ValidationError):
        ApiTokenService.create_token("Nothing", [], by_user=stage.admin)


def test_only_admins_do_roster_work_and_only_on_their_groups(stage):
    pool = services.RosterService.save_pool(stage.group_a, "Vocals", stage.units[:2])
    assert list(access.roster_groups(stage.admin)) == [stage.group_a, stage.group_b]
    assert list(access.administered_pools(stage.admin)) == [pool]
    for tech in (stage.tech_a, stage.tech_b):
        assert not access.roster_groups(tech).exists()
        assert not access.administered_pools(tech).exists()
        with pytest.raises(PermissionDenied):
            access.require_roster_admin(tech)
        with pytest.raises(PermissionDenied):
            services.RosterService.save_pool(stage.group_a, "Vocals", [], by_user=tech)
    access.require_roster_admin(stage.admin, stage.group_a)


def test_techs_of_a_group_hand_over_and_tick_but_only_admins_edit_turns(stage, assigned):
    for user in (stage.tech_a, stage.admin, stage.superuser):
        access.require_hand_over_rights(user, stage.group_a)
        access.require_mic_check_rights(user, stage.group_a)
    for user in (stage.admin, stage.superuser):
        access.require_turn_editor(user, stage.group_a)
    with pytest.raises(PermissionDenied):
        access.require_turn_editor(stage.tech_a, stage.group_a)
    for rule in (access.require_hand_over_rights, access.require_mic_check_rights):
        with pytest.raises(PermissionDenied):
            rule(stage.tech_b, stage.group_a)


def test_a_tech_reads_the_hand_overs_of_their_groups_only(stage, assigned):
    _, _, jane_a, _ = assigned
    ann = PerformerService.create_performer(name="Ann")
    ann_a = PerformerAssignmentService.create_assignment(ann, stage.units[0], stage.group_a)
    for turn in (jane_a, ann_a):
        SharedMicService.add_turn(turn)
    SharedMicService.hand_over(stage.group_a, stage.units[0], expected_current=jane_a.pk)
    handed = access.visible_hand_overs(stage.tech_a, stage.units[0])
    assert [record.assignment_id for record in handed] == [ann_a.pk]
    assert not access.visible_hand_overs(stage.tech_b, stage.units[0]).exists()
    assert access.visible_hand_overs(stage.admin, stage.units[0]).count() == 1
