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
from channels.layers import get_channel_layer

from micboard.services import KioskService
from micboard.webserver import MAX_REQUEST_BYTES, WS_MAX_BYTES
from realtime import codes, keys
from realtime.poller.sender import direct_publish_prefix, layer_pubsub_channel
from realtime.redis_client import async_client
from tests.realtime.conftest import (
    LiveStage,
    closed_with,
    next_frame,
    open_socket,
    session_cookie,
)
from tests.realtime.faultkit import start_web, stop_programs
from tests.waiting import wait_until_async

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
        too_big = f"Content-Length: {MAX_REQUEST_BYTES + 1}"
        assert await status_after_headers(port, "/performers/import/", too_big) == 413
        chunked = "Transfer-Encoding: chunked"
        assert await status_after_headers(port, "/accounts/login/", chunked) == 411
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/accounts/login/")).status_code == 200
    finally:
        await stop_programs([web])


async def status_after_headers(port: int, path: str, header: str) -> int:
    """Send a POST's headers, no body, and return the status the server answers with."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{header}\r\n\r\n".encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
    return int(status_line.split()[1])


# What servers raise for a send to a browser that is gone: uvicorn's ClientDisconnected
# is an OSError; either server raises RuntimeError for a send after the socket closed.
VANISHED = [
    pytest.param(OSError("client disconnected"), id="ClientDisconnected"),
    pytest.param(RuntimeError("Unexpected ASGI message 'websocket.send'"), id="send after close"),
]


@pytest.mark.parametrize("error", VANISHED)
async def test_a_socket_whose_browser_vanished_mid_send_leaves_nothing_behind(
    socket_stage: LiveStage, error: Exception
) -> None:
    """The browser is gone while frames flow, before the server has said so: the consumer
    must still leave its wall's layer group, or Redis feeds a queue no one reads, for ever.
    Driven through the real ASGI app and channel layer; the server is the test, because
    only it can fail a send at exactly that moment."""
    from micboard.asgi import application

    link = await database_sync_to_async(KioskService.create_link)(socket_stage.group_a, "FOH")
    wall_group = keys.layer_group(socket_stage.group_a.pk)
    prefix = direct_publish_prefix()
    assert prefix is not None
    subscription = layer_pubsub_channel(prefix, wall_group)
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await incoming.put({"type": "websocket.connect"})
    texts: list[str] = []
    vanished = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if vanished.is_set():
            raise error
        texts.extend([message["text"]] if "text" in message else [])

    scope = {
        "type": "websocket",
        "path": f"/ws/kiosk/{link.token}/",
        "headers": [(b"host", b"localhost"), (b"origin", b"http://localhost")],
        "scheme": "ws",
        "query_string": b"",
        "subprotocols": [],
    }
    served = asyncio.create_task(application(scope, incoming.get, send))
    await wait_until_async(lambda: texts, 10, "the kiosk's first snapshot")
    assert await numsub(subscription) == 1

    vanished.set()
    await get_channel_layer().group_send(wall_group, {"type": "live.frame", "text": "{}"})
    await asyncio.wait_for(served, timeout=10)  # the socket ends, and without an error
    assert await numsub(subscription) == 0


async def numsub(channel: str) -> int:
    ((_, count),) = await async_client().pubsub_numsub(channel)
    return int(count)
