"""The database unreachable for 10 s under a running poller (PostgreSQL only).

A TCP proxy stands between `manage.py run_poller` and PostgreSQL and is cut for 10 s:
every connection dropped, new ones refused. Live data keeps reaching the wall; the
telemetry and alert writes made meanwhile land once the database is back; nothing
committed before is lost.

This runs in the PostgreSQL pass of .ci/run (DATABASE_URL=postgres://…). On SQLite there
is no network to cut: the nearest real fault, a locked database file, is
test_the_live_path_keeps_going_while_the_database_is_locked in test_resilience.py.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from micboard.models import Alert, WirelessUnit
from micboard.tenancy import system_context
from realtime import keys
from realtime.redis_client import async_client
from tests.conftest import shared_database_url
from tests.realtime.conftest import build_live_stage, next_frame, open_socket
from tests.realtime.faultkit import TcpProxy, log_tails, start_program, stop_programs
from tests.realtime.test_live_path import delta_with
from tests.waiting import wait_until_async

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
        reason="a network cut needs PostgreSQL: runs in the PostgreSQL pass of .ci/run",
    ),
]

OUTAGE = 10.0


def through(proxy: TcpProxy) -> str:
    """Return this test's DATABASE_URL with the proxy in place of PostgreSQL's port."""
    url = urlsplit(shared_database_url())
    credentials = url.netloc.rsplit("@", 1)[0]
    return url._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}").geturl()


def saved(unit_id: int) -> tuple[str, list[str]]:
    """Return a unit's committed status and the kinds of its alerts."""
    with system_context():
        status = WirelessUnit.objects.values_list("status", flat=True).get(pk=unit_id)
        kinds = Alert.objects.filter(wireless_unit_id=unit_id).values_list("kind", flat=True)
        return status, sorted(kinds)


async def saved_as(unit_id: int, status: str, alerts: int) -> bool:
    found, kinds = await database_sync_to_async(saved)(unit_id)
    return found == status and len(kinds) == alerts


async def failed_batches() -> int:
    return int(await async_client().hget(keys.poller("cut"), "db_failures") or 0)


async def test_the_live_path_rides_out_a_10_second_database_outage(
    live_settings, simulators, tmp_path
):
    """The wall keeps moving; writes made during the cut land afterwards."""
    device = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([device.port])
    jane, ann = stage.units[0].pk, stage.units[1].pk
    upstream = int(settings.DATABASES["default"]["PORT"] or 5432)
    database = TcpProxy(upstream)
    await database.start()
    poller = start_program(
        ["manage.py", "run_poller", "--id", "cut"],
        tmp_path / "poller.log",
        DATABASE_URL=through(database),
    )
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    try:
        device.set_battery(2, bars=1)  # committed before the cut: Ann CRITICAL, alerted
        await wait_until_async(lambda: saved_as(jane, "GOOD", 0), 30, "Jane GOOD in the database")
        await wait_until_async(lambda: saved_as(ann, "CRITICAL", 1), 30, "Ann's alert committed")
        before = await database_sync_to_async(saved)(ann)

        await database.cut()
        cut = time.monotonic()
        device.set_battery(1, bars=3)
        await next_frame(wall, delta_with(jane, status="REPLACE"), limit=5)
        await next_frame(wall, lambda f: f["type"] == "delta", limit=5)  # still streaming
        await wait_until_async(lambda: failed_batches_above(0), OUTAGE, "a telemetry batch fails")
        assert await database_sync_to_async(saved)(jane) == ("GOOD", [])
        await asyncio.sleep(cut + OUTAGE - time.monotonic())  # the outage lasts 10 s
        await database.heal()
        healed = time.monotonic()

        raised = await next_frame(wall, lambda f: f["type"] == "alert", limit=30)
        alerted = time.monotonic() - healed
        assert (raised["alert"]["unit"], raised["alert"]["kind"]) == (jane, "battery_low")
        await wait_until_async(lambda: saved_as(jane, "REPLACE", 1), 30, "Jane's telemetry saved")
        saved_after = time.monotonic() - healed
        assert await database_sync_to_async(saved)(ann) == before  # nothing committed is lost
        assert poller.poll() is None
        print(f"\nalert on the wall {alerted:.1f} s and telemetry saved {saved_after:.1f} s "
              f"after the database came back")  # fmt: skip
    except BaseException:
        print(log_tails(tmp_path))
        raise
    finally:
        await wall.disconnect()
        await stop_programs([poller])
        await database.stop()


async def failed_batches_above(count: int) -> bool:
    return await failed_batches() > count
