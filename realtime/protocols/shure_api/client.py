"""Clients for the Shure System API: one session per server, one DeviceClient per device.

One System API server fronts many devices, so the pieces are split that way:

- `SystemApiSession(base_url, api_key, ...)` is one server: one pooled httpx client (explicit
  timeouts and limits, `x-api-key`), one push WebSocket, and `discover_all()` for inventory.
- `ShureSystemApiClient` follows one device on a session and has the `DeviceClient` shape.
  Get it from `session.device(device_id)` to share the session, or from
  `ShureSystemApiClient.connect(base_url, api_key, device_id)` for a client that owns its
  own session and closes it in `close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator

import httpx

from micboard.devices import DeviceInfo
from realtime.protocols.base import Reading
from realtime.protocols.failures import describe_failure
from realtime.protocols.shure_api.errors import AuthenticationError, ShureApiError
from realtime.protocols.shure_api.parse import DeviceNode, PushEvent
from realtime.protocols.shure_api.push import (
    PUSH_PATH,
    DeviceFeed,
    FeedClosed,
    PushDown,
    PushHub,
    PushUp,
)
from realtime.protocols.shure_api.rest import SystemApiRest, channel_path, device_path
from realtime.protocols.shure_api.state import DeviceSnapshot, LiveDevice
from realtime.protocols.shure_api.timing import Backoff, SystemApiTimings

log = logging.getLogger(__name__)

DEFAULT_PORT = 10000  # chosen at install; 10000 is the default (A.1)


def client_ssl_context(verify: ssl.SSLContext | bool) -> ssl.SSLContext:
    """Return the TLS context for REST and push: a given one, system CAs, or no checks."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    context = ssl.create_default_context()
    if not verify:
        # The server's certificate is self-signed by default; this is the opt-out for sites
        # that have not exported it. Prefer passing a context that trusts it.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def api_root(base_url: str) -> str:
    """Return `https://host:port/api/` for a server URL given with or without `/api`."""
    url = httpx.URL(base_url)
    port = url.port or DEFAULT_PORT
    path = url.path.rstrip("/")
    path = path if path.endswith("/api") else f"{path}/api"
    return str(url.copy_with(port=port, path=f"{path}/"))


def device_topics(snapshot: DeviceSnapshot) -> tuple[str, ...]:
    """List the push topics that feed this device's Readings."""
    node = snapshot.node
    device = device_path(node.device_id)
    topics = [f"{device}/{cap}" for cap in _DEVICE_CAPS if cap in node.capabilities]
    for item in snapshot.channels:
        path = channel_path(node.device_id, item.channel.channel_id)
        topics += [f"{path}/{cap}" for cap in _CHANNEL_CAPS if cap in item.channel.capabilities]
    return tuple(topics)


# battery-health has no Reading field, and gain/mute/identify change nothing a Reading shows.
_DEVICE_CAPS = ("name", "battery-level")
_CHANNEL_CAPS = ("activity", "name")


class SystemApiSession:
    """One System API server: a pooled HTTP client and one push socket for all its devices."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        verify: ssl.SSLContext | bool = True,
        timings: SystemApiTimings | None = None,
        seed: int | None = None,
    ) -> None:
        root = api_root(base_url)
        url = httpx.URL(root)
        self.host, self.port = url.host, url.port or DEFAULT_PORT
        self.timings = timings or SystemApiTimings()
        context = client_ssl_context(verify)
        self.rest = SystemApiRest(root, api_key, ssl_context=context, timings=self.timings)
        ws_url = str(url.copy_with(scheme="wss").join(PUSH_PATH))
        self.push = PushHub(
            ws_url,
            api_key,
            rest=self.rest,
            ssl_context=context,
            timings=self.timings,
            rng=random.Random(seed),
        )

    async def discover_all(self) -> tuple[DeviceNode, ...]:
        """List every device on the server (all pages), whatever its state."""
        return await self.rest.list_devices()

    def device(self, device_id: str) -> ShureSystemApiClient:
        """Return a client that follows one device over this shared session."""
        return ShureSystemApiClient(self, device_id)

    async def close(self) -> None:
        """Close the push socket, end every device's readings and close the pool."""
        await self.push.close()
        await self.rest.aclose()


class ShureSystemApiClient:
    """Follow one device on a System API server (the DeviceClient shape)."""

    def __init__(
        self, session: SystemApiSession, device_id: str, *, owns_session: bool = False
    ) -> None:
        self.device_id = device_id  # the server's deviceId (uuid) or the serial number
        self._resolved_id: str | None = None
        self._session = session
        self._owns_session = owns_session
        self._timings = session.timings
        self._live = LiveDevice()
        self._feeds: set[DeviceFeed] = set()
        self._closing = asyncio.Event()
        self._retry = Backoff(
            self._timings.backoff_initial, self._timings.backoff_max, random.Random(device_id)
        )
        self._refresh_due = 0.0
        self._unreachable_at: float | None = None
        self.failure: str | None = None

    @classmethod
    def connect(
        cls,
        base_url: str,
        api_key: str,
        device_id: str,
        *,
        verify: ssl.SSLContext | bool = True,
        timings: SystemApiTimings | None = None,
    ) -> ShureSystemApiClient:
        """Create a client with a session of its own, closed together with the client.

        `device_id` is the server's deviceId or the serial number on the device's label.
        """
        session = SystemApiSession(base_url, api_key, verify=verify, timings=timings)
        return cls(session, device_id, owns_session=True)

    async def discover(self) -> DeviceInfo:
        """Read the device's model, identity and channels; raise ShureApiError on errors."""
        device_id = await self._resolve()
        self._live.load(await self._session.rest.device_snapshot(device_id))
        return self._live.device_info(self._session.host, self._session.port)

    async def readings(self) -> AsyncGenerator[Reading, None]:
        """Yield merged Readings on every change until closed; raise on a rejected API key."""
        device_id = await self._resolve_patiently()
        if device_id is None:
            return
        feed = self._session.push.attach(device_id)
        self._feeds.add(feed)
        try:
            async for reading in self._follow(feed):
                yield reading
        finally:
            self._feeds.discard(feed)
            self._session.push.detach(feed)

    async def close(self) -> None:
        """End every running `readings()` and close the session if this client owns it."""
        self._closing.set()
        for feed in list(self._feeds):
            feed.put(FeedClosed())
        if self._owns_session:
            await self._session.close()

    async def _resolve(self) -> str:
        if self._resolved_id is None:
            self._resolved_id = await self._session.rest.resolve_device_id(self.device_id)
        return self._resolved_id

    async def _resolve_patiently(self) -> str | None:
        """Find the device, retrying with backoff while it cannot be; None once closed."""
        while not self._closing.is_set():
            try:
                return await self._resolve()
            except AuthenticationError:
                raise
            except (httpx.HTTPError, ShureApiError) as exc:
                log.info("Shure API device %s not found yet: %s", self.device_id, exc)
            except RuntimeError:
                if not self._closing.is_set():
                    raise
                return None  # httpx refuses requests once close() closed the pool
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._retry.next_delay()):
                    await self._closing.wait()
        return None

    async def _follow(self, feed: DeviceFeed) -> AsyncIterator[Reading]:
        must_refresh = True
        while True:
            if must_refresh:
                for reading in await self._refresh(feed):
                    yield reading
            item = await feed.get(max(0.0, self._refresh_due - time.monotonic()))
            if isinstance(item, FeedClosed):
                return
            batch, must_refresh = self._react(item)
            for reading in batch:
                yield reading

    async def _refresh(self, feed: DeviceFeed) -> list[Reading]:
        """Re-read the device over REST; on failure report it unreachable and retry later."""
        try:
            snapshot = await self._session.rest.device_snapshot(feed.device_id)
            await self._session.push.set_topics(feed.device_id, device_topics(snapshot))
        except AuthenticationError:
            raise
        except (httpx.HTTPError, ShureApiError) as exc:
            return [] if feed.closed else self._refresh_failed(exc)
        except RuntimeError:
            if not feed.closed:
                raise
            return []  # httpx refuses requests once close() closed the pool under us
        return self._refresh_succeeded(snapshot)

    def _refresh_succeeded(self, snapshot: DeviceSnapshot) -> list[Reading]:
        self._retry.reset()
        self._refresh_due = time.monotonic() + self._timings.refresh_interval
        self._unreachable_at = None
        self.failure = None
        self._live.load(snapshot)
        return self._live.readings()

    def _refresh_failed(self, error: Exception) -> list[Reading]:
        self._refresh_due = time.monotonic() + self._retry.next_delay()
        self.failure = describe_failure(error)
        reason = f"{type(error).__name__}: {error}"
        if isinstance(error, httpx.HTTPError) and self._session.push.connected:
            # The push socket still answers pings and delivers events: one slow or failed
            # REST call is not an outage. Keep what we know and read again later.
            log.info("Shure API device %s: refresh failed, retrying: %s", self.device_id, reason)
            return []
        return self._unreachable(reason)

    def _react(self, item: PushEvent | PushUp | PushDown | None) -> tuple[list[Reading], bool]:
        """Return the Readings an item causes and whether REST must be re-read."""
        if item is None:
            return [], self._refresh_is_useful()
        if isinstance(item, PushUp):  # state may have changed while we were disconnected
            return [], True
        if isinstance(item, PushDown):
            return self._unreachable(item.reason), False
        return self._apply_event(item)

    def _apply_event(self, event: PushEvent) -> tuple[list[Reading], bool]:
        was_online = self._live.online
        changed = self._live.apply(event)
        if self._live.online and not was_online:
            # Back ONLINE (e.g. after a reboot): report it with values read afresh, not as
            # an online device whose battery and audio are unknown for a moment.
            return [], True
        if not self._live.online and not was_online:
            return [], False  # still unreachable: nothing new a Reading could show
        return self._live.readings(changed), False

    def _refresh_is_useful(self) -> bool:
        """Tell whether a due refresh should run now; without push, PushUp will trigger it."""
        if self._session.push.connected:
            return True
        self._refresh_due = time.monotonic() + self._timings.refresh_interval
        return False

    def _unreachable(self, reason: str) -> list[Reading]:
        """Mark every known channel unreachable, at most once per `unreachable_repeat`."""
        now = time.monotonic()
        last = self._unreachable_at
        if last is not None and now - last < self._timings.unreachable_repeat:
            return []
        log.info("Shure API device %s unreachable: %s", self.device_id, reason)
        self._unreachable_at = now
        self._live.mark_server_unreachable()
        return self._live.readings()
