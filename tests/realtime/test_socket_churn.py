"""Sockets that vanish while frames flow leave nothing behind, on each real web server.

tests/security/test_limits.py drives the consumer's exit paths through the ASGI app with
a failing `send`; here the same exits happen for real: a live poller streams a group's
deltas, and browsers drop their TCP connections mid-stream (no close handshake) or close
them cleanly, on daphne and on uvicorn (production). Afterwards the web process holds no
layer subscription in Redis (neither the group's nor any socket's own channel) and counts
no open socket in /metrics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings

from micboard.services import KioskService
from realtime.redis_client import async_client
from tests.realtime.conftest import build_live_stage
from tests.realtime.faultkit import log_tails, start_web, stop_programs
from tests.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 20  # sockets opened and lost, one after another, while deltas flow
METRICS_TOKEN = "churn-test-metrics-token-0123456789"


@pytest.fixture(params=["daphne", "uvicorn"])
async def web(request, live_settings, simulators, pollers, tmp_path: Path) -> AsyncIterator[dict]:
    """A metering receiver, a running poller and one web process of the given server."""
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    link = await database_sync_to_async(KioskService.create_link)(stage.group_a, "FOH")
    pollers()
    process, port = await start_web(
        tmp_path / "web.log", request.param, MICBOARD_METRICS_TOKEN=METRICS_TOKEN
    )
    try:
        yield {
            "port": port,
            "path": f"/ws/kiosk/{link.token}/",
            "logs": tmp_path,
            "server": request.param,
        }
    finally:
        await stop_programs([process])


async def layer_channels() -> list[bytes]:
    """Every channel-layer subscription in Redis under this test's prefix."""
    pattern = f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}*"
    return sorted(await async_client().pubsub_channels(pattern))


async def open_sockets(port: int) -> float:
    """The web process's own count of open live sockets, from /metrics."""
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        text = (await client.get("/metrics", headers=headers)).raise_for_status().text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("micboard_connected_sockets{")
    )


async def stream_then_leave(port: int, path: str, *, abort: bool) -> None:
    """Take the snapshot and a few deltas, then go: dropped mid-stream or closed cleanly."""
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}{path}", origin=websockets.Origin(f"http://127.0.0.1:{port}")
    )
    frames = [orjson.loads(await socket.recv()) for _ in range(4)]
    assert frames[0]["type"] == "snapshot"
    assert {"delta"} <= {f["type"] for f in frames[1:]}, "the stream is flowing"
    if abort:
        socket.transport.abort()  # the browser's machine vanished: no close frame, no FIN
    else:
        await socket.close()


@pytest.mark.parametrize("abort", [True, False], ids=["dropped", "closed"])
async def test_sockets_that_go_mid_stream_leave_no_subscription_and_no_socket(web, abort):
    await wait_until_async(_lists_empty, 10, "no layer subscription before any socket opens")
    for _ in range(ROUNDS):
        await stream_then_leave(web["port"], web["path"], abort=abort)
    # Frames keep flowing to the group: a socket left behind would stay subscribed.
    try:
        await wait_until_async(_lists_empty, 20, "every layer subscription gone")
    except AssertionError:
        print("left subscribed:", await layer_channels(), log_tails(web["logs"]), sep="\n")
        raise
    await wait_until_async(
        lambda: _no_open_sockets(web["port"]), 20, "no socket left open in the web process"
    )
    # And a newcomer still gets the stream: leaving broke nothing for the group.
    await stream_then_leave(web["port"], web["path"], abort=False)


async def _lists_empty() -> bool:
    return await layer_channels() == []


async def _no_open_sockets(port: int) -> bool:
    return await open_sockets(port) == 0


async def test_uvicorn_compresses_frames_for_a_wall_that_offers_deflate(web):
    """Browsers offer permessage-deflate; the production server must take it: a wall's
    frames are JSON of many alike states, about a twentieth of the text on the wire
    (bench/bench_live.py --compression deflate, docs/performance.md). daphne, kept for
    development and the browser tests, does not negotiate it."""
    port = web["port"]
    async with websockets.connect(
        f"ws://127.0.0.1:{port}{web['path']}",
        origin=websockets.Origin(f"http://127.0.0.1:{port}"),
        compression="deflate",
    ) as socket:
        assert orjson.loads(await socket.recv())["type"] == "snapshot"
        extensions = socket.response.headers.get("Sec-WebSocket-Extensions", "")
    assert ("permessage-deflate" in extensions) == (web["server"] == "uvicorn"), extensions
