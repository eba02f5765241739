"""The WebSocket routes against the real ASGI app (Origin check, auth stack, URLRouter)
with a real Redis channel layer: admission, snapshots, forwarding, client frames, kiosks."""

from __future__ import annotations

import orjson
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from micboard.models import Organization
from micboard.services import GroupService, KioskService
from realtime import codes, frames, keys
from realtime.redis_client import async_client
from realtime.units.state import UnitState
from tests.conftest import use_redis
from tests.realtime.conftest import (
    build_live_stage,
    closed_with,
    make_user,
    next_frame,
    open_socket,
    refused_with,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def stage(live_settings):
    return await database_sync_to_async(build_live_stage)([40001])


def state(unit_id: int, status: str = "GOOD") -> UnitState:
    return UnitState(
        id=unit_id, status=status, battery_status="good", online=True, tx_on=True, bars=4,
        percent=None, minutes=300, rf_a=-55.0, rf_b=-61.5, antenna="A", quality=None,
        audio=-21.5, peak=-9.0, clip=False, tx_offset=0, freq=518000, name="HH02",
        ts=1764000000.123,
    )  # fmt: skip


async def store(*states: UnitState) -> None:
    await async_client().mset({keys.unit_state(s.id): frames.encode_state(s) for s in states})


async def test_a_member_gets_a_snapshot_of_only_their_group_on_connect(stage):
    await store(state(stage.units[0].pk), state(stage.units[2].pk, "CRITICAL"))
    socket, accepted, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    assert accepted
    snapshot = orjson.loads(await socket.receive_from())
    assert snapshot == {
        "type": "snapshot",
        "group": stage.group_a.pk,
        "seq": 0,
        "units": {
            str(stage.units[0].pk): orjson.loads(frames.encode_state(state(stage.units[0].pk)))
        },
    }
    await socket.disconnect()


async def test_anonymous_sockets_are_refused_with_4401(stage):
    assert await refused_with(f"/ws/groups/{stage.group_a.pk}/") == 4401


async def test_a_user_of_another_group_is_refused_with_4403(stage):
    assert await refused_with(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_b) == 4403


async def test_a_missing_group_looks_like_a_forbidden_one(stage):
    assert await refused_with("/ws/groups/987654/", user=stage.tech_a) == 4403


async def test_an_admin_may_watch_any_group_of_their_organization(stage):
    socket, accepted, _ = await open_socket(f"/ws/groups/{stage.group_b.pk}/", user=stage.admin)
    assert accepted
    assert orjson.loads(await socket.receive_from())["type"] == "snapshot"
    await socket.disconnect()


async def test_an_admin_of_another_tenant_is_refused(stage, settings):
    settings.MICBOARD_MULTI_TENANT = True
    other = await database_sync_to_async(Organization.objects.create)(name="Other", slug="other")
    outsider = await database_sync_to_async(make_user)("other_boss", other, role="admin")
    assert await refused_with(f"/ws/groups/{stage.group_a.pk}/", user=outsider) == 4403
    socket, accepted, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.admin)
    assert accepted
    assert await closed_or_snapshot(socket) == "snapshot"
    await socket.disconnect()


async def test_a_trusted_origin_behind_a_tls_proxy_is_let_in(stage, settings):
    """Behind the proxy the socket arrives as plain ws: the trusted origin says https."""
    settings.CSRF_TRUSTED_ORIGINS = ["https://localhost"]
    socket, _, _ = await open_socket(
        f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a, origin="https://localhost"
    )
    assert await closed_or_snapshot(socket) == "snapshot"
    await socket.disconnect()


async def closed_or_snapshot(socket) -> str:
    output = await socket.receive_output(timeout=5)
    if output["type"] == "websocket.close":
        return f"closed {output.get('code')}"
    return orjson.loads(output["text"])["type"]


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "null",
        None,
        "http://localhost:8080",  # the same name on another port: another site
        "https://localhost",  # or another scheme
        "http://localhost.evil.example",
    ],
)
async def test_a_foreign_or_missing_origin_is_refused_with_4408(stage, origin):
    path = f"/ws/groups/{stage.group_a.pk}/"
    assert await refused_with(path, user=stage.tech_a, origin=origin) == 4408


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "[]",
        '{"type": "subscribe"}',
        '{"type": "ping", "extra": 1}',
        '{"kind": "resync"}',
        '{"type": 1}',
    ],
)
async def test_a_bad_client_frame_closes_the_socket_with_4400(stage, text):
    socket, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await socket.receive_from()
    await socket.send_to(text_data=text)
    assert await closed_with(socket) == 4400


async def test_a_binary_frame_closes_the_socket_with_4400(stage):
    socket, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await socket.receive_from()
    await socket.send_to(bytes_data=b'{"type": "ping"}')
    assert await closed_with(socket) == 4400


async def test_an_oversized_frame_closes_the_socket_with_4413(stage):
    socket, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    await socket.receive_from()
    await socket.send_to(text_data='{"type": "ping"}' + " " * frames.MAX_CLIENT_FRAME)
    assert await closed_with(socket) == 4413


async def test_ping_answers_pong_and_resync_sends_a_fresh_snapshot(stage):
    socket, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    assert orjson.loads(await socket.receive_from())["units"] == {}
    await socket.send_json_to({"type": "ping"})
    assert orjson.loads(await socket.receive_from()) == {"type": "pong"}
    await store(state(stage.units[1].pk, "REPLACE"))
    await socket.send_json_to({"type": "resync"})
    snapshot = orjson.loads(await socket.receive_from())
    assert snapshot["units"][str(stage.units[1].pk)]["status"] == "REPLACE"
    await socket.disconnect()


async def test_group_frames_are_forwarded_unchanged_to_that_group_only(stage):
    socket_a, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    socket_b, _, _ = await open_socket(f"/ws/groups/{stage.group_b.pk}/", user=stage.tech_b)
    await socket_a.receive_from()
    await socket_b.receive_from()
    text = f'{{"type":"delta","group":{stage.group_a.pk},"seq":1,"units":{{}}}}'
    await get_channel_layer().group_send(
        keys.layer_group(stage.group_a.pk), {"type": "live.frame", "text": text}
    )
    assert await socket_a.receive_from() == text
    assert await socket_b.receive_nothing(timeout=0.3)
    await socket_a.disconnect()
    await socket_b.disconnect()


async def test_a_kiosk_sees_its_group_and_nothing_else(stage):
    link = await database_sync_to_async(KioskService.create_link)(stage.group_b, "FOH")
    await store(state(stage.units[0].pk), state(stage.units[2].pk))
    socket, accepted, _ = await open_socket(f"/ws/kiosk/{link.token}/")
    assert accepted
    snapshot = orjson.loads(await socket.receive_from())
    assert (snapshot["group"], list(snapshot["units"])) == (
        stage.group_b.pk,
        [str(stage.units[2].pk)],
    )
    await get_channel_layer().group_send(
        keys.layer_group(stage.group_a.pk), {"type": "live.frame", "text": "{}"}
    )
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_an_unknown_kiosk_token_is_refused_with_4403(stage):
    assert await refused_with("/ws/kiosk/not-a-real-token/") == 4403


async def test_revoking_a_kiosk_link_cuts_its_sockets_off_and_keeps_it_out(stage):
    revoked = await database_sync_to_async(KioskService.create_link)(stage.group_a, "Lobby")
    kept = await database_sync_to_async(KioskService.create_link)(stage.group_a, "FOH")
    doomed, _, _ = await open_socket(f"/ws/kiosk/{revoked.token}/")
    survivor, _, _ = await open_socket(f"/ws/kiosk/{kept.token}/")
    await doomed.receive_from()
    await survivor.receive_from()
    await database_sync_to_async(KioskService.revoke_link)(revoked, by_user=stage.admin)
    assert await closed_with(doomed) == 4410
    assert await refused_with(f"/ws/kiosk/{revoked.token}/") == 4410
    await survivor.send_json_to({"type": "ping"})
    assert await next_frame(survivor, lambda f: f["type"] == "pong")
    await survivor.disconnect()


async def test_a_member_removed_from_a_group_is_cut_off_at_once(stage):
    leaving, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a)
    staying, _, _ = await open_socket(f"/ws/groups/{stage.group_a.pk}/", user=stage.admin)
    await leaving.receive_from()
    await staying.receive_from()
    await database_sync_to_async(GroupService.set_members)(stage.group_a, [], by_user=stage.admin)
    assert await closed_with(leaving) == 4403
    await staying.send_json_to({"type": "ping"})
    assert await next_frame(staying, lambda f: f["type"] == "pong")
    await staying.disconnect()


async def test_a_wall_connecting_while_redis_is_away_is_told_to_try_again(stage, settings):
    use_redis(settings, "redis://127.0.0.1:9/0", settings.MICBOARD_REDIS_PREFIX)  # no one there
    socket, accepted, refusal = await open_socket(
        f"/ws/groups/{stage.group_a.pk}/", user=stage.tech_a
    )
    # Whichever Redis call fails first (the layer's subscription or the snapshot), the
    # wall hears 4503 and retries; the application never ends with an exception.
    code = await closed_with(socket) if accepted else refusal
    assert code == codes.TRY_AGAIN
    await socket.disconnect()
