"""Talk to one EW-DX receiver over SSCv2: discover it, subscribe, yield merged readings.

One pooled httpx client carries everything: the long-lived SSE stream on one connection,
subscription changes and liveness probes on another. SSCv2 pushes on change only, so a
quiet stream is not proof of a dead one: after `silence_timeout` without an event the client
asks for its own session, and only a failed probe counts as losing the receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

import httpx

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.base import Reading
from realtime.protocols.failures import CredentialsRefused, describe_failure
from realtime.protocols.sennheiser_ssc.parse import (
    ChannelState,
    CloseEvent,
    MessageEvent,
    OpenEvent,
    SscEvent,
    SseDecoder,
    channel_info,
    decode_events,
    parse_firmware,
    parse_identity,
    parse_json,
    parse_message,
    parse_site_name,
    parse_subscription_error,
    parse_transmitter,
    parse_transmitters,
    session_uuid_from_location,
)
from realtime.protocols.sennheiser_ssc.wire import (
    API_USER,
    CHANNEL_RESOURCES,
    MANUFACTURER,
    MAX_CHANNELS,
    SUBSCRIPTIONS_PATH,
    Model,
    Resource,
)

logger = logging.getLogger(__name__)


class SscError(Exception):
    """The receiver answered, but not the way an EW-DX SSCv2 receiver should."""


class SscAuthError(SscError, CredentialsRefused):
    """The receiver refused the `api` user's credentials; retrying will not help."""


_RECOVERABLE = (httpx.HTTPError, SscError, TimeoutError)


@dataclass(slots=True)
class Backoff:
    """Exponential reconnect delays with jitter, so many pollers do not retry in step."""

    initial: float
    maximum: float
    rng: random.Random
    attempts: int = 0

    def next_delay(self) -> float:
        """Return the next delay: doubling up to the maximum, then 50-100 % of that."""
        ceiling = min(self.maximum, self.initial * 2**self.attempts)
        self.attempts += 1
        return ceiling * self.rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        """Start over from the initial delay after a success."""
        self.attempts = 0


class SennheiserSscClient:
    """Monitor one EW-DX EM 2 / EM 2 Dante / EM 4 Dante receiver (implements DeviceClient)."""

    def __init__(
        self,
        host: str,
        port: int = 443,
        *,
        password: str,
        verify: ssl.SSLContext | bool = True,
        silence_timeout: float = 2.5,
        request_timeout: float = 2.5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        offline_repeat: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        self.host, self.port = host, port
        self._silence_timeout, self._request_timeout = silence_timeout, request_timeout
        self._offline_repeat = offline_repeat
        self._backoff = Backoff(backoff_initial, backoff_max, rng or random.Random())
        self._http = httpx.AsyncClient(
            base_url=f"https://{_url_host(host)}:{port}",
            auth=httpx.BasicAuth(API_USER, password),
            verify=verify,
            timeout=httpx.Timeout(request_timeout),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            trust_env=False,  # a receiver on the stage LAN is never behind the office proxy
        )
        self._states: dict[int, ChannelState] = {}  # by 0-based channel id
        self._session_uuid: str | None = None
        self._last_offline_report: float | None = None
        self._closed = False
        self.failure: str | None = None

    @property
    def _where(self) -> str:
        """Name the receiver in messages."""
        return f"EW-DX receiver {self.host}:{self.port}"

    # --- discovery ---------------------------------------------------------------------

    async def discover(self) -> DeviceInfo:
        """Identify the receiver, count its channels and learn names and frequencies."""
        _, identity_body = await self._fetch(Resource.IDENTITY.path())
        identity = parse_identity(identity_body)
        if identity is None:
            raise SscError(f"{self._where} did not identify as an EW-DX receiver")
        site = await self._fetch_ok(Resource.SITE.path())
        _, firmware = await self._fetch(Resource.FIRMWARE.path())
        channels = await self._discover_channels(identity.model)
        self._seed_states(channels, await self._fetch_ok(Resource.TRANSMITTERS.path()))
        return DeviceInfo(
            protocol=Protocol.SENNHEISER_SSC,
            host=self.host,
            port=self.port,
            manufacturer=MANUFACTURER,
            model=identity.model.name,
            name=parse_site_name(site),
            serial=identity.serial,
            firmware=parse_firmware(firmware),
            channels=channels,
        )

    async def _discover_channels(self, model: Model) -> tuple[ChannelInfo, ...]:
        """Probe `/api/channel/{id}` upwards from 0 until the receiver says 404."""
        channels = []
        for index in range(MAX_CHANNELS):
            status, body = await self._fetch(Resource.CHANNEL.path(index))
            if status != 200:
                break
            rf_body = await self._fetch_ok(Resource.RF_CHANNEL.path(index))
            channels.append(channel_info(index, body, rf_body))
        if len(channels) != model.channels:
            logger.warning(
                "%s is a %s but shows %d channels", self._where, model.name, len(channels)
            )
        return tuple(channels)

    def _seed_states(self, channels: tuple[ChannelInfo, ...], transmitters: object) -> None:
        """Start every channel's state from discovery, before any push arrives."""
        linked = parse_transmitters(transmitters)
        self._states = {
            info.number - 1: ChannelState(
                Reading(info.number, channel_name=info.name, frequency_khz=info.frequency_khz)
            ).merged(linked.get(info.number - 1) or parse_transmitter(None))
            for info in channels
        }

    # --- live readings -----------------------------------------------------------------

    async def readings(self) -> AsyncIterator[Reading]:
        """Yield merged readings forever, reconnecting with backoff when the stream is lost.

        Raises SscAuthError when the receiver refuses the password: that needs a person.
        """
        while not self._closed:
            try:
                async with contextlib.aclosing(self._live_session()) as live:
                    async for reading in live:
                        self._backoff.reset()
                        self.failure = None
                        yield reading
            except SscAuthError as error:
                self.failure = describe_failure(error)
                raise
            except _RECOVERABLE as error:
                if self._closed:
                    return
                logger.warning("%s: live updates lost: %r", self._where, error)
                self.failure = describe_failure(error)
                for reading in self._offline_readings():
                    yield reading
            await asyncio.sleep(self._backoff.next_delay())

    async def _live_session(self) -> AsyncGenerator[Reading, None]:
        """Open a subscription stream, subscribe every channel and yield what it pushes."""
        if not self._states:
            await self.discover()
        async with asyncio.timeout(self._request_timeout):
            response = await self._open_stream()
        events: asyncio.Queue[SscEvent | Exception] = asyncio.Queue()
        pump = asyncio.create_task(_pump_events(response, events))
        try:
            uuid = await self._await_open(events, response.headers.get("content-location"))
            await self._add_paths(uuid)
            async with contextlib.aclosing(self._follow(events, uuid)) as pushed:
                async for reading in pushed:
                    yield reading
        finally:
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
            await response.aclose()

    async def _open_stream(self) -> httpx.Response:
        """Send the subscription GET and return the streaming response once it is 200."""
        # The stream may stay quiet for long; liveness is our job, not a read timeout's.
        timeout = httpx.Timeout(self._request_timeout, read=None)
        request = self._http.build_request(
            "GET", SUBSCRIPTIONS_PATH, headers={"Accept": "text/event-stream"}, timeout=timeout
        )
        response = await self._http.send(request, stream=True)
        if response.status_code != 200:
            await response.aclose()
            self._check_auth(response)
            raise SscError(f"{self._where} refused a subscription (HTTP {response.status_code})")
        return response

    async def _await_open(
        self, events: asyncio.Queue[SscEvent | Exception], location: str | None
    ) -> str:
        """Wait for the `open` event and return the session uuid it names."""
        async with asyncio.timeout(self._request_timeout):
            event = await _next_event(events)
        if not isinstance(event, OpenEvent):
            raise SscError(f"{self._where}: subscription stream began with {event!r}")
        from_header = session_uuid_from_location(location)
        if from_header and from_header != event.session_uuid:
            logger.warning(
                "%s: Content-Location %r disagrees with open event", self._where, location
            )
        self._session_uuid = event.session_uuid
        return event.session_uuid

    async def _add_paths(self, uuid: str) -> None:
        """Subscribe every channel's resources, dropping any path the receiver refuses."""
        paths = [resource.path(index) for index in self._states for resource in CHANNEL_RESOURCES]
        while paths:
            response = await self._request("PUT", f"{SUBSCRIPTIONS_PATH}/{uuid}/add", paths)
            if response.status_code == 200:
                return
            refused = parse_subscription_error(parse_json(response.content, "add"))
            if response.status_code != 400 or refused is None or refused[0] not in paths:
                raise SscError(f"{self._where} refused the subscription list: {response.text!r}")
            logger.warning("%s does not offer %s (error %d)", self._where, *refused)
            paths.remove(refused[0])

    async def _follow(
        self, events: asyncio.Queue[SscEvent | Exception], uuid: str
    ) -> AsyncGenerator[Reading, None]:
        """Merge pushes into channel state until the stream closes or goes dead."""
        while True:
            try:
                async with asyncio.timeout(self._silence_timeout):
                    event = await _next_event(events)
            except TimeoutError:
                await self._probe(uuid)
                continue
            if isinstance(event, CloseEvent):
                logger.info("%s closed the subscription", self._where)
                return
            if isinstance(event, MessageEvent):
                for reading in self._apply(event.values):
                    yield reading

    async def _probe(self, uuid: str) -> None:
        """Check, after a quiet spell, that the receiver still knows our session."""
        response = await self._request("GET", f"{SUBSCRIPTIONS_PATH}/{uuid}")
        if response.status_code != 200:
            raise SscError(f"{self._where} forgot session {uuid} (HTTP {response.status_code})")

    def _apply(self, values: dict[str, object]) -> list[Reading]:
        """Merge one push into the channel states; return the updated readings."""
        self._last_offline_report = None
        readings = []
        for index, changes in parse_message(values).items():
            state = self._states.get(index)
            if state is None:
                logger.warning("%s pushed data for unknown channel id %d", self._where, index)
                continue
            self._states[index] = state.merged({**changes, "rx_reachable": True})
            readings.append(self._states[index].reading)
        return readings

    def _offline_readings(self) -> list[Reading]:
        """Mark every channel unreachable, at most once per `offline_repeat` seconds."""
        now = time.monotonic()
        last = self._last_offline_report
        if last is not None and now - last < self._offline_repeat:
            return []
        self._last_offline_report = now
        self._states = {i: s.merged({"rx_reachable": False}) for i, s in self._states.items()}
        return [state.reading for state in self._states.values()]

    # --- plumbing ----------------------------------------------------------------------

    async def _request(self, method: str, path: str, json: object = None) -> httpx.Response:
        """Send one request on the pool and refuse to go on if the password is wrong."""
        response = await self._http.request(method, path, json=json)
        self._check_auth(response)
        return response

    async def _fetch(self, path: str) -> tuple[int, object]:
        """GET a resource; return its status and decoded body (None if not JSON)."""
        response = await self._request("GET", path)
        body = parse_json(response.content, path) if response.content else None
        return response.status_code, body

    async def _fetch_ok(self, path: str) -> object:
        """GET a resource that must exist; raise SscError otherwise."""
        status, body = await self._fetch(path)
        if status != 200:
            raise SscError(f"{self._where}: GET {path} answered HTTP {status}")
        return body

    def _check_auth(self, response: httpx.Response) -> None:
        """Turn 401/403 into a clear SscAuthError."""
        if response.status_code == 401:
            raise SscAuthError(
                f"{self._where} rejected the password for user '{API_USER}' (HTTP 401); "
                "check the password set when third-party access (SSCv2) was enabled"
            )
        if response.status_code == 403:
            raise SscAuthError(f"{self._where} does not let user '{API_USER}' read {response.url}")

    async def close(self) -> None:
        """End the subscription session on the receiver and close the connections."""
        self._closed = True
        uuid, self._session_uuid = self._session_uuid, None
        if uuid is not None:
            try:
                await self._http.delete(f"{SUBSCRIPTIONS_PATH}/{uuid}")
            except httpx.HTTPError as error:
                logger.info("%s: could not end session %s: %r", self._where, uuid, error)
        await self._http.aclose()


async def _next_event(events: asyncio.Queue[SscEvent | Exception]) -> SscEvent:
    """Take the next event off the queue, raising the error the stream ended with."""
    item = await events.get()
    if isinstance(item, Exception):
        raise item
    return item


async def _pump_events(
    response: httpx.Response, events: asyncio.Queue[SscEvent | Exception]
) -> None:
    """Decode the SSE stream into events; its end becomes a CloseEvent, a failure the error."""
    decoder = SseDecoder()
    try:
        async for chunk in response.aiter_bytes():
            for event in decode_events(decoder, [chunk]):
                events.put_nowait(event)
    except httpx.HTTPError as error:
        events.put_nowait(error)
        return
    events.put_nowait(CloseEvent())


def _url_host(host: str) -> str:
    """Bracket an IPv6 literal for use in a URL."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
