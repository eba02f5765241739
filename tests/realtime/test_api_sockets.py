"""`/ws/api/groups/<id>/`, the live frames for API clients, against the real ASGI app and
a real Redis channel layer: a bearer token (header or subprotocol) of the group gets its
snapshot and deltas; another group's token, no token or a session cookie alone is refused;
revoking the token or its maker's demotion closes the open socket at once."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from micboard.models import ApiToken
from micboard.services import ApiTokenService
from realtime import codes, frames, keys
from realtime.redis_client import async_client
from realtime.units.state import UnitState
from tests.realtime.conftest import FRAME_TIMEOUT, build_live_stage, closed_with, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def stage(live_settings):
    return await database_sync_to_async(build_live_stage)([40011])


def state(unit_id: int) -> UnitState:
    return UnitState(
        id=unit_id, status="GOOD", battery_status="good", online=True, tx_on=True, bars=4,
        percent=None, minutes=300, rf_a=-55.0, rf_b=-61.5, antenna="A", quality=None,
        audio=-21.5, peak=-9.0, clip=False, tx_offset=0, freq=518000, name="HH02",
        ts=1764000000.123,
    )  # fmt: skip


def make_token(stage: Any, group: Any) -> str:
    return ApiTokenService.create_token("Companion", [group], by_user=stage.admin).secret


async def connect(
    path: str,
    *,
    secret: str | None = None,
    subprotocols: list[str] | None = None,
    cookie: str | None = None,
) -> tuple[WebsocketCommunicator, bool, Any]:
    """Connect as a script does: no Origin header, the token as a bearer header."""
    from micboard.asgi import application

    headers = [(b"host", b"localhost")]
    if secret is not None:
        headers.append((b"authorization", f"Bearer {secret}".encode()))
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    socket = WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)
    accepted, detail = await socket.connect(timeout=FRAME_TIMEOUT)
    return socket, accepted, detail


async def refused(path: str, **options: Any) -> int:
    socket, accepted, _ = await connect(path, **options)
    assert accepted, "refusals accept first, then close with a code"
    code = await closed_with(socket)
    await socket.disconnect()
    return code


async def test_a_token_of_the_group_gets_its_snapshot_and_deltas_without_an_origin(stage):
    secret = await database_sync_to_async(make_token)(stage, stage.group_a)
    a_unit, b_unit = stage.units[0].pk, stage.units[2].pk
    await async_client().mset(
        {keys.unit_state(u): frames.encode_state(state(u)) for u in (a_unit, b_unit)}
    )
    socket, accepted, _ = await connect(f"/ws/api/groups/{stage.group_a.pk}/", secret=secret)
    assert accepted
    snapshot = orjson.loads(await socket.receive_from())
    assert (snapshot["type"], snapshot["group"], list(snapshot["units"])) == (
        "snapshot", stage.group_a.pk, [str(a_unit)],
    )  # fmt: skip
    text = f'{{"type":"delta","group":{stage.group_a.pk},"seq":1,"units":{{}}}}'
    layer = get_channel_layer()
    await layer.group_send(keys.layer_group(stage.group_b.pk), {"type": "live.frame", "text": "{}"})
    await layer.group_send(keys.layer_group(stage.group_a.pk), {"type": "live.frame", "text": text})
    assert await socket.receive_from() == text  # group B's frame never came first
    await socket.disconnect()


async def test_a_browser_may_offer_the_token_as_a_subprotocol(stage):
    secret = await database_sync_to_async(make_token)(stage, stage.group_a)
    socket, accepted, chosen = await connect(
        f"/ws/api/groups/{stage.group_a.pk}/", subprotocols=["micboard.live", f"bearer.{secret}"]
    )
    assert (accepted, chosen) == (True, "micboard.live")  # the secret is not echoed
    assert orjson.loads(await socket.receive_from())["type"] == "snapshot"
    await socket.send_json_to({"type": "ping"})
    assert orjson.loads(await socket.receive_from()) == {"type": "pong"}
    await socket.disconnect()


async def test_a_token_of_another_group_is_refused_with_4403(stage):
    secret = await database_sync_to_async(make_token)(stage, stage.group_b)
    assert await refused(f"/ws/api/groups/{stage.group_a.pk}/", secret=secret) == codes.NO_ACCESS


async def test_no_token_or_an_unknown_one_is_refused_with_4401(stage):
    path = f"/ws/api/groups/{stage.group_a.pk}/"
    assert await refused(path) == codes.NOT_SIGNED_IN
    assert await refused(path, secret="not-a-real-token") == codes.NOT_SIGNED_IN


async def test_an_admins_session_cookie_alone_is_not_enough(stage):
    cookie = await database_sync_to_async(session_cookie)(stage.admin)
    path = f"/ws/api/groups/{stage.group_a.pk}/"
    assert await refused(path, cookie=cookie) == codes.NOT_SIGNED_IN


async def test_revoking_the_token_closes_its_open_socket_and_keeps_it_out(stage):
    secret = await database_sync_to_async(make_token)(stage, stage.group_a)
    path = f"/ws/api/groups/{stage.group_a.pk}/"
    socket, _, _ = await connect(path, secret=secret)
    await socket.receive_from()

    def revoke() -> None:
        ApiTokenService.revoke_token(ApiToken.objects.get(), by_user=stage.admin)

    await database_sync_to_async(revoke)()
    assert await closed_with(socket) == codes.NOT_SIGNED_IN
    await socket.disconnect()
    assert await refused(path, secret=secret) == codes.NOT_SIGNED_IN


async def test_the_makers_demotion_closes_the_open_socket(stage):
    secret = await database_sync_to_async(make_token)(stage, stage.group_a)
    socket, _, _ = await connect(f"/ws/api/groups/{stage.group_a.pk}/", secret=secret)
    await socket.receive_from()

    def demote() -> None:
        profile = stage.admin.profile
        profile.role = "tech"
        profile.save()

    await database_sync_to_async(demote)()
    assert await closed_with(socket) == codes.NO_ACCESS
    await socket.disconnect()
