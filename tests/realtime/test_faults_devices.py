"""Devices misbehaving at the same time under one real poller: one floods, one stalls,
one goes half-open. Only the faulty device is affected: the healthy one keeps updating,
each dead device is marked offline within its timeout and comes back once healthy.

(A device sending garbage: tests/realtime/test_resilience.py.)
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import orjson
import pytest
from channels.db import database_sync_to_async

from realtime import keys
from realtime.redis_client import async_client
from tests.realtime.conftest import build_live_stage
from tests.realtime.faultkit import TcpProxy, log_tails, start_program, stop_programs
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

FAULT = 10.0  # how long the faults last
SILENCE_TIMEOUT = 5.0  # ShureTcpClient: a metering receiver silent this long is gone
FLOOD_COPIES = 20  # the latest meter frames x20 every 10 ms: about 100 times the asked rate
STALE_AFTER = 3.0  # a tile whose state is older than this has visibly frozen


async def states(unit_ids: list[int]) -> list[dict]:
    values = await async_client().mget([keys.unit_state(unit) for unit in unit_ids])
    return [orjson.loads(value) if value else {} for value in values]


@dataclass
class Watch:
    """Samples the live state of some units: the oldest it got and whether it went offline."""

    units: list[int]
    oldest: float = 0.0
    offline: bool = False
    updates: int = 0
    last_ts: dict[int, float] = field(default_factory=dict)

    async def run(self) -> None:
        while True:
            now = time.time()
            for unit, state in zip(self.units, await states(self.units), strict=True):
                self.oldest = max(self.oldest, now - state["ts"])
                self.offline |= not state["online"]
                self.updates += state["ts"] != self.last_ts.get(unit)
                self.last_ts[unit] = state["ts"]
            await asyncio.sleep(0.2)  # the sampling cadence of the observer


async def all_online(unit_ids: list[int], since: float = 0.0) -> bool:
    found = await states(unit_ids)
    return all(s.get("online") and s["ts"] > since for s in found)


async def all_offline(unit_ids: list[int]) -> bool:
    return all(s.get("online") is False for s in await states(unit_ids))


async def status_of(unit_id: int, wanted: str) -> bool:
    return (await states([unit_id]))[0].get("status") == wanted


async def test_only_the_flooding_stalled_or_half_open_device_is_affected(
    live_settings, simulators, tmp_path
):
    """The healthy receiver's tiles never freeze; the dead ones go offline, then return."""
    devices = [await simulators("ULXD4Q") for _ in range(4)]
    flooding, stalled, half_open = proxies = [TcpProxy(d.port) for d in devices[1:]]
    for proxy in proxies:
        await proxy.start()
    stage = await database_sync_to_async(build_live_stage)(
        [devices[0].port, *(proxy.port for proxy in proxies)]
    )
    units = [unit.pk for unit in stage.units]
    healthy, flood_units, stall_units, half_units = (units[i : i + 4] for i in range(0, 16, 4))
    poller = start_program(["manage.py", "run_poller", "--id", "one"], tmp_path / "poller.log")
    watches = [Watch(healthy), Watch(flood_units)]
    tasks = []
    try:
        await wait_until_async(lambda: all_online(units), 30, "the poller reads all four devices")
        tasks = [asyncio.create_task(watch.run()) for watch in watches]

        faulted = time.monotonic()
        flooding.flood(FLOOD_COPIES)
        stalled.stall()
        half_open.blackhole()
        taken = {}
        for name, dead in (("stalled", stall_units), ("half-open", half_units)):
            limit = SILENCE_TIMEOUT + 5
            await wait_until_async(lambda d=dead: all_offline(d), limit, f"{name} device offline")
            taken[f"{name} offline"] = time.monotonic() - faulted
        devices[0].set_battery(1, bars=3)  # changes still get through, from both devices
        devices[1].set_battery(1, bars=1)
        await wait_until_async(lambda: status_of(healthy[0], "REPLACE"), 5, "healthy unit REPLACE")
        await wait_until_async(
            lambda: status_of(flood_units[0], "CRITICAL"), 5, "flooded unit CRITICAL"
        )
        await asyncio.sleep(faulted + FAULT - time.monotonic())  # the faults last 10 s
        assert flooding.flooded > 500_000  # over 50 times what the device itself sends

        for proxy in proxies:
            await proxy.heal()
        healed, healed_at = time.monotonic(), time.time()
        for name, dead in (("stalled", stall_units), ("half-open", half_units)):
            await wait_until_async(
                lambda d=dead: all_online(d, healed_at), 30, f"{name} device back"
            )
            taken[f"{name} back"] = time.monotonic() - healed
        print("\n", ", ".join(f"{k} after {v:.1f} s" for k, v in taken.items()))
        print(f" flood: {flooding.flooded / 1e6:.1f} MB of repeated meter frames")
        for name, watch in zip(("healthy", "flooded"), watches, strict=True):
            print(f" {name}: {watch.updates} sampled updates, oldest {watch.oldest:.2f} s")
        for watch in watches:
            assert not watch.offline
            assert watch.oldest < STALE_AFTER
        assert poller.poll() is None
    except BaseException:
        print(log_tails(tmp_path))
        raise
    finally:
        for task in tasks:
            task.cancel()
        await stop_programs([poller])
        for proxy in proxies:
            await proxy.stop()
