"""SharedMicService: the turns of a unit worn by several performers in one show, and the
hand-over that passes it to the next one (docs/rosters.md, "Shared mics")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet

from micboard import access
from micboard.events import EventKind, announce
from micboard.models import MonitoringGroup, PerformerAssignment, WirelessUnit
from micboard.services.common import record_history_user
from micboard.services.timeline import TimelineService
from micboard.showprep.models import HANDED_OVER, MicTurn
from micboard.showprep.order import next_index, now_index
from micboard.timeline.models import Marker

if TYPE_CHECKING:
    from micboard.services.common import ActingUser

STALE = "stale"  # the ValidationError code of a hand-over someone else already made
MARKER_LENGTH = Marker._meta.get_field("label").max_length or 100


class SharedMicService:
    """Techs of the group hand a unit over; its admins add, reorder and remove turns."""

    @staticmethod
    def get_turns(group: MonitoringGroup, unit: WirelessUnit) -> list[MicTurn]:
        """Return the unit's turns in the group, in order (active assignments only)."""
        return list(_turns_of(group.pk, unit.pk).select_related("assignment__performer"))

    @staticmethod
    def add_turn(assignment: PerformerAssignment, *, by_user: ActingUser = None) -> MicTurn:
        """Put the assignment's performer last in its unit's order (the first turn is now)."""
        group = assignment.monitoring_group
        if by_user is not None:
            access.require_turn_editor(by_user, group)
        if not assignment.is_active or not assignment.performer.is_active:
            raise ValidationError({"assignment": "Only an active assignment can take a turn."})
        if MicTurn.objects.filter(assignment=assignment).exists():
            raise ValidationError({"assignment": f"{assignment.performer} already has a turn."})
        with transaction.atomic():
            # Positions count the turns of deactivated assignments too, so that one coming
            # back takes its old place rather than a tie.
            every_turn = MicTurn.objects.filter(
                assignment__monitoring_group_id=group.pk,
                assignment__wireless_unit_id=assignment.wireless_unit_id,
            )
            last = every_turn.aggregate(last=Max("position"))["last"]
            turn = MicTurn(
                organization_id=assignment.organization_id,
                assignment=assignment,
                position=0 if last is None else last + 1,
                is_current=not _turns_of(group.pk, assignment.wireless_unit_id).exists(),
            )
            record_history_user(turn, by_user)
            turn.save()
            _announce(assignment)
        return turn

    @staticmethod
    def move_turn(
        assignment: PerformerAssignment, offset: int, *, by_user: ActingUser = None
    ) -> None:
        """Move a turn one place earlier (offset -1) or later (+1) in its unit's order."""
        if by_user is not None:
            access.require_turn_editor(by_user, assignment.monitoring_group)
        if offset not in (-1, 1):
            raise ValidationError({"action": "A turn moves one place up or down."})
        with transaction.atomic():
            turns = _locked_turns(assignment)
            index = _index_of(turns, assignment)
            other = index + offset
            if not 0 <= other < len(turns):
                raise ValidationError({"action": "That turn cannot move further."})
            mine, theirs = turns[index], turns[other]
            mine.position, theirs.position = theirs.position, mine.position
            _save(mine, by_user, "position")
            _save(theirs, by_user, "position")
            _announce(assignment)

    @staticmethod
    def remove_turn(assignment: PerformerAssignment, *, by_user: ActingUser = None) -> None:
        """Take a turn out of the order; removing the current one makes the next one now."""
        if by_user is not None:
            access.require_turn_editor(by_user, assignment.monitoring_group)
        with transaction.atomic():
            turns = _locked_turns(assignment)
            index = _index_of(turns, assignment)
            current = now_index([t.is_current for t in turns])
            following = next_index(index, len(turns))
            if index == current and following is not None:
                _set_current(turns[following], True, by_user, reason=HANDED_OVER)
            record_history_user(turns[index], by_user)
            turns[index].delete()
            _announce(assignment)

    @staticmethod
    def hand_over(
        group: MonitoringGroup,
        unit: WirelessUnit,
        *,
        expected_current: int,
        by_user: ActingUser = None,
    ) -> MicTurn:
        """Pass the unit from who has it now to the next turn; return the new current turn.

        `expected_current` is the assignment the tech saw as "now": if another tech handed
        over first, this refuses (code `stale`) rather than skip a performer.
        """
        if by_user is not None:
            access.require_hand_over_rights(by_user, group)
        with transaction.atomic():
            turns = list(
                _turns_of(group.pk, unit.pk)
                .select_for_update()
                .select_related("assignment__performer")
            )
            if len(turns) < 2:
                raise ValidationError({"unit": f"{_slot(unit)} has no next performer to pass to."})
            current = now_index([t.is_current for t in turns])
            if turns[current].assignment_id != expected_current:
                raise ValidationError(
                    "Someone handed this mic over already; see who has it now.", code=STALE
                )
            following = turns[next_index(current, len(turns)) or 0]
            _set_current(turns[current], False, by_user)
            _set_current(following, True, by_user, reason=HANDED_OVER)
            label = f"{_slot(unit)}: {turns[current].assignment.performer} → "
            label += str(following.assignment.performer)
            TimelineService.add_marker(group, label[:MARKER_LENGTH], by_user=by_user)
            _announce(following.assignment)
        return following


def _turns_of(group_id: int, unit_id: int) -> QuerySet[MicTurn]:
    active = PerformerAssignment.objects.active().filter(
        monitoring_group_id=group_id, wireless_unit_id=unit_id
    )
    return MicTurn.objects.filter(assignment__in=active).order_by("position", "pk")


def _locked_turns(assignment: PerformerAssignment) -> list[MicTurn]:
    turns = _turns_of(assignment.monitoring_group_id, assignment.wireless_unit_id)
    return list(turns.select_for_update())


def _index_of(turns: list[MicTurn], assignment: PerformerAssignment) -> int:
    for index, turn in enumerate(turns):
        if turn.assignment_id == assignment.pk:
            return index
    raise ValidationError({"assignment": f"{assignment.performer} has no turn on this unit."})


def _set_current(turn: MicTurn, current: bool, by_user: ActingUser, *, reason: str = "") -> None:
    if turn.is_current != current:
        turn.is_current = current
        turn._change_reason = reason  # type: ignore[attr-defined]  # simple_history reads it
        _save(turn, by_user, "is_current")


def _save(turn: MicTurn, by_user: ActingUser, field: str) -> None:
    record_history_user(turn, by_user)
    turn.save(update_fields=[field])


def _slot(unit: WirelessUnit) -> str:
    return unit.slot or unit.name or f"Unit {unit.pk}"


def _announce(assignment: PerformerAssignment) -> None:
    announce(
        EventKind.SHARED_MIC_CHANGED,
        group_ids=[assignment.monitoring_group_id],
        unit_ids=[assignment.wireless_unit_id],
    )
