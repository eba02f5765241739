"""Syncing a Planning Center plan into a group, over real HTTP against the simulator."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from micboard import vault
from micboard.models import Performer, PerformerAssignment
from micboard.rosters.models import PersonLink, Placement, SyncRun
from micboard.rosters.pco import PcoError, TokenRefused
from micboard.rosters.simulator import SimMember
from micboard.services import PerformerAssignmentService, PerformerService
from micboard.services.rosters import PCO_SECRET, RosterService
from tests.rosters.conftest import PLAN, SECRET, SERVICE_TYPE, Church


def sync(church: Church, status_filter: str = "confirmed", *, dry: bool = False):
    roster = RosterService.fetch_plan(SERVICE_TYPE, PLAN, by_user=church.admin)
    if dry:
        return RosterService.plan_sync(roster, church.group, status_filter, by_user=church.admin)
    return RosterService.apply_sync(roster, church.group, status_filter, by_user=church.admin)


def wearers(church: Church) -> dict[str, str]:
    """Slot → performer name, for the group's active assignments."""
    rows = PerformerAssignment.objects.active().filter(monitoring_group=church.group)
    return {
        a.wireless_unit.slot: a.performer.name
        for a in rows.select_related("performer", "wireless_unit")
    }


def test_first_sync_creates_the_confirmed_and_assigns_them_in_pool_order(church, connected):
    plan = sync(church)
    assert plan.new_performers == ["Ruth Adeyemi", "Caleb Moreno", "Daniel Ruiz"]
    assert wearers(church) == {
        "HH01": "Ruth Adeyemi",
        "HH02": "Caleb Moreno",
        "BP01": "Daniel Ruiz",
    }
    assert {u.name: u.reason for u in plan.unplaced} == {
        "Marcus Bell": "no pool is mapped for the position 'Acoustic Guitar'"
    }
    assert {u.name: u.reason for u in plan.filtered_out} == {
        "Nina Petrova": "unconfirmed",
        "Hannah Kim": "declined",
    }
    linked = dict(PersonLink.objects.values_list("pco_person_id", "performer__name"))
    assert linked == {"501": "Ruth Adeyemi", "502": "Caleb Moreno", "505": "Daniel Ruiz"}
    run = SyncRun.objects.get()
    assert (run.ok, run.by_user, run.source) == (True, church.admin, "Sunday 9am (Planning Center)")
    assert run.summary["unplaced"] == [
        "Marcus Bell (Acoustic Guitar): no pool is mapped for the position 'Acoustic Guitar'"
    ]


def test_the_dry_run_shows_the_changes_and_changes_nothing(church, connected):
    plan = sync(church, dry=True)
    assert [(s.name, s.unit_label) for s in plan.added] == [
        ("Daniel Ruiz", "BP01"),
        ("Ruth Adeyemi", "HH01"),
        ("Caleb Moreno", "HH02"),
    ]
    assert not Performer.objects.exists()
    assert not PerformerAssignment.objects.exists()
    assert not SyncRun.objects.exists()


def test_the_filters_place_the_unconfirmed_and_the_declined(church, connected):
    assert "Nina Petrova" in [s.name for s in sync(church, "not_declined", dry=True).added]
    everyone = sync(church, "everyone", dry=True)
    assert {"Nina Petrova", "Hannah Kim"} <= {s.name for s in everyone.added}
    assert everyone.filtered_out == []


def test_resync_with_a_member_swapped_and_one_declined(church, connected):
    sync(church)
    ruth = Performer.objects.get(name="Ruth Adeyemi")
    plan = connected.plan(PLAN)
    plan.members[1] = SimMember("507", "Joy Park", "Vocals")  # Caleb swapped for Joy
    plan.members[0].status = "D"  # Ruth declined this week
    result = sync(church)
    assert [e.name for e in result.ended] == ["Ruth Adeyemi", "Caleb Moreno"]
    assert [(s.name, s.unit_label) for s in result.added] == [("Joy Park", "HH01")]
    assert wearers(church) == {"HH01": "Joy Park", "BP01": "Daniel Ruiz"}
    # Ended, not deleted: the history keeps who wore HH01 last week.
    assert PerformerAssignment.objects.get(performer=ruth).is_active is False
    assert [s.name for s in result.kept] == ["Daniel Ruiz"]


def test_a_resync_with_nothing_new_changes_nothing(church, connected):
    sync(church)
    history = PerformerAssignment.history.count()
    again = sync(church)
    assert not again.changes_anything
    assert PerformerAssignment.history.count() == history


def test_sticky_pins_give_last_weeks_mic_back_when_it_is_free(church, connected):
    sync(church)  # Ruth HH01, Caleb HH02
    plan = connected.plan(PLAN)
    caleb, ruth = plan.members[1], plan.members[0]
    plan.members[0:2] = [caleb]  # Ruth is off this week
    sync(church)
    assert wearers(church)["HH02"] == "Caleb Moreno"  # he kept his, though HH01 was free
    plan.members.insert(0, SimMember("508", "Joy Park", "Vocals"))  # first in the list
    plan.members.append(ruth)  # Ruth is back, behind Joy
    result = sync(church)
    assert wearers(church)["HH01"] == "Ruth Adeyemi", "Ruth's pin beats a newcomer's order"
    assert wearers(church)["HH03"] == "Joy Park"
    assert {s.name: s.how for s in result.added} == {
        "Ruth Adeyemi": "sticky pin",
        "Joy Park": "free unit",
    }
    # The same assignment row is worn again, so its history continues.
    assert PerformerAssignment.objects.filter(performer__name="Ruth Adeyemi").count() == 1


def test_nobody_gets_a_unit_already_taken(church, connected):
    someone = PerformerService.create_performer("Stage Manager")
    PerformerAssignmentService.create_assignment(someone, church.unit("HH01"), church.other_group)
    result = sync(church)
    assert wearers(church) == {
        "HH02": "Ruth Adeyemi",
        "HH03": "Caleb Moreno",
        "BP01": "Daniel Ruiz",
    }
    assert PerformerAssignment.objects.get(wireless_unit=church.unit("HH01")).performer == someone
    assert "Stage Manager" not in [e.name for e in result.ended]


def test_who_cannot_be_placed_is_listed(church, connected):
    RosterService.save_pool(church.group, "Vocals", church.handhelds[:1], by_user=church.admin)
    result = sync(church)
    assert {u.name: u.reason for u in result.unplaced}["Caleb Moreno"] == (
        "every unit of the Vocals pool is taken"
    )


def test_people_are_matched_by_planning_center_id_never_by_name(church, connected):
    namesake = PerformerService.create_performer("Ruth Adeyemi", title="another Ruth")
    sync(church)
    assert Performer.objects.filter(name="Ruth Adeyemi").count() == 2
    assert not PerformerAssignment.objects.filter(performer=namesake).exists()
    connected.plan(PLAN).members[0].name = "Ruth Adeyemi-Okoro"  # renamed in Planning Center
    assert not sync(church).changes_anything  # still the same person, still on HH01


def test_apply_is_all_or_nothing(church, connected, monkeypatch):
    def broken(*args, **kwargs):
        raise ValidationError("the database said no")

    monkeypatch.setattr(PerformerAssignmentService, "create_assignment", staticmethod(broken))
    with pytest.raises(ValidationError):
        sync(church)
    assert not Performer.objects.exists()
    assert not PersonLink.objects.exists()
    assert not Placement.objects.exists()


def test_apply_refuses_a_roster_that_changed_since_its_dry_run(church, connected):
    dry = sync(church, dry=True)
    connected.plan(PLAN).members[0].status = "D"
    roster = RosterService.fetch_plan(SERVICE_TYPE, PLAN, by_user=church.admin)
    with pytest.raises(ValidationError, match="changed since the dry run"):
        RosterService.apply_sync(
            roster, church.group, expected=dry.fingerprint, by_user=church.admin
        )
    assert not PerformerAssignment.objects.exists()


def test_many_team_members_are_read_over_several_pages(church, connected):
    plan = connected.plan(PLAN)
    plan.members = [SimMember(str(1000 + n), f"Singer {n:03d}", "Choir") for n in range(230)]
    roster = RosterService.fetch_plan(SERVICE_TYPE, PLAN, by_user=church.admin)
    assert len(roster.entries) == 230
    pages = [r for r in connected.requests if r.endswith("team_members?offset&per_page")]
    assert len(pages) == 2  # the first page (per_page only) plus the two next links
    assert len([r for r in connected.requests if "team_members" in r]) == 3


def test_a_429_is_waited_out_and_said(church, connected):
    connected.rate_limits.extend([1])
    roster = RosterService.fetch_plan(SERVICE_TYPE, PLAN, by_user=church.admin)
    assert len(roster.entries) == 6
    assert roster.waited == 1
    assert RosterService.plan_sync(roster, church.group, by_user=church.admin).waited == 1


def test_a_429_longer_than_the_budget_stops_with_a_message(church, connected):
    connected.rate_limits.extend([3, 3])  # the budget is 5 s: the second wait is refused
    with pytest.raises(PcoError, match="rate-limiting us"):
        RosterService.fetch_plan(SERVICE_TYPE, PLAN, by_user=church.admin)


def test_a_revoked_token_is_a_clear_message_that_names_no_secret(church, connected, caplog):
    connected.revoked = True
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TokenRefused) as refused:
        RosterService.fetch_plan(SERVICE_TYPE, PLAN, by_user=church.admin)
    assert "stopped working" in str(refused.value)
    RosterService.record_failure(
        church.group, "Sunday 9am", str(refused.value), by_user=church.admin
    )
    assert "stopped working" in RosterService.get_connection().last_error
    assert SECRET not in caplog.text
    assert SECRET not in repr(refused.value)


def test_the_secret_is_stored_encrypted(church, connected):
    stored = RosterService.get_connection().secret_encrypted
    assert SECRET not in stored
    assert vault.unseal(stored, PCO_SECRET) == SECRET


def test_a_secret_sealed_under_another_secret_key_asks_to_connect_again(
    church, connected, settings
):
    settings.SECRET_KEY = "another-secret-key-" * 3
    with pytest.raises(PcoError, match="connect again"):
        RosterService.fetch_plan(SERVICE_TYPE, PLAN, by_user=church.admin)


def test_only_admins_sync(church, connected):
    roster = RosterService.fetch_plan(SERVICE_TYPE, PLAN, by_user=church.admin)
    with pytest.raises(PermissionDenied):
        RosterService.plan_sync(roster, church.group, by_user=church.tech)
    with pytest.raises(PermissionDenied):
        RosterService.fetch_plan(SERVICE_TYPE, PLAN, by_user=church.tech)
    with pytest.raises(PermissionDenied):
        RosterService.connect("x", "y", by_user=church.tech)


def test_a_unit_worn_in_another_group_is_taken_even_by_the_same_person(church, connected):
    """Ruth wears HH01 for the side stage: the roster neither adopts nor ever ends that."""
    sync(church)
    ruth = Performer.objects.get(name="Ruth Adeyemi")
    hers = PerformerAssignment.objects.get(performer=ruth)
    PerformerAssignmentService.update_assignment(hers, monitoring_group=church.other_group)
    result = sync(church)
    assert [(s.name, s.unit_label) for s in result.added] == [("Ruth Adeyemi", "HH03")]
    assert result.ended == []
    connected.plan(PLAN).members[0].status = "D"
    assert [e.name for e in sync(church).ended] == ["Ruth Adeyemi"]
    hers.refresh_from_db()
    assert hers.is_active, "the side stage's assignment is not the roster's to end"


def test_a_shared_unit_is_taken_while_anyone_else_wears_it(church, connected):
    sync(church)  # Ruth HH01
    host = PerformerService.create_performer("Guest Host")
    PerformerAssignmentService.create_assignment(host, church.unit("HH01"), church.group)
    connected.plan(PLAN).members[0].status = "D"  # Ruth is off: HH01 stays the host's
    connected.plan(PLAN).members.append(SimMember("509", "Joy Park", "Vocals"))
    result = sync(church)
    assert ("Joy Park", "HH03") in [(s.name, s.unit_label) for s in result.added]
