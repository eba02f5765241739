"""`/healthz` and `manage.py live_status` against a real poller and real Redis.

Anyone (a load balancer) gets `{"healthy": …}` with 200 or 503 and nothing more; signed-in
staff and Micboard admins also get the details (database, Redis, each poller's heartbeat
with its host and pid); `live_status` prints the details on the command line.
"""

from __future__ import annotations

import asyncio
import io
import signal

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connections
from django.test import AsyncClient

from micboard.models import Organization
from realtime.health import PUBLISH_STALE_AFTER
from tests.conftest import free_port
from tests.factories import make_user
from tests.realtime.conftest import build_live_stage
from tests.realtime.faultkit import start_program, stop_programs
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)


async def healthz(user: User | None = None) -> tuple[int, dict]:
    client = AsyncClient()
    if user is not None:
        await client.aforce_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = await client.get("/healthz")
    return response.status_code, response.json()


def live_status_output() -> str:
    """Run `live_status` in this thread and close the thread's database connection after."""
    output = io.StringIO()
    try:
        call_command("live_status", stdout=output)
    finally:
        connections.close_all()  # or PostgreSQL cannot drop the test database at the end
    return output.getvalue()


def make_tech() -> User:
    return make_user("tech", Organization.default())


def make_admin() -> User:
    return make_user("boss", Organization.default(), role="admin")


def make_staff() -> User:
    """A Django staff user who is no Micboard admin (e.g. an operator of the platform)."""
    user = make_user("operator", Organization.default())
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


async def test_anyone_learns_only_that_the_live_path_is_unhealthy(live_settings):
    tech = await database_sync_to_async(make_tech)()
    assert await healthz() == (503, {"healthy": False})
    assert await healthz(tech) == (503, {"healthy": False})


async def test_staff_and_admins_see_why_it_is_unhealthy(live_settings):
    admin = await database_sync_to_async(make_admin)()
    staff = await database_sync_to_async(make_staff)()
    details = {
        "healthy": False,
        "database": True,
        "redis": True,
        "pollers": {},
        "published_s_ago": None,
    }
    assert await healthz(admin) == (503, details)
    assert await healthz(staff) == (503, details)


async def test_healthz_is_unhealthy_without_redis(live_settings):
    admin = await database_sync_to_async(make_admin)()
    live_settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    assert await healthz() == (503, {"healthy": False})
    status, body = await healthz(admin)
    assert (status, body["redis"], body["database"]) == (503, False, True)


async def test_healthz_and_live_status_show_a_running_poller(simulators, pollers):
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    poller = pollers()

    async def poller_reads_its_device() -> bool:
        status, body = await healthz(stage.admin)
        return (status, body["pollers"].get(poller.poller_id, {}).get("devices")) == (200, "1")

    await wait_until_async(poller_reads_its_device, 10, "the poller's device in /healthz")
    _, body = await healthz(stage.admin)
    assert {"host", "pid"} <= set(body["pollers"][poller.poller_id])
    # The same moment, seen by a probe and by a tech: healthy, and not a word more.
    assert await healthz() == (200, {"healthy": True})
    assert await healthz(stage.tech_a) == (200, {"healthy": True})
    table = await asyncio.to_thread(live_status_output)
    assert "readings/s" in table
    assert poller.poller_id in table
    device_line = next(line for line in table.splitlines() if stage.chassis[0].name in line)
    assert poller.poller_id in device_line


async def test_a_stopped_poller_makes_healthz_and_live_status_say_walls_are_stale(
    simulators, live_settings, tmp_path
):
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    poller = start_program(["manage.py", "run_poller"], tmp_path / "poller.log")
    try:

        async def publishing() -> bool:
            status, body = await healthz(stage.admin)
            return status == 200 and body["published_s_ago"] < 1

        await wait_until_async(publishing, 20, "the poller publishing")
        poller.send_signal(signal.SIGSTOP)

        async def stale() -> dict | None:
            status, body = await healthz(stage.admin)
            # More than the threshold: the body rounds to 0.1 s, so 5.0 may be 4.96 s.
            stale_for = body["published_s_ago"]
            return body if status == 503 and stale_for > PUBLISH_STALE_AFTER else None

        body = await wait_until_async(stale, 15, "/healthz saying no poller published")
        assert (body["database"], body["redis"]) == (True, True)
        table = await asyncio.to_thread(live_status_output)
        assert "STALE: no poller has published for" in table
    finally:
        poller.send_signal(signal.SIGCONT)
        await stop_programs([poller])
