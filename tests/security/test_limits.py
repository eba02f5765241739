"""What one holder can cost the web process: socket caps, a frame budget, frame sizes.

Sockets over the cap of their user or kiosk link, and sockets sending faster than the
budget, are closed with 4429, which walls answer by reconnecting with backoff. The server
itself refuses an oversized frame before buffering it (uvicorn's --ws-max-size, as every
place that starts it passes: micboard/webserver.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from channels.db import database_sync_to_async

from micboard.services import KioskService
from micboard.webserver import MAX_REQUEST_BYTES, WS_MAX_BYTES
from realtime import codes
from tests.realtime.conftest import (
    LiveStage,
    closed_with,
    next_frame,
    open_socket,
    session_cookie,
)
from tests.realtime.faultkit import start_web, stop_programs

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_user_over_their_socket_cap_is_told_to_retry(
    socket_stage: LiveStage, settings: Any
) -> None:
    settings.MICBOARD_SOCKETS_PER_USER = 2
    wall = f"/ws/groups/{socket_stage.group_a.pk}/"
    first, _, _ = await open_socket(wall, user=socket_stage.tech_a)
    second, _, _ = await open_socket(wall, user=socket_stage.tech_a)
    third, _, _ = await open_socket(wall, user=socket_stage.tech_a)
    assert await closed_with(third) == codes.TOO_MANY
    someone_else, _, _ = await open_socket(wall, user=socket_stage.admin)
    await someone_else.receive_from()  # another user's cap is their own
    await first.disconnect()
    again, _, _ = await open_socket(wall, user=socket_stage.tech_a)
    await again.receive_from()  # a closed tab frees its place
    for socket in (second, someone_else, again):
        await socket.disconnect()


async def test_a_kiosk_link_over_its_socket_cap_is_told_to_retry(
    socket_stage: LiveStage, settings: Any
) -> None:
    settings.MICBOARD_SOCKETS_PER_KIOSK = 1
    link = await database_sync_to_async(KioskService.create_link)(socket_stage.group_a, "FOH")
    screen, _, _ = await open_socket(f"/ws/kiosk/{link.token}/")
    await screen.receive_from()
    extra, _, _ = await open_socket(f"/ws/kiosk/{link.token}/")
    assert await closed_with(extra) == codes.TOO_MANY
    await screen.disconnect()


async def test_a_flood_of_resyncs_closes_the_socket_and_spares_the_rest(
    socket_stage: LiveStage,
) -> None:
    link = await database_sync_to_async(KioskService.create_link)(socket_stage.group_a, "FOH")
    flooder, _, _ = await open_socket(f"/ws/kiosk/{link.token}/")
    calm, _, _ = await open_socket(
        f"/ws/groups/{socket_stage.group_a.pk}/", user=socket_stage.tech_a
    )
    await flooder.receive_from()
    await calm.receive_from()
    for _ in range(50):
        await flooder.send_json_to({"type": "resync"})
    assert await closed_with(flooder) == codes.TOO_MANY
    await calm.send_json_to({"type": "resync"})
    assert await next_frame(calm, lambda f: f["type"] == "snapshot")
    await calm.disconnect()


async def test_uvicorn_refuses_an_oversized_frame_before_buffering_it(
    socket_stage: LiveStage, tmp_path: Path
) -> None:
    web, port = await start_web(tmp_path / "web.log", "uvicorn")
    try:
        cookie = await database_sync_to_async(session_cookie)(socket_stage.tech_a)
        url = f"ws://127.0.0.1:{port}/ws/groups/{socket_stage.group_a.pk}/"
        headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://127.0.0.1:{port}"}
        async with websockets.connect(
            url, additional_headers=headers, max_size=None, open_timeout=10
        ) as socket:
            await socket.recv()  # the snapshot: admitted
            await socket.send("x" * (WS_MAX_BYTES + 1))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009  # message too big, said by the server itself
    finally:
        await stop_programs([web])


async def test_an_oversized_or_lengthless_body_is_refused_before_django_reads_it(
    socket_stage: LiveStage, tmp_path: Path
) -> None:
    web, port = await start_web(tmp_path / "web.log", "uvicorn")
    try:
        # Only the headers: the answer must come before a byte of the body is sent.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /performers/import/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Content-Length: {MAX_REQUEST_BYTES + 1}\r\n\r\n".encode()
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        writer.close()
        assert status_line.split()[1] == b"413"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def chunks():  # no Content-Length: sent chunked
                yield b"name=x"

            chunked = await client.post("/accounts/login/", content=chunks())
            assert chunked.status_code == 411
            assert (await client.get("/accounts/login/")).status_code == 200
    finally:
        await stop_programs([web])
