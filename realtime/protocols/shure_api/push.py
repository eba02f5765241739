"""The one push WebSocket per System API server, fanned out to the devices followed on it.

Flow (A.4): open `wss://<server>/api/v1/subscriptions/websocket/create`, read the
`{"transportId": ...}` greeting, then register interests with bodiless POSTs to
`<topic>/subscription/<transportId>`. Subscriptions die with the socket, so every new
transport id re-registers them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from realtime.protocols.shure_api.errors import AuthenticationError, ShureApiError
from realtime.protocols.shure_api.parse import PushEvent, TransportOpened, parse_frame
from realtime.protocols.shure_api.rest import SystemApiRest
from realtime.protocols.shure_api.timing import Backoff, SystemApiTimings

log = logging.getLogger(__name__)

DEVICES_TOPIC = "v1/devices"  # DEVICE_STATE_CHANGE for every device on the server
PUSH_PATH = "v1/subscriptions/websocket/create"
_CONNECT_ERRORS = (OSError, TimeoutError, websockets.WebSocketException, httpx.HTTPError)


@dataclass(frozen=True, slots=True)
class PushUp:
    """The push socket is open and every subscription is registered."""


@dataclass(frozen=True, slots=True)
class PushDown:
    """The push socket closed or could not be opened."""

    reason: str


@dataclass(frozen=True, slots=True)
class FeedClosed:
    """The client or session was closed; stop following."""


FeedItem = PushEvent | PushUp | PushDown | FeedClosed


class DeviceFeed:
    """Deliver one device's push events and the socket's up/down changes to one reader."""

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.closed = False
        self._queue: asyncio.Queue[FeedItem] = asyncio.Queue()

    def put(self, item: FeedItem) -> None:
        """Queue an item for the reader."""
        self.closed = self.closed or isinstance(item, FeedClosed)
        self._queue.put_nowait(item)

    async def get(self, within: float) -> FeedItem | None:
        """Wait for the next item; return None when `within` seconds pass first."""
        try:
            async with asyncio.timeout(within):
                return await self._queue.get()
        except TimeoutError:
            return None


class PushHub:
    """Keep one push socket open (reconnecting with backoff) and route its events."""

    def __init__(
        self,
        ws_url: str,
        api_key: str,
        *,
        rest: SystemApiRest,
        ssl_context: ssl.SSLContext,
        timings: SystemApiTimings,
        rng: random.Random,
    ) -> None:
        self._ws_url = ws_url
        self._api_key = api_key
        self._rest = rest
        self._ssl_context = ssl_context
        self._timings = timings
        self._backoff = Backoff(timings.backoff_initial, timings.backoff_max, rng)
        self._feeds: dict[str, set[DeviceFeed]] = {}
        self._topics: dict[str, tuple[str, ...]] = {}
        self._subscribed: set[str] = set()
        self._transport_id: str | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """Tell whether the push socket is open with a transport id."""
        return self._transport_id is not None

    def attach(self, device_id: str) -> DeviceFeed:
        """Start delivering a device's events to a new feed (and open the socket if needed)."""
        feed = DeviceFeed(device_id)
        self._feeds.setdefault(device_id, set()).add(feed)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"shure-api-push {self._ws_url}")
        return feed

    def detach(self, feed: DeviceFeed) -> None:
        """Stop delivering to a feed; the device's topics go when its last feed goes."""
        feeds = self._feeds.get(feed.device_id, set())
        feeds.discard(feed)
        if not feeds:
            self._feeds.pop(feed.device_id, None)
            self._topics.pop(feed.device_id, None)

    async def set_topics(self, device_id: str, topics: Iterable[str]) -> None:
        """Record a device's subscription topics and register any new ones right away."""
        self._topics[device_id] = tuple(topics)
        if self._transport_id is not None:
            await self._subscribe(self._topics[device_id], self._transport_id)

    async def close(self) -> None:
        """Close the socket and tell every feed to stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._broadcast(FeedClosed())

    async def _run(self) -> None:
        while True:
            reason = await self._connect_once()
            self._transport_id = None
            self._subscribed.clear()
            log.info("Shure API push %s down: %s", self._ws_url, reason)
            self._broadcast(PushDown(reason))
            await asyncio.sleep(self._backoff.next_delay())

    async def _connect_once(self) -> str:
        """Hold one socket open until it fails; return why it ended."""
        try:
            async with self._connect() as socket:
                await self._open(socket)
                async for message in socket:
                    self._dispatch(message)
            return "the server closed the push socket"
        except (*_CONNECT_ERRORS, ShureApiError) as exc:
            return f"{type(exc).__name__}: {exc}"

    def _connect(self) -> websockets.connect:
        timings = self._timings
        return websockets.connect(
            self._ws_url,
            ssl=self._ssl_context,
            additional_headers={"x-api-key": self._api_key},
            open_timeout=timings.connect_timeout + timings.read_timeout,
            ping_interval=timings.ping_interval,
            ping_timeout=timings.ping_timeout,
            close_timeout=timings.close_timeout,
            proxy=None,  # LAN service: never route through an environment proxy
        )

    async def _open(self, socket: ClientConnection) -> None:
        async with asyncio.timeout(self._timings.read_timeout):
            transport_id = await self._await_transport_id(socket)
        self._transport_id = transport_id
        topics = [DEVICES_TOPIC, *(t for ts in self._topics.values() for t in ts)]
        await self._subscribe(topics, transport_id)
        self._backoff.reset()
        self._broadcast(PushUp())

    async def _await_transport_id(self, socket: ClientConnection) -> str:
        async for message in socket:
            frame = parse_frame(message)
            if isinstance(frame, TransportOpened):
                return frame.transport_id
        raise ConnectionError("the push socket closed before sending a transportId")

    async def _subscribe(self, topics: Iterable[str], transport_id: str) -> None:
        fresh = [topic for topic in dict.fromkeys(topics) if topic not in self._subscribed]
        self._subscribed.update(fresh)
        await asyncio.gather(*(self._subscribe_one(topic, transport_id) for topic in fresh))

    async def _subscribe_one(self, topic: str, transport_id: str) -> None:
        try:
            await self._rest.post_bodiless(f"{topic}/subscription/{transport_id}")
        except AuthenticationError:
            self._subscribed.discard(topic)
            raise
        except ShureApiError as exc:
            # One refused topic (a device just removed) must not cost the others their push;
            # it stays marked so it is not asked for again on this transport.
            log.warning("Shure API: subscribing %s refused: %s", topic, exc)
        except _CONNECT_ERRORS:
            self._subscribed.discard(topic)  # never registered: ask again next time
            raise

    def _dispatch(self, message: str | bytes) -> None:
        frame = parse_frame(message)
        if isinstance(frame, PushEvent):
            for feed in self._feeds.get(frame.device_id, ()):
                feed.put(frame)

    def _broadcast(self, item: FeedItem) -> None:
        for feeds in self._feeds.values():
            for feed in feeds:
                feed.put(item)
