"""The live path recovering by itself: Redis restarted, a poller killed, a device
sending garbage."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from micboard.models import WirelessUnit
from micboard.services import PerformerService
from realtime import keys
from realtime.redis_client import async_client
from tests.conftest import RedisServer, free_port, shared_database_url, use_redis
from tests.realtime.conftest import build_live_stage, next_frame, open_socket, unit_in
from tests.realtime.test_live_path import delta_with
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def private_redis(settings):
    """A Redis server of this test's own, so it can be restarted."""
    server = RedisServer()
    server.start()
    use_redis(settings, server.url, "restart")
    yield server
    server.cleanup()


async def test_redis_restarting_mid_stream_heals_by_itself(private_redis, simulators, pollers):
    use_redis(settings, private_redis.url, "restart")  # over the shared server's settings
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    # No periodic snapshot in this test: the one after the restart is the recovery's own.
    poller = pollers(snapshot_interval=600.0)
    unit = stage.units[0].pk
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    # A fresh Redis: leases are claimed once it has been up for a lease TTL.
    await next_frame(wall, delta_with(unit, status="GOOD"), limit=15)

    await asyncio.to_thread(private_redis.restart)  # everything in Redis is gone

    snapshot = await next_frame(wall, lambda f: f["type"] == "snapshot", limit=15)
    assert unit_in(snapshot, unit) is not None
    simulator.set_battery(1, bars=3)
    await next_frame(wall, delta_with(unit, status="REPLACE"), limit=15)
    redis = async_client()
    assert await redis.get(keys.lease(stage.chassis[0].pk)) == poller.poller_id.encode()
    assert int(unit) in {int(m) for m in await redis.smembers(keys.group_units(stage.group_a.pk))}
    await wall.disconnect()


async def test_an_edit_during_a_redis_blip_reaches_an_open_wall(private_redis):
    """Redis is back within live_watch.DOWN_AFTER, so the wall stays open; the rename's
    structure frame could not be published, so the wall is told to re-fetch its tiles."""
    use_redis(settings, private_redis.url, "restart")  # over the shared server's settings
    stage = await database_sync_to_async(build_live_stage)([free_port()])
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await next_frame(wall, lambda f: f["type"] == "snapshot")

    await asyncio.to_thread(private_redis.stop)
    performer = stage.assignments[0].performer
    # Its receiver logs "could not pass performer.updated on to the live path".
    await database_sync_to_async(PerformerService.update_performer)(performer, name="Jane Doe")
    await asyncio.to_thread(private_redis.start)

    structure = await next_frame(wall, lambda f: f["type"] == "structure")
    assert structure == {"type": "structure", "group": stage.group_a.pk, "units": None}
    await wall.disconnect()


def spawn_poller(poller_id: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "micboard.settings",
        "REDIS_URL": settings.REDIS_URL,
        "MICBOARD_REDIS_PREFIX": settings.MICBOARD_REDIS_PREFIX,
        "DATABASE_URL": shared_database_url(),
    }
    command = [sys.executable, "manage.py", "run_poller", "--id", poller_id]
    with log.open("ab") as output:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=output)


async def owners(chassis_ids: list[int]) -> list[str | None]:
    values = await async_client().mget([keys.lease(cid) for cid in chassis_ids])
    return [value.decode() if value else None for value in values]


async def read_since(unit_ids: list[int], since: float) -> bool:
    """Tell whether every unit's live state was written after `since` (a poller reads it)."""
    import orjson

    values = await async_client().mget([keys.unit_state(uid) for uid in unit_ids])
    return all(value and orjson.loads(value)["ts"] > since for value in values)


async def test_a_killed_pollers_devices_are_read_again_within_10_seconds(
    live_settings, simulators, tmp_path
):
    devices = [await simulators("ULXD4Q") for _ in range(4)]
    stage = await database_sync_to_async(build_live_stage)([d.port for d in devices])
    chassis = [c.pk for c in stage.chassis]
    units = [u.pk for u in stage.units]
    processes = [spawn_poller("first", tmp_path / "first.log")]
    max_connections = 0

    async def owned_by(*pollers: str) -> bool:
        nonlocal max_connections  # one connection per device: never read twice at once
        max_connections = max(max_connections, *(d.connection_count for d in devices))
        return sorted(map(str, await owners(chassis))) == sorted(pollers)

    try:
        await wait_until_async(lambda: owned_by(*["first"] * 4), 30, "the first poller's leases")
        processes.append(spawn_poller("second", tmp_path / "second.log"))
        shared = ["first", "first", "second", "second"]
        await wait_until_async(lambda: owned_by(*shared), 30, "the two pollers sharing devices")

        processes[0].send_signal(signal.SIGKILL)
        killed_at = time.time()

        async def taken_over() -> bool:
            return await owned_by(*["second"] * 4) and await read_since(units, killed_at)

        await wait_until_async(taken_over, 10, "the second poller reading all four devices")
        assert max_connections == 1
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)


async def spew_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A "device" on the poller's port list that only ever sends noise."""
    try:
        while True:
            writer.write(os.urandom(256) + b"< REP 1 BATT_BARS 9x9 >< SAMPLE 1 ALL >")
            await writer.drain()
            await asyncio.sleep(0.01)
    except (ConnectionError, asyncio.CancelledError):
        writer.close()


async def test_a_device_sending_garbage_leaves_the_others_alone(simulators, pollers):
    healthy = await simulators("ULXD4Q")
    noisy = await simulators("ULXD4Q")
    babbler = await asyncio.start_server(spew_garbage, "127.0.0.1", 0)
    babbler_port = babbler.sockets[0].getsockname()[1]
    stage = await database_sync_to_async(build_live_stage)([healthy.port, noisy.port, babbler_port])
    pollers()
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await next_frame(wall, delta_with(stage.units[0].pk, status="GOOD"))

    for _ in range(20):
        noisy.send_garbage()
        await next_frame(wall, lambda f: f["type"] == "delta")
    healthy.set_battery(1, bars=3)
    await next_frame(wall, delta_with(stage.units[0].pk, status="REPLACE"))
    noisy_units = [u.pk for u in stage.units[4:8]]
    since = time.time()
    await wait_until_async(lambda: read_since(noisy_units, since), 10, "the noisy device read")
    await wall.disconnect()
    babbler.close()
    await babbler.wait_closed()


async def test_the_live_path_keeps_going_while_the_database_is_locked(
    simulators, pollers, monkeypatch
):
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    unit = stage.units[0]
    give_up_on_locks_quickly(monkeypatch)
    poller = pollers()
    wall, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await next_frame(wall, delta_with(unit.pk, status="GOOD"))
    await wait_until_async(lambda: saved_as(unit.pk, "GOOD"), 10, "GOOD in the database")
    failures = poller.telemetry.failed_batches

    with writes_locked_out(WirelessUnit._meta.db_table):
        simulator.set_battery(1, bars=3)
        await next_frame(wall, delta_with(unit.pk, status="REPLACE"))
        await wait_until_async(
            lambda: poller.telemetry.failed_batches > failures, 10, "a batch failing on the lock"
        )
        await next_frame(wall, lambda f: f["type"] == "delta")  # and it keeps streaming
        assert await asyncio.to_thread(status_bypassing_lock, unit.pk) == "GOOD"
    retried = "REPLACE in the database: the batch retried"
    await wait_until_async(lambda: saved_as(unit.pk, "REPLACE"), 10, retried)
    raised = await next_frame(wall, lambda f: f["type"] == "alert")
    assert raised["alert"]["kind"] == "battery_low"
    await wall.disconnect()


async def saved_as(unit_id: int, status: str) -> bool:
    return await database_sync_to_async(
        lambda: WirelessUnit.objects.filter(pk=unit_id, status=status).exists()
    )()


def give_up_on_locks_quickly(monkeypatch) -> None:
    """Make new database connections fail after 0.3 s on a lock instead of waiting."""
    options = connection.settings_dict["OPTIONS"]
    if connection.vendor == "sqlite":
        monkeypatch.setitem(options, "timeout", 0.3)
    else:
        monkeypatch.setitem(options, "options", "-c lock_timeout=300")


@contextlib.contextmanager
def writes_locked_out(table: str):
    """Hold a lock, from a connection of our own, that lets readers in but no writer."""
    if connection.vendor == "sqlite":
        locker = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # WAL: readers still read the last commit
        try:
            yield
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        return
    with psycopg.connect(shared_database_url()) as locker, locker.transaction():
        locker.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # readers pass
        yield


def status_bypassing_lock(unit_id: int) -> str:
    """Read the committed status with a connection of its own (the lock lets readers in)."""
    table = WirelessUnit._meta.db_table
    query = f"SELECT status FROM {table} WHERE id = {int(unit_id)}"
    if connection.vendor == "sqlite":
        reader = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            return str(reader.execute(query).fetchone()[0])
        finally:
            reader.close()
    with psycopg.connect(shared_database_url()) as reader:
        row = reader.execute(query).fetchone()
        assert row is not None
        return str(row[0])
