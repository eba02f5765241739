"""The scheduled sync (`sync_rosters`) and the simulator's command (`run_pco_simulator`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from io import StringIO

import httpx
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from micboard.models import PerformerAssignment
from micboard.rosters.models import SyncRun
from micboard.rosters.simulator import DEMO_APP_ID, DEMO_SECRET
from micboard.services import PerformerAssignmentService
from micboard.services.rosters import RosterService
from tests.conftest import free_port, shared_database_url
from tests.waiting import wait_until


def run_sync() -> str:
    out = StringIO()
    call_command("sync_rosters", stdout=out)
    return out.getvalue()


def test_the_scheduled_sync_applies_the_next_plan(church, connected):
    RosterService.configure_schedule("77", church.group, "confirmed", by_user=church.admin)
    assert run_sync().strip() == (
        "Sunday 9am (Planning Center): 3 assigned, 0 ended, 0 kept, 1 not placed"
    )
    assert PerformerAssignment.objects.filter(monitoring_group=church.group).count() == 3
    run = SyncRun.objects.get()
    assert run.by_user is None
    assert run.ok


def test_without_a_schedule_nothing_is_synced(church, connected):
    assert run_sync() == ""
    assert connected.requests == []


def test_a_revoked_token_fails_the_scheduled_sync_with_the_message(church, connected):
    RosterService.configure_schedule("77", church.group, "confirmed", by_user=church.admin)
    connected.revoked = True
    assert "failed: Planning Center refused the personal access token" in run_sync()
    assert "stopped working" in SyncRun.objects.get().error
    connected.revoked = False
    run_sync()
    assert RosterService.get_connection().last_error == "", "a good sync clears the old failure"


def test_a_refused_apply_is_recorded_and_the_schedule_goes_on(church, connected, monkeypatch):
    RosterService.configure_schedule("77", church.group, "confirmed", by_user=church.admin)

    def refused(*args, **kwargs):
        raise ValidationError("HH01 is out for repair.")

    monkeypatch.setattr(PerformerAssignmentService, "create_assignment", staticmethod(refused))
    assert run_sync().strip() == "failed: HH01 is out for repair."
    assert SyncRun.objects.get().error == "HH01 is out for repair."
    assert not PerformerAssignment.objects.exists()


def test_the_simulator_command_serves_the_demo_week():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_pco_simulator", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/services/v2/service_types"

        def answers() -> httpx.Response | None:
            try:
                return httpx.get(url, auth=(DEMO_APP_ID, DEMO_SECRET))
            except httpx.TransportError:
                return None

        response = wait_until(answers, 30, "the simulator answering")
        assert [t["attributes"]["name"] for t in response.json()["data"]] == [
            "Sunday Services",
            "Youth Night",
        ]
        assert httpx.get(url, auth=(DEMO_APP_ID, "wrong")).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_every_n_minutes_syncs_at_once_and_stops_on_sigterm(church, connected, redis_server):
    """A supervisor (run_stack, compose) stops it without waiting out the minutes."""
    RosterService.configure_schedule("77", church.group, "confirmed", by_user=church.admin)
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "REDIS_URL": redis_server,
        "SECRET_KEY": settings.SECRET_KEY,
        "MICBOARD_PCO_URL": connected.url,
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sync_rosters", "--every", "60"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(SyncRun.objects.exists, 60, "the first scheduled sync")
        assert PerformerAssignment.objects.filter(monitoring_group=church.group).count() == 3
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
