"""WebSocket consumers: a wall of one monitoring group, for a signed-in user, a kiosk or an
API client with a bearer token.

On connect: admit (access rules, once), join the group's channel-layer group, send a
snapshot read from Redis. After that a consumer only forwards the poller's pre-encoded
frames and answers `resync`/`ping`; no database work per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from realtime import codes, frames, keys, live_store
from realtime.redis_client import async_client
from realtime.web import limits, live_watch
from realtime.web.admission import Admission, admit_api_token, admit_kiosk, admit_session
from realtime.web.asgi_types import Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

LIVE_STORE_ERRORS = (RedisError, OSError)
Source = Callable[[], Awaitable[Message]]


class SocketGone(Exception):
    """The browser's side closed while we were sending to it: nothing more can be said.

    Servers say so differently (uvicorn's ClientDisconnected is an OSError, and either
    server raises RuntimeError for a send after the close), which must not be mistaken for
    the channel layer's Redis failing.
    """


async def _try_again_later(receive: Receive, send: Send) -> None:
    """Accept the handshake and close it with 4503: a close code reaches the browser only
    on an accepted socket, and 4503 makes the wall show "Reconnecting…" and retry."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": codes.TRY_AGAIN})


class LiveConsumer(AsyncWebsocketConsumer):
    """What both kinds of wall share; subclasses say who is admitted."""

    group_id: int | None = None
    layer_groups: tuple[str, ...] = ()
    holder: str = ""  # counted against its cap (limits.py) while open
    budget: limits.FrameBudget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Channels' consumer loop, with the socket and the channel layer each read by
        one long-lived loop. Channels' own loop makes a task and an asyncio.wait for every
        message, which was a quarter of the web process's CPU forwarding frames to 200
        walls. As in Channels, dispatches never overlap and StopConsumer ends the socket.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        try:
            self.channel_name = await self.channel_layer.new_channel()
        except LIVE_STORE_ERRORS:
            logger.warning("channel layer unreachable; refusing socket for now", exc_info=True)
            await _try_again_later(receive, send)
            return
        self.base_send = self._guarded(send)
        self._dispatching = asyncio.Lock()
        await self._dispatch_until_stopped([receive, self._from_layer])

    @staticmethod
    def _guarded(send: Send) -> Send:
        async def guarded_send(message: Message) -> None:
            try:
                await send(message)
            except (OSError, RuntimeError) as error:
                raise SocketGone from error

        return guarded_send

    async def _from_layer(self) -> Message:
        message: Message = await self.channel_layer.receive(self.channel_name)
        return message

    async def _dispatch_until_stopped(self, sources: list[Source]) -> None:
        loops = [asyncio.create_task(self._dispatch_all(source)) for source in sources]
        try:
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_COMPLETED)
            for loop in done:
                loop.result()  # a loop only ends by raising: StopConsumer or a failure
        except (StopConsumer, SocketGone):
            pass
        except LIVE_STORE_ERRORS:
            # The layer's own Redis connection failed (Redis away, or Sentinel between
            # masters): tell the wall to try again rather than end the socket with an error.
            logger.warning("channel layer unreachable; closing socket", exc_info=True)
            with contextlib.suppress(SocketGone):
                await self.close(code=codes.TRY_AGAIN)
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.wait(loops)
            # However the loops ended, the socket leaves everything it joined: a group
            # membership left behind keeps a subscription and a queue growing for ever.
            await self.leave()
            await _drop_channel(self.channel_layer, self.channel_name)

    async def _dispatch_all(self, source: Source) -> None:
        while True:
            message = await source()
            async with self._dispatching:
                await self.dispatch(message)

    async def admit(self) -> Admission:
        raise NotImplementedError

    def subprotocol(self) -> str | None:
        """The subprotocol to accept the handshake with: none, unless a route needs one."""
        return None

    async def connect(self) -> None:
        # Accept first: a close code reaches the browser only on an accepted socket.
        await self.accept(self.subprotocol())
        admission = await self.admit()
        if admission.group_id is None:
            await self.close(code=admission.refusal)
            return
        if not limits.take_socket(admission.holder):
            await self.close(code=codes.TOO_MANY)
            return
        self.holder = admission.holder
        self.budget = limits.FrameBudget()
        try:
            self.layer_groups = _layer_groups(admission)
            for layer_group in self.layer_groups:
                await self.channel_layer.group_add(layer_group, self.channel_name)
            self.group_id = admission.group_id
            await self.send_snapshot()
            live_watch.watch(self)  # closes with TRY_AGAIN if Redis goes away
        except LIVE_STORE_ERRORS:
            logger.warning("live store unreachable; closing socket", exc_info=True)
            await self.close(code=codes.TRY_AGAIN)

    async def disconnect(self, code: int) -> None:
        await self.leave()

    async def leave(self) -> None:
        """Leave the layer groups, the Redis watch and the cap count; safe to call twice."""
        live_watch.forget(self)
        if self.holder:
            limits.release_socket(self.holder)
            self.holder = ""
        joined, self.layer_groups = self.layer_groups, ()
        try:
            for layer_group in joined:
                await self.channel_layer.group_discard(layer_group, self.channel_name)
        except LIVE_STORE_ERRORS:
            logger.info("could not leave %s cleanly", joined, exc_info=True)

    async def dispatch(self, message: Message) -> None:
        # The hot path: Channels' dispatch would hop to a thread per message to close
        # stale DB connections; a forwarded frame touches no database, so skip that.
        if message["type"] == "live.frame":
            if self.group_id is not None:
                await self.base_send({"type": "websocket.send", "text": message["text"]})
            return
        await super().dispatch(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.group_id is None:
            return
        if text_data is None:
            await self.close(code=codes.BAD_FRAME)
            return
        if not self.budget.spend():
            await self.close(code=codes.TOO_MANY)
            return
        try:
            kind = frames.parse_client_frame(text_data)
        except frames.ClientFrameTooLarge:
            await self.close(code=codes.FRAME_TOO_LARGE)
            return
        except frames.BadClientFrame:
            await self.close(code=codes.BAD_FRAME)
            return
        if kind == "resync":
            await self.send_resync()
        else:
            await self.send(text_data=frames.PONG)

    async def send_snapshot(self) -> None:
        assert self.group_id is not None
        await self.send(text_data=await live_store.snapshot_frame(async_client(), self.group_id))

    async def send_resync(self) -> None:
        try:
            await self.send_snapshot()
        except LIVE_STORE_ERRORS:
            logger.info("resync skipped: live store unreachable")

    async def link_returned(self) -> None:
        """Have the wall re-fetch its tiles: changes announced during a Redis blip were lost."""
        if self.group_id is not None:
            await self.send(text_data=frames.structure(self.group_id, None))

    async def access_check(self, message: dict[str, Any]) -> None:
        """Close this socket if it may no longer watch its group (one query, rare event)."""
        if self.group_id is None:
            return
        admission = await self.admit()
        if admission.group_id != self.group_id:
            self.group_id = None
            await self.close(code=admission.refusal or codes.NO_ACCESS)


class GroupConsumer(LiveConsumer):
    """`/ws/groups/<id>/`: a signed-in user who may see the group."""

    async def admit(self) -> Admission:
        group_id = int(self.scope["url_route"]["kwargs"]["group_id"])
        session_key = self.scope["session"].session_key
        return await database_sync_to_async(admit_session)(session_key, group_id)


class KioskConsumer(LiveConsumer):
    """`/ws/kiosk/<token>/`: a live kiosk link, bound to its group."""

    async def admit(self) -> Admission:
        token = str(self.scope["url_route"]["kwargs"]["token"])
        return await database_sync_to_async(admit_kiosk)(token)


API_SUBPROTOCOL = "micboard.live"
TOKEN_SUBPROTOCOL_PREFIX = "bearer."


class ApiConsumer(LiveConsumer):
    """`/ws/api/groups/<id>/`: an API client whose token reads the group.

    The token comes in `Authorization: Bearer <token>`, or, from a browser (which cannot
    set that header), as a subprotocol `bearer.<token>` offered beside `micboard.live`;
    the handshake then accepts `micboard.live`, so the secret is never echoed. Not in the
    query string: that is the part of a URL access logs and proxies write down. No
    session is read on this route, so a cookie alone admits nobody.
    """

    def subprotocol(self) -> str | None:
        offered = self.scope.get("subprotocols") or []
        return API_SUBPROTOCOL if API_SUBPROTOCOL in offered else None

    def _secret(self) -> str | None:
        for name, value in self.scope.get("headers", []):
            if name == b"authorization":
                scheme, _, secret = value.decode("latin1").partition(" ")
                return secret.strip() if scheme.lower() == "bearer" else None
        for offered in self.scope.get("subprotocols") or []:
            if offered.startswith(TOKEN_SUBPROTOCOL_PREFIX):
                return str(offered.removeprefix(TOKEN_SUBPROTOCOL_PREFIX))
        return None

    async def admit(self) -> Admission:
        group_id = int(self.scope["url_route"]["kwargs"]["group_id"])
        return await database_sync_to_async(admit_api_token)(self._secret(), group_id)


async def _drop_channel(layer: Any, channel: str) -> None:
    """Unsubscribe a socket's own layer channel and drop its queue.

    The pub/sub layer does that only when a `receive` waiting on the channel is
    cancelled; the layer loop is as often cancelled mid-dispatch (a send to a browser
    that has just gone), which left the channel subscribed in Redis for good (the socket
    churn of bench/soak.py found one in eight). This is what that `receive` would do.
    """
    channels = getattr(layer, "channels", None)
    if not isinstance(channels, dict) or channels.pop(channel, None) is None:
        return
    shard_of = getattr(layer, "_get_shard", None)  # RedisPubSubChannelLayer's
    if shard_of is None:
        return
    try:
        await shard_of(channel).unsubscribe(channel)
    except LIVE_STORE_ERRORS:
        logger.info("could not unsubscribe %s", channel, exc_info=True)


def _layer_groups(admission: Admission) -> tuple[str, ...]:
    """The channel-layer groups a socket joins: its wall's, and its user's (so that
    signing out, deactivation or a password change reaches every socket they have)."""
    assert admission.group_id is not None
    wall = keys.layer_group(admission.group_id)
    if admission.user_id is None:
        return (wall,)
    return (wall, keys.layer_user(admission.user_id))
