"""Shared mics and the mic check through their services, on the real database: the order
of turns, hand-overs (audited and on the timeline), and ticks with who and when."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from micboard.services import (
    MicCheckService,
    PerformerAssignmentService,
    PerformerService,
    SharedMicService,
)
from micboard.services.shared_mics import STALE
from micboard.showprep.models import MicCheck, MicTurn
from micboard.timeline.models import Marker

pytestmark = pytest.mark.django_db


@pytest.fixture
def handheld(stage):
    """Unit 0 of group A, worn in turn by a host and two speakers (in that order)."""
    unit = stage.units[0]
    assignments = []
    for name in ("Hana Host", "Sam Speaker", "Tia Talker"):
        performer = PerformerService.create_performer(name=name)
        assignments.append(
            PerformerAssignmentService.create_assignment(performer, unit, stage.group_a)
        )
    for assignment in assignments:
        SharedMicService.add_turn(assignment, by_user=stage.admin)
    return unit, assignments


def names_in_order(stage, unit):
    return [t.assignment.performer.name for t in SharedMicService.get_turns(stage.group_a, unit)]


def who_has_it(stage, unit):
    turns = SharedMicService.get_turns(stage.group_a, unit)
    return next(t.assignment.performer.name for t in turns if t.is_current)


def test_the_first_turn_added_has_the_mic_and_the_rest_follow_in_order(stage, handheld):
    unit, _ = handheld
    assert names_in_order(stage, unit) == ["Hana Host", "Sam Speaker", "Tia Talker"]
    assert who_has_it(stage, unit) == "Hana Host"


def test_a_hand_over_passes_the_mic_on_and_goes_round_after_the_last(stage, handheld):
    unit, (host, speaker, talker) = handheld
    for expected, now in ((speaker, host), (talker, speaker), (host, talker)):
        turn = SharedMicService.hand_over(
            stage.group_a, unit, expected_current=now.pk, by_user=stage.tech_a
        )
        assert turn.assignment == expected
    assert who_has_it(stage, unit) == "Hana Host"


def test_a_hand_over_is_audited_and_marked_on_the_timeline(stage, handheld):
    unit, (host, speaker, _) = handheld
    SharedMicService.hand_over(stage.group_a, unit, expected_current=host.pk, by_user=stage.tech_a)
    marker = Marker.objects.get(monitoring_group=stage.group_a)
    assert marker.label == f"{unit.slot}: Hana Host → Sam Speaker"
    assert marker.created_by == stage.tech_a
    record = MicTurn.history.filter(assignment_id=speaker.pk).latest("history_date")
    assert record.is_current is True
    assert record.history_user == stage.tech_a


def test_a_second_hand_over_of_the_same_now_is_refused_as_stale(stage, handheld):
    unit, (host, _, _) = handheld
    SharedMicService.hand_over(stage.group_a, unit, expected_current=host.pk, by_user=stage.tech_a)
    with pytest.raises(ValidationError) as refused:
        SharedMicService.hand_over(
            stage.group_a, unit, expected_current=host.pk, by_user=stage.tech_a
        )
    assert refused.value.code == STALE
    assert who_has_it(stage, unit) == "Sam Speaker"  # not skipped on to Tia
    assert Marker.objects.count() == 1


def test_a_unit_with_one_turn_cannot_be_handed_over(stage):
    performer = PerformerService.create_performer(name="Solo")
    assignment = PerformerAssignmentService.create_assignment(
        performer, stage.units[1], stage.group_a
    )
    SharedMicService.add_turn(assignment, by_user=stage.admin)
    with pytest.raises(ValidationError, match="no next performer"):
        SharedMicService.hand_over(
            stage.group_a, stage.units[1], expected_current=assignment.pk, by_user=stage.tech_a
        )


def test_turns_move_up_and_down_but_not_past_the_ends(stage, handheld):
    unit, (host, speaker, talker) = handheld
    SharedMicService.move_turn(talker, -1, by_user=stage.admin)
    assert names_in_order(stage, unit) == ["Hana Host", "Tia Talker", "Sam Speaker"]
    SharedMicService.move_turn(host, 1, by_user=stage.admin)
    assert names_in_order(stage, unit) == ["Tia Talker", "Hana Host", "Sam Speaker"]
    with pytest.raises(ValidationError, match="cannot move further"):
        SharedMicService.move_turn(speaker, 1, by_user=stage.admin)
    with pytest.raises(ValidationError):
        SharedMicService.move_turn(speaker, 2, by_user=stage.admin)


def test_removing_the_current_turn_gives_the_mic_to_the_next(stage, handheld):
    unit, (host, _, talker) = handheld
    SharedMicService.remove_turn(host, by_user=stage.admin)
    assert names_in_order(stage, unit) == ["Sam Speaker", "Tia Talker"]
    assert who_has_it(stage, unit) == "Sam Speaker"
    SharedMicService.move_turn(talker, -1, by_user=stage.admin)
    SharedMicService.remove_turn(talker, by_user=stage.admin)
    assert who_has_it(stage, unit) == "Sam Speaker"


def test_a_turn_is_added_once_and_only_for_an_active_assignment(stage, handheld):
    _, (host, speaker, _) = handheld
    with pytest.raises(ValidationError, match="already has a turn"):
        SharedMicService.add_turn(host, by_user=stage.admin)
    SharedMicService.remove_turn(speaker, by_user=stage.admin)
    PerformerAssignmentService.deactivate_assignment(speaker, by_user=stage.admin)
    speaker.refresh_from_db()
    with pytest.raises(ValidationError, match="active assignment"):
        SharedMicService.add_turn(speaker, by_user=stage.admin)


def test_techs_of_the_group_hand_over_but_only_admins_edit_the_order(stage, handheld):
    unit, (host, speaker, _) = handheld
    with pytest.raises(PermissionDenied):
        SharedMicService.move_turn(speaker, -1, by_user=stage.tech_a)
    with pytest.raises(PermissionDenied):
        SharedMicService.remove_turn(speaker, by_user=stage.tech_a)
    with pytest.raises(PermissionDenied):
        SharedMicService.hand_over(
            stage.group_a, unit, expected_current=host.pk, by_user=stage.tech_b
        )
    assert who_has_it(stage, unit) == "Hana Host"


@pytest.fixture
def on_wall(stage):
    for index, name in enumerate(("Jane", "Bob")):
        performer = PerformerService.create_performer(name=name)
        PerformerAssignmentService.create_assignment(performer, stage.units[index], stage.group_a)
    return stage.units[0], stage.units[1]


def test_a_tick_records_who_and_when_and_a_second_tick_keeps_the_first(stage, on_wall):
    first, _ = on_wall
    stage.group_a.users.add(stage.tech_b)
    tick = MicCheckService.tick(stage.group_a, first, by_user=stage.tech_a)
    again = MicCheckService.tick(stage.group_a, first, by_user=stage.tech_b)
    assert again.pk == tick.pk
    assert again.checked_by == stage.tech_a
    assert tick.checked_at is not None
    assert MicCheckService.get_checked_unit_ids(stage.group_a) == {first.pk}


def test_an_untick_takes_it_back(stage, on_wall):
    first, second = on_wall
    MicCheckService.tick(stage.group_a, first, by_user=stage.tech_a)
    MicCheckService.tick(stage.group_a, second, by_user=stage.tech_a)
    MicCheckService.untick(stage.group_a, first, by_user=stage.tech_a)
    assert MicCheckService.get_checked_unit_ids(stage.group_a) == {second.pk}


def test_a_new_check_starts_with_nothing_ticked_and_keeps_the_old_one(stage, on_wall):
    first, _ = on_wall
    MicCheckService.tick(stage.group_a, first, by_user=stage.tech_a)
    old = MicCheckService.get_current_check(stage.group_a)
    new = MicCheckService.start_check(stage.group_a, by_user=stage.tech_a)
    assert MicCheckService.get_current_check(stage.group_a) == new
    assert MicCheckService.get_checked_unit_ids(stage.group_a) == set()
    assert old is not None
    assert old.ticks.count() == 1
    assert MicCheck.objects.filter(monitoring_group=stage.group_a).count() == 2


def test_only_units_of_the_wall_and_techs_of_the_group_may_tick(stage, on_wall):
    first, _ = on_wall
    with pytest.raises(ValidationError, match="not on this group's wall"):
        MicCheckService.tick(stage.group_a, stage.units[3], by_user=stage.tech_a)
    with pytest.raises(PermissionDenied):
        MicCheckService.tick(stage.group_a, first, by_user=stage.tech_b)
    with pytest.raises(PermissionDenied):
        MicCheckService.start_check(stage.group_a, by_user=stage.tech_b)
    assert MicCheckService.get_checked_unit_ids(stage.group_a) == set()
