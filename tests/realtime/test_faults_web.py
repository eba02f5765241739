"""The production scaling shape: two web processes (daphne and uvicorn) and two pollers
on one Redis.

- A web process killed with SIGKILL under 100 walls: behind a round-robin proxy (the
  load balancer), every wall reconnects to the survivor, gets a snapshot and live
  updates, and ends up showing what Redis holds.
- One wall on each web process: both receive the same deltas, in the same order.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from micboard.services import PerformerAssignmentService, PerformerService
from realtime import keys
from realtime.redis_client import async_client
from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator
from tests.realtime.conftest import LiveStage, build_live_stage, session_cookie
from tests.realtime.faultkit import (
    LiveClient,
    TcpProxy,
    log_tails,
    start_clients,
    start_program,
    start_web,
    stop_programs,
    stop_tasks,
    views_match_redis,
)
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 100


@dataclass
class Farm:
    devices: list[ShureTcpSimulator]
    stage: LiveStage
    pollers: list[subprocess.Popen[bytes]]
    webs: list[subprocess.Popen[bytes]]
    web_ports: list[int]
    balancer: TcpProxy
    cookies: dict[int, str]  # group id -> a session cookie of someone watching it
    logs: Path

    def client(self, group_id: int, port: int) -> LiveClient:
        cookie = f"{settings.SESSION_COOKIE_NAME}={self.cookies[group_id]}"
        return LiveClient(
            group=group_id,
            path=f"/ws/groups/{group_id}/",
            headers=[("Cookie", cookie)],
            base=f"ws://127.0.0.1:{port}",
        )


def build_stage_over_two_devices(ports: list[int]) -> LiveStage:
    """The live stage, with a unit of the second receiver in group A as well."""
    stage = build_live_stage(ports)
    performer = PerformerService.create_performer("Cy Moss")
    PerformerAssignmentService.create_assignment(performer, stage.units[4], stage.group_a)
    return stage


async def lease_owners(chassis: list[int]) -> set[str]:
    values = await async_client().mget([keys.lease(chassis_id) for chassis_id in chassis])
    return {value.decode() for value in values if value}


@pytest.fixture
async def farm(live_settings, simulators, tmp_path) -> AsyncIterator[Farm]:
    """Two receivers, two pollers sharing them, two web processes and a balancer."""
    devices = [await simulators("ULXD4Q") for _ in range(2)]
    stage = await database_sync_to_async(build_stage_over_two_devices)([d.port for d in devices])
    pollers = [
        start_program(["manage.py", "run_poller", "--id", name], tmp_path / f"{name}.log")
        for name in ("p1", "p2")
    ]
    webs, ports = [], []
    # One of each server the project supports: the walls must not tell them apart.
    for name, server in (("web1", "daphne"), ("web2", "uvicorn")):
        web, port = await start_web(tmp_path / f"{name}.log", server)
        webs.append(web)
        ports.append(port)
    balancer = TcpProxy(*ports)
    await balancer.start()
    cookies = {
        stage.group_a.pk: await database_sync_to_async(session_cookie)(stage.tech_a),
        stage.group_b.pk: await database_sync_to_async(session_cookie)(stage.tech_b),
    }
    chassis = [c.pk for c in stage.chassis]
    farm = Farm(devices, stage, pollers, webs, ports, balancer, cookies, tmp_path)
    try:
        await wait_until_async(lambda: both_pollers_read(chassis), 30, "each poller reads a device")
        yield farm
    except BaseException:
        print(log_tails(tmp_path))
        raise
    finally:
        await stop_programs(pollers + webs)
        await balancer.stop()


async def both_pollers_read(chassis: list[int]) -> bool:
    return await lease_owners(chassis) == {"p1", "p2"}


async def replaced(clients: list[LiveClient], unit_by_group: dict[int, int]) -> bool:
    return all(
        client.view.get(str(unit_by_group[client.group]), {}).get("status") == "REPLACE"
        for client in clients
    )


async def test_walls_move_to_the_surviving_web_process_when_one_is_killed(farm: Farm):
    """SIGKILL the daphne under 100 walls: all of them are live again on the uvicorn."""
    stage = farm.stage
    groups = [stage.group_a.pk, stage.group_b.pk]
    clients = [farm.client(groups[i % 2], farm.balancer.port) for i in range(CLIENTS)]
    tasks = await start_clients(clients)
    try:
        on_victim = farm.balancer.links_to(farm.web_ports[0])
        assert on_victim == CLIENTS // 2  # round robin
        farm.webs[0].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await wait_until_async(lambda: dropped(clients, on_victim), 15, "the victim's walls notice")
        await wait_until_async(lambda: all_live(clients), 60, "every wall live again")
        recovered = time.monotonic() - killed
        assert farm.balancer.links_to(farm.web_ports[1]) == CLIENTS
        assert sum(1 for c in clients if c.snapshots >= 2) >= on_victim

        farm.devices[0].set_battery(1, bars=3)  # Jane, group A
        farm.devices[0].set_battery(3, bars=3)  # Bob, group B
        units = {stage.group_a.pk: stage.units[0].pk, stage.group_b.pk: stage.units[2].pk}
        await wait_until_async(lambda: replaced(clients, units), 20, "a live change on every wall")
        for device in farm.devices:
            await device.stop()  # the view stops moving: every wall must equal Redis
        await wait_until_async(lambda: views_match_redis(clients), 30, "every view equals Redis")
        print(f"\n{on_victim} walls on the killed process, all live again after {recovered:.1f} s")
    finally:
        await stop_tasks(tasks)


async def dropped(clients: list[LiveClient], count: int) -> bool:
    return sum(client.drops for client in clients) >= count


async def all_live(clients: list[LiveClient]) -> bool:
    return all(client.live.is_set() for client in clients)


async def test_a_wall_on_each_web_process_gets_the_same_deltas_in_order(farm: Farm):
    """Both web processes forward the same frames of a group spread over two pollers."""
    stage = farm.stage
    group = stage.group_a.pk
    clients = [farm.client(group, port) for port in farm.web_ports]
    tasks = await start_clients(clients)
    try:
        await wait_until_async(lambda: enough_deltas(clients, 100), 30, "100 deltas on each wall")
        farm.devices[0].set_battery(1, bars=3)  # through one poller
        farm.devices[1].set_battery(1, bars=1)  # through the other
        changed = {str(stage.units[0].pk): "REPLACE", str(stage.units[4].pk): "CRITICAL"}
        await wait_until_async(lambda: shows(clients, changed), 20, "both changes on both walls")
        for device in farm.devices:
            await device.stop()
        await wait_until_async(lambda: views_match_redis(clients), 30, "both views equal Redis")

        first, second = ([(d["seq"], d["units"]) for d in c.deltas] for c in clients)
        common = {seq for seq, _ in first} & {seq for seq, _ in second}
        assert len(common) >= 100
        assert [d for d in first if d[0] in common] == [d for d in second if d[0] in common]
        for deltas in (first, second):  # and neither missed one in the middle
            seqs = [seq for seq, _ in deltas]
            inside = seqs[seqs.index(min(common)) : seqs.index(max(common)) + 1]
            assert set(inside) == common
        print(f"\n{len(common)} deltas compared, identical and in the same order")
    finally:
        await stop_tasks(tasks)


async def enough_deltas(clients: list[LiveClient], count: int) -> bool:
    return all(len(client.deltas) >= count for client in clients)


async def shows(clients: list[LiveClient], statuses: dict[str, str]) -> bool:
    return all(
        client.view.get(unit, {}).get("status") == status
        for client in clients
        for unit, status in statuses.items()
    )
