"""The roster pages, as an admin uses them, against the simulator over real HTTP."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from micboard.models import Organization, PerformerAssignment
from micboard.rosters.models import PcoConnection, PositionPool, SyncRun
from micboard.services.rosters import RosterService
from micboard.tenancy import system_context, tenant_context
from tests.rosters.conftest import APP_ID, PLAN, SECRET, SERVICE_TYPE, Church, build_church

HTMX = {"HTTP_HX_REQUEST": "true"}
SYNC = {"service_type_id": SERVICE_TYPE, "plan_id": PLAN, "status_filter": "confirmed"}


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def test_connecting_keeps_the_token_and_never_shows_it(church, pco, caplog):
    caplog.set_level(logging.DEBUG)
    admin = signed_in(church.admin)
    response = admin.post(reverse("roster-connect"), {"app_id": APP_ID, "secret": SECRET}, **HTMX)
    assert response.status_code == 200
    assert "Connected with the application" in text(response)
    assert "Sundays" in text(response), "the service types are read with the new token"
    assert PcoConnection.objects.get().app_id == APP_ID
    for page in (reverse("rosters"), reverse("roster-group", args=[church.group.pk])):
        assert SECRET not in text(admin.get(page))
    assert SECRET not in text(response)
    assert SECRET not in caplog.text


def test_a_bad_connect_does_not_echo_the_secret(church, pco):
    response = signed_in(church.admin).post(reverse("roster-connect"), {"secret": SECRET}, **HTMX)
    assert "This field is required" in text(response)
    assert SECRET not in text(response)
    assert not PcoConnection.objects.exists()


def test_dry_run_then_apply_from_the_page(church, connected):
    admin = signed_in(church.admin)
    dry = admin.post(reverse("roster-dry-run", args=[church.group.pk]), SYNC, **HTMX)
    assert "Dry run: Sunday 9am (Planning Center)" in text(dry)
    assert "Nothing has changed yet" in text(dry)
    assert "Ruth Adeyemi <em>(new performer)</em>" in text(dry)
    assert not PerformerAssignment.objects.exists()
    fingerprint = RosterService.plan_sync(
        RosterService.fetch_plan(SERVICE_TYPE, PLAN), church.group
    ).fingerprint
    assert f'value="{fingerprint}"' in text(dry)
    applied = admin.post(
        reverse("roster-apply", args=[church.group.pk]),
        {**SYNC, "fingerprint": fingerprint},
        **HTMX,
    )
    assert "Applied: Sunday 9am (Planning Center)" in text(applied)
    assert PerformerAssignment.objects.filter(monitoring_group=church.group).count() == 3
    last = admin.get(reverse("roster-group", args=[church.group.pk]))
    assert "assigned Ruth Adeyemi → HH01 (Vocals)" in text(last)


def test_a_revoked_token_is_a_message_on_the_page_never_a_500(church, connected, caplog):
    connected.revoked = True
    admin = signed_in(church.admin)
    for response in (
        admin.get(reverse("rosters")),
        admin.post(reverse("roster-dry-run", args=[church.group.pk]), SYNC, **HTMX),
        admin.post(reverse("roster-apply", args=[church.group.pk]), SYNC, **HTMX),
        admin.get(reverse("roster-plans"), {"service_type_id": SERVICE_TYPE}, **HTMX),
    ):
        assert response.status_code == 200
        assert "stopped working" in text(response)
        assert SECRET not in text(response)
    assert SyncRun.objects.get().ok is False
    assert "stopped working" in text(admin.get(reverse("roster-group", args=[church.group.pk])))
    assert SECRET not in caplog.text


def test_a_rate_limit_is_said_on_the_page(church, connected):
    connected.rate_limits.extend([1])
    admin = signed_in(church.admin)
    dry = admin.post(reverse("roster-dry-run", args=[church.group.pk]), SYNC, **HTMX)
    assert "rate-limited this sync: it waited 1.0 s" in text(dry)
    connected.rate_limits.extend([9])
    refused = admin.post(reverse("roster-dry-run", args=[church.group.pk]), SYNC, **HTMX)
    assert "rate-limiting us" in text(refused)


def test_an_unreachable_planning_center_is_a_message(church, connected, settings):
    connected.stop()
    admin = signed_in(church.admin)
    response = admin.post(reverse("roster-dry-run", args=[church.group.pk]), SYNC, **HTMX)
    assert response.status_code == 200
    assert "Could not reach Planning Center" in text(response)


def test_the_plan_picker_lists_the_coming_plans(church, connected):
    response = signed_in(church.admin).get(
        reverse("roster-plans"), {"service_type_id": SERVICE_TYPE}, **HTMX
    )
    assert text(response).index("Sunday 9am") < text(response).index("Sunday 11am")


def test_a_pool_is_saved_from_a_range_of_slots(church, pco):
    admin = signed_in(church.admin)
    url = reverse("roster-pool-save", args=[church.group.pk])
    response = admin.post(url, {"position_name": "Band", "units": "HH05-HH06, BP02"}, **HTMX)
    assert "HH05, HH06, BP02" in text(response)
    pool = PositionPool.objects.get(position_name="Band")
    assert [u.slot for u in pool.ordered_units()] == ["HH05", "HH06", "BP02"]
    unknown = admin.post(url, {"position_name": "Band", "units": "XX99"}, **HTMX)
    assert "No unit has the slot XX99" in text(unknown)


CSV = (
    "performer;position;unit;start time\n"
    "Ruth Adeyemi;Vocals;HH03;2026-12-13 09:00\n"
    "Daniel Ruiz;Preaching;;09:30\n"
)


def test_a_csv_roster_goes_through_the_same_dry_run_and_apply(church, pco):
    admin = signed_in(church.admin)
    url = reverse("roster-csv", args=[church.group.pk])
    upload = admin.post(url, {"file": _file(CSV)}, **HTMX)
    assert "Dry run: roster.csv (CSV)" in text(upload)
    assert not PerformerAssignment.objects.exists()
    fingerprint = RosterService.plan_sync(_roster(), church.group).fingerprint
    applied = admin.post(
        url, {"content": CSV, "name": "roster.csv", "fingerprint": fingerprint}, **HTMX
    )
    assert "Applied: roster.csv (CSV)" in text(applied)
    placed = {
        a.wireless_unit.slot: (a.performer.name, a.notes)
        for a in PerformerAssignment.objects.select_related("performer", "wireless_unit")
    }
    assert placed == {
        "HH03": ("Ruth Adeyemi", "Roster: Vocals, from 2026-12-13 09:00"),
        "BP01": ("Daniel Ruiz", "Roster: Preaching, from 09:30"),
    }


def test_a_bad_csv_names_its_lines(church, pco):
    bad = "performer,position,unit,start time\nRuth,,HH01,\nDan,Vocals,,tomorrow\n"
    response = signed_in(church.admin).post(
        reverse("roster-csv", args=[church.group.pk]), {"file": _file(bad)}, **HTMX
    )
    assert "Line 2: name the performer and the position." in text(response)
    assert "Line 3: &#x27;tomorrow&#x27; is not a start time" in text(response)


def test_techs_are_refused(church, connected):
    tech = signed_in(church.tech)
    assert tech.get(reverse("rosters")).status_code == 403
    assert tech.get(reverse("roster-group", args=[church.group.pk])).status_code == 404
    dry = tech.post(reverse("roster-dry-run", args=[church.group.pk]), SYNC, **HTMX)
    assert dry.status_code == 404
    assert connected.requests == []


@pytest.mark.usefixtures("pco")
def test_another_organizations_admin_sees_neither_the_connection_nor_the_groups(settings, db):
    settings.MICBOARD_MULTI_TENANT = True
    with system_context():
        mine = Organization.objects.create(name="Grace Church", slug="grace")
        theirs = Organization.objects.create(name="Hope Church", slug="hope")
        with tenant_context(mine):
            church = build_church(mine)
            RosterService.connect(APP_ID, SECRET)
        with tenant_context(theirs):
            other: Church = build_church(theirs, prefix="h-")
    stranger = signed_in(other.admin)
    home = text(stranger.get(reverse("rosters")))
    assert "Not connected" in home
    assert "Main stage" not in home.replace("h-Main stage", "")
    assert stranger.get(reverse("roster-group", args=[church.group.pk])).status_code == 404
    dry = stranger.post(reverse("roster-dry-run", args=[church.group.pk]), SYNC, **HTMX)
    assert dry.status_code == 404


def _file(content: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("roster.csv", content.encode(), content_type="text/csv")


def _roster():
    from micboard.services.roster_csv import read_roster

    roster = read_roster(CSV, "roster.csv (CSV)").roster
    assert roster is not None
    return roster


def test_the_schedule_is_set_on_the_page_and_disconnect_forgets_the_token(church, connected):
    admin = signed_in(church.admin)
    form = {"service_type_id": SERVICE_TYPE, "group": church.group.pk, "status_filter": "everyone"}
    saved = admin.post(reverse("roster-schedule"), form, **HTMX)
    assert "Saved: <code>sync_rosters</code> syncs the next plan" in text(saved)
    connection = RosterService.get_connection()
    assert (connection.service_type_id, connection.schedule_group, connection.status_filter) == (
        SERVICE_TYPE,
        church.group,
        "everyone",
    )
    gone = admin.post(reverse("roster-disconnect"), **HTMX)
    assert "Not connected" in text(gone)
    assert not PcoConnection.objects.exists()


def test_the_nav_offers_rosters_to_admins_only(church):
    assert 'href="/rosters/"' in text(signed_in(church.admin).get(reverse("home")))
    assert 'href="/rosters/"' not in text(signed_in(church.tech).get(reverse("home")))
