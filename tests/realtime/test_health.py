"""`/healthz` and `manage.py live_status` against a real poller and real Redis."""

from __future__ import annotations

import asyncio
import io

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.db import connections
from django.test import AsyncClient

from tests.conftest import free_port
from tests.realtime.conftest import build_live_stage
from tests.realtime.test_live_path import until

pytestmark = pytest.mark.django_db(transaction=True)


async def healthz() -> tuple[int, dict]:
    response = await AsyncClient().get("/healthz")
    return response.status_code, response.json()


def live_status_output() -> str:
    """Run `live_status` in this thread and close the thread's database connection after."""
    output = io.StringIO()
    try:
        call_command("live_status", stdout=output)
    finally:
        connections.close_all()  # or PostgreSQL cannot drop the test database at the end
    return output.getvalue()


async def test_healthz_is_unhealthy_without_a_poller(live_settings):
    status, body = await healthz()
    assert (status, body) == (
        503,
        {"healthy": False, "database": True, "redis": True, "pollers": {}},
    )


async def test_healthz_is_unhealthy_without_redis(live_settings):
    live_settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    status, body = await healthz()
    assert (status, body["redis"], body["database"]) == (503, False, True)


async def test_healthz_and_live_status_show_a_running_poller(simulators, pollers):
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    poller = pollers()

    async def poller_reads_its_device() -> tuple[int, str]:
        status, body = await healthz()
        return status, body["pollers"].get(poller.poller_id, {}).get("devices", "")

    await until(poller_reads_its_device, (200, "1"))
    table = await asyncio.to_thread(live_status_output)
    assert "readings/s" in table
    assert poller.poller_id in table
    device_line = next(line for line in table.splitlines() if stage.chassis[0].name in line)
    assert poller.poller_id in device_line
