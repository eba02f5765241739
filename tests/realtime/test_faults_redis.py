"""Redis stopped for 10 s and started again, with persistence (appendonly) and without
(the live state is gone after the restart).

Each mode gets a stack of its own, and both outages run at the same time: a private
redis-server, `manage.py run_poller`, daphne, WebSocket clients that behave like
static/js/live.js, and a real Chromium on the wall page. Both pollers read the same
simulated receiver. No process is restarted: the poller and the web process recover
by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from django.conf import settings
from playwright.async_api import Browser, Page, async_playwright, expect

from realtime import codes, keys
from tests.conftest import RedisServer, use_redis
from tests.e2e.live import CHROMIUM, CHROMIUM_ARGS
from tests.realtime.conftest import LiveStage, build_live_stage, session_cookie
from tests.realtime.faultkit import (
    LiveClient,
    log_tails,
    redis_view,
    start_clients,
    start_program,
    start_web,
    stop_programs,
    stop_tasks,
    views_match_redis,
    wait_all_live,
)
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

OUTAGE = 10.0
RECOVERY = 45.0  # a client's backoff after a 10 s outage can reach 8 s, then 16 s


@dataclass
class Stack:
    """One mode's Redis, poller, web process, clients and browser page."""

    name: str
    redis: RedisServer
    store: aioredis.Redis
    programs: list[subprocess.Popen[bytes]]
    clients: list[LiveClient]
    page: Page


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def start_stack(
    name: str, stage: LiveStage, browser: Browser, directory: Path, *, appendonly: bool
) -> Stack:
    redis = RedisServer(appendonly=appendonly)
    await asyncio.to_thread(redis.start)
    log = directory / f"{name}.log"
    poller = start_program(["manage.py", "run_poller", "--id", name], log, REDIS_URL=redis.url)
    daphne, port = await start_web(log, REDIS_URL=redis.url)
    cookies = await asyncio.gather(
        database_sync_to_async(session_cookie)(stage.tech_a),
        database_sync_to_async(session_cookie)(stage.tech_b),
    )
    clients = [
        LiveClient(
            group=group.pk,
            path=f"/ws/groups/{group.pk}/",
            headers=[("Cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}")],
            base=f"ws://127.0.0.1:{port}",
        )
        for group, cookie in [(stage.group_a, cookies[0]), (stage.group_b, cookies[1])] * 2
    ]
    context = await browser.new_context()
    site = f"http://127.0.0.1:{port}"
    await context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookies[0], "url": site}]
    )
    page = await context.new_page()
    await page.goto(f"{site}/walls/{stage.group_a.pk}/")
    store = aioredis.Redis.from_url(redis.url)
    return Stack(name, redis, store, [poller, daphne], clients, page)


async def go_through_outage(stack: Stack, stage: LiveStage) -> dict[str, float]:
    """Stop Redis for OUTAGE seconds; return how long each step of the recovery took."""
    wall = stack.page.locator("#wall")
    jane = str(stage.units[0].pk)
    await wait_until_async(
        lambda: has_state(stack.clients, jane), 30, f"{stack.name}: walls show Jane's unit"
    )
    await expect(wall).to_have_attribute("data-state", "live", timeout=30_000)
    snapshots = [client.snapshots for client in stack.clients]

    await asyncio.to_thread(stack.redis.stop)
    stopped = time.monotonic()
    await wait_until_async(lambda: all_lost(stack.clients), OUTAGE - 1, "closed with 4503")
    timings = {"reconnecting": time.monotonic() - stopped}
    await expect(wall).to_have_attribute(
        "data-state", "reconnecting", timeout=(stopped + OUTAGE - time.monotonic()) * 1000
    )
    assert {code for client in stack.clients for code in client.close_codes} == {codes.TRY_AGAIN}
    await asyncio.sleep(stopped + OUTAGE - time.monotonic())  # the outage itself lasts 10 s
    await asyncio.to_thread(stack.redis.start)
    restarted = time.monotonic()

    await wait_all_live(stack.clients, RECOVERY)
    timings["clients live"] = time.monotonic() - restarted
    assert all(c.snapshots > n for c, n in zip(stack.clients, snapshots, strict=True))
    await expect(wall).to_have_attribute("data-state", "live", timeout=RECOVERY * 1000)
    timings["browser live"] = time.monotonic() - restarted
    await wait_until_async(lambda: live_state_rebuilt(stack.store, stage), 15, "live state rebuilt")
    timings["state rebuilt"] = time.monotonic() - restarted
    return timings


async def has_state(clients: list[LiveClient], unit: str) -> bool:
    return all(unit in client.view for client in clients if client.group == clients[0].group)


async def all_lost(clients: list[LiveClient]) -> bool:
    return all(client.lost.is_set() for client in clients)


async def live_state_rebuilt(store: aioredis.Redis, stage: LiveStage) -> bool:
    """Return True once every assigned unit has its state and group membership in Redis."""
    for group, units in ((stage.group_a, stage.units[:2]), (stage.group_b, stage.units[2:3])):
        members = {int(m) for m in await store.smembers(keys.group_units(group.pk))}
        view = await redis_view(group.pk, store)
        if members != {u.pk for u in units} or set(view) != {str(u.pk) for u in units}:
            return False
    return True


async def test_redis_down_for_10_seconds_with_and_without_persistence(
    settings, simulators, browser, tmp_path
):
    """Walls say "Reconnecting…" while Redis is away and come back live with its states."""
    use_redis(settings, "redis://127.0.0.1:1/0", "outage")  # each stack names its own
    device = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([device.port])
    stacks: list[Stack] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        for name, appendonly in (("appendonly", True), ("no-persistence", False)):
            stacks.append(await start_stack(name, stage, browser, tmp_path, appendonly=appendonly))
        for stack in stacks:
            tasks += await start_clients(stack.clients)
        timings = await asyncio.gather(*(go_through_outage(stack, stage) for stack in stacks))
        for stack, taken in zip(stacks, timings, strict=True):
            print(f"\n[{stack.name}]", ", ".join(f"{k} {v:.1f} s" for k, v in taken.items()))

        device.set_battery(1, bars=3)  # a live change after the recovery reaches every wall
        for stack in stacks:
            jane = stack.page.locator(f"#tile-{stage.units[0].pk}")
            await expect(jane).to_have_attribute("data-status", "REPLACE", timeout=15_000)
            await wait_until_async(lambda s=stack: replaced(s, stage), 15, f"{stack.name}: REPLACE")
        await device.stop()  # the view stops moving: every client must now equal Redis
        for stack in stacks:
            await wait_until_async(
                lambda s=stack: views_match_redis(s.clients, s.store), 20, "views"
            )
            assert all(program.poll() is None for program in stack.programs)  # none restarted
    except BaseException:
        print(log_tails(tmp_path))
        raise
    finally:
        await stop_tasks(tasks)
        for stack in stacks:
            await stop_programs(stack.programs)
            await stack.store.aclose()
            await asyncio.to_thread(stack.redis.cleanup)


async def replaced(stack: Stack, stage: LiveStage) -> bool:
    jane = str(stage.units[0].pk)
    watching = [client for client in stack.clients if client.group == stage.group_a.pk]
    with contextlib.suppress(KeyError):
        return all(client.view[jane]["status"] == "REPLACE" for client in watching)
    return False
