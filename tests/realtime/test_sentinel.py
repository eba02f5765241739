"""Redis Sentinel: the live path finds its master through a Sentinel and follows a failover.

A private stage: a master, a replica of it and one Sentinel (quorum 1) on loopback. The
settings point at the Sentinel only: REDIS_URL names a port where nothing listens, so
every client that reaches Redis has found the master through the Sentinel. The master is
then killed with SIGKILL; once the Sentinel has promoted the replica, the running poller
and a newly connected wall work through it, and nothing was restarted.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import redis
import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel

from realtime import codes
from realtime.poller.sender import direct_publish_prefix
from realtime.redis_client import layer_host, redis_target
from tests.conftest import RedisServer, free_port, wait_for_redis
from tests.realtime.conftest import (
    FRAME_TIMEOUT,
    LiveStage,
    build_live_stage,
    next_frame,
    open_socket,
    unit_in,
)
from tests.waiting import wait_until, wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

MASTER = "mymaster"
READY_TIMEOUT = 15.0  # the replica in sync, and known to the Sentinel
FAILOVER_TIMEOUT = 30.0
NOTHING_LISTENS = "redis://127.0.0.1:9/0"


@dataclass
class SentinelStage:
    master: RedisServer
    replica: RedisServer
    sentinel_port: int


def replica_in_sync(replica: RedisServer) -> bool:
    with redis.Redis(port=replica.port) as client:
        return client.info("replication").get("master_link_status") == "up"


def sentinel_sees_replica(sentinel_port: int, replica: RedisServer) -> bool:
    with redis.Redis(port=sentinel_port) as client:
        replicas = client.sentinel_slaves(MASTER)
    return any(
        r["port"] == replica.port and r["is_slave"] and r["master-link-status"] == "ok"
        for r in replicas
    )


def start_sentinel(directory: Path, master_port: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = directory / "sentinel.conf"  # Sentinel rewrites it: a file of its own
    config.write_text(
        f"port {port}\nbind 127.0.0.1\nprotected-mode no\ndir {directory}\n"
        f"sentinel monitor {MASTER} 127.0.0.1 {master_port} 1\n"
        f"sentinel down-after-milliseconds {MASTER} 1000\n"
        f"sentinel failover-timeout {MASTER} 5000\n"
    )
    executable = shutil.which("redis-server")
    assert executable, "redis-server is not installed (apt-get install redis-server)"
    process = subprocess.Popen(
        [executable, str(config), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_redis(f"redis://127.0.0.1:{port}", process)
    return process, port


@pytest.fixture
def sentinel_stage() -> Iterator[SentinelStage]:
    """A master, its replica in sync, and a Sentinel that knows both."""
    master = RedisServer()
    master.start()
    replica = RedisServer(options=["--replicaof", "127.0.0.1", str(master.port)])
    replica.start()
    directory = Path(tempfile.mkdtemp(prefix="micboard-sentinel-"))
    sentinel = None
    try:
        # The Sentinel learns of replicas from the master's INFO, asked at once on start
        # and then every 10 s: start it once the replica is attached.
        wait_until(lambda: replica_in_sync(replica), READY_TIMEOUT, "the replica in sync")
        sentinel, port = start_sentinel(directory, master.port)
        wait_until(lambda: sentinel_sees_replica(port, replica), READY_TIMEOUT, "Sentinel sees it")
        yield SentinelStage(master, replica, port)
    finally:
        if sentinel is not None:
            sentinel.terminate()
            sentinel.wait(timeout=10)
        for server in (master, replica):
            server.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def sentinel_settings(live_settings, sentinel_stage: SentinelStage):
    """Point the live path at the Sentinel only (the key prefix stays the test's own)."""
    live_settings.REDIS_URL = NOTHING_LISTENS
    live_settings.REDIS_SENTINELS = [("127.0.0.1", sentinel_stage.sentinel_port)]
    live_settings.REDIS_SENTINEL_MASTER = MASTER
    live_settings.REDIS_SENTINEL_PASSWORD = ""
    layers = {**live_settings.CHANNEL_LAYERS["default"]}
    layers["CONFIG"] = {**layers["CONFIG"], "hosts": [layer_host(redis_target())]}
    live_settings.CHANNEL_LAYERS = {"default": layers}
    return live_settings


async def master_port(sentinel_port: int) -> int | None:
    """Return the master's port as clients are told it, or None while there is none.

    Not SENTINEL GET-MASTER-ADDR-BY-NAME: that names the promoted replica while the
    failover is still under way, when SENTINEL MASTERS (which redis-py reads) still
    shows the old master down and clients find no master yet."""
    async with Sentinel([("127.0.0.1", sentinel_port)]) as sentinel:
        try:
            _, port = await sentinel.discover_master(MASTER)
        except MasterNotFoundError:
            return None
    return int(port)


async def reading_reaches(wall: WebsocketCommunicator, stage: LiveStage, simulator, bars: int):
    """Change unit 0's battery on the device; return the delta that shows it on `wall`."""
    unit = stage.units[0].pk
    simulator.set_battery(1, bars=bars)

    def shows_it(frame) -> bool:
        state = unit_in(frame, unit) if frame["type"] in ("delta", "snapshot") else None
        return state is not None and state["bars"] == bars

    return await next_frame(wall, shows_it)


async def live_again_or_told_to_retry(wall: WebsocketCommunicator, unit: int, bars: int) -> str:
    """Follow a wall opened before the failover: a short failover leaves it open and it
    shows the new reading; a longer one (over live_watch.DOWN_AFTER) closes it with 4503."""

    async def next_outcome() -> str | None:
        # A read may wait longer than the whole wait, so the wait's deadline is what fails.
        output = await wall.receive_output(timeout=FRAME_TIMEOUT + 1)
        if output["type"] == "websocket.close":
            assert output.get("code") == codes.TRY_AGAIN
            return "closed with 4503"
        state = unit_in(orjson.loads(output["text"]), unit)
        return "live" if state is not None and state["bars"] == bars else None

    what = f"the old wall live at {bars} bars, or closed with 4503"
    return await wait_until_async(next_outcome, FRAME_TIMEOUT, what, interval=0)


async def test_the_live_path_follows_a_sentinel_failover(
    sentinel_settings, sentinel_stage: SentinelStage, simulators, pollers
):
    assert direct_publish_prefix() is not None, "frames still go out in one round trip"
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    pollers()
    group = f"/ws/groups/{stage.group_a.pk}/"
    wall, accepted, _ = await open_socket(group, user=stage.tech_a)
    assert accepted
    await reading_reaches(wall, stage, simulator, bars=3)

    sentinel_stage.master.process.kill()  # SIGKILL: no goodbye to the replica or clients
    sentinel_stage.master.process.wait()
    replica = sentinel_stage.replica.port

    async def promoted() -> bool:
        return await master_port(sentinel_stage.sentinel_port) == replica

    await wait_until_async(promoted, FAILOVER_TIMEOUT, "Sentinel promotes the replica")

    fresh, accepted, _ = await open_socket(group, user=stage.tech_a)
    assert accepted
    await reading_reaches(fresh, stage, simulator, bars=1)
    assert await live_again_or_told_to_retry(wall, stage.units[0].pk, bars=1)
    async with aioredis.Redis(port=replica) as new_master:
        assert (await new_master.info("replication"))["role"] == "master"
    await fresh.disconnect()
    await wall.disconnect()
