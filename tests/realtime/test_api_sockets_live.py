"""The API's live socket on the production web server (uvicorn), with a metering receiver
and a running poller: the client of docs/integrations.md (websockets, a bearer header, no
Origin) gets the group's snapshot and then the poller's deltas; a browser-style client
offering the token as a subprotocol is accepted with `micboard.live`; revoking the token
in another process closes the open socket; the secret never reaches the server's log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from channels.db import database_sync_to_async

from micboard.models import ApiToken
from micboard.services import ApiTokenService
from realtime import codes
from tests.realtime.conftest import FRAME_TIMEOUT, build_live_stage
from tests.realtime.faultkit import start_web, stop_programs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def web(live_settings, simulators, pollers, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    made = await database_sync_to_async(ApiTokenService.create_token)(
        "Companion", [stage.group_a], by_user=stage.admin
    )
    pollers()
    log = tmp_path / "web.log"
    process, port = await start_web(log, "uvicorn")
    try:
        yield {
            "url": f"ws://127.0.0.1:{port}/ws/api/groups/{stage.group_a.pk}/",
            "secret": made.secret,
            "stage": stage,
            "log": log,
        }
    finally:
        await stop_programs([process])


async def first_delta(socket: Any) -> dict[str, Any]:
    """Read frames until the poller's first delta; fail after FRAME_TIMEOUT."""
    async with asyncio.timeout(FRAME_TIMEOUT):
        while True:
            frame = orjson.loads(await socket.recv())
            if frame["type"] == "delta":
                return frame


async def drain(socket: Any) -> None:
    """Read on until the server closes (deltas flow until the re-check closes it)."""
    async with asyncio.timeout(FRAME_TIMEOUT):
        while True:
            await socket.recv()


async def test_the_documented_client_gets_the_snapshot_then_deltas(web):
    group = web["stage"].group_a.pk
    async with websockets.connect(
        web["url"], additional_headers={"Authorization": f"Bearer {web['secret']}"}
    ) as socket:
        snapshot = orjson.loads(await socket.recv())
        assert (snapshot["type"], snapshot["group"]) == ("snapshot", group)
        delta = await first_delta(socket)
    assert delta["group"] == group
    group_units = {str(u.pk) for u in web["stage"].units[:2]}  # Jane's and Ann's, group A
    assert set(delta["units"]) <= group_units
    assert web["secret"] not in web["log"].read_text(errors="replace")


async def test_a_browser_style_client_and_then_the_revocation(web):
    async with websockets.connect(
        web["url"], subprotocols=["micboard.live", f"bearer.{web['secret']}"]
    ) as socket:
        assert socket.subprotocol == "micboard.live"
        assert orjson.loads(await socket.recv())["type"] == "snapshot"

        def revoke() -> None:
            ApiTokenService.revoke_token(ApiToken.objects.get(), by_user=web["stage"].admin)

        await database_sync_to_async(revoke)()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await drain(socket)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == codes.NOT_SIGNED_IN
    assert web["secret"] not in web["log"].read_text(errors="replace")
