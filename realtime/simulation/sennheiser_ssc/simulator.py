"""Run a real HTTPS server on loopback that behaves like one EW-DX receiver (SSCv2).

It serves the REST resources of the EW-DX service API, Basic auth for user `api`, and the
SSE subscription flow: open (Content-Location + `open` event), PUT/add/remove path lists,
DELETE, initial values on add, then change-only `message` events and `close` on shutdown.
Tests, the stage and benchmarks steer it through the `SimulatedDevice` controls.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hmac
import logging
import random
import ssl
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
import trustme

from micboard.devices import ChannelInfo, DeviceInfo, Protocol
from realtime.protocols.sennheiser_ssc.wire import (
    API_USER,
    MANUFACTURER,
    SUBSCRIPTIONS_PATH,
    Located,
    Resource,
    locate,
    model_by_name,
)
from realtime.simulation.base import FaultRates, pack_to_change
from realtime.simulation.sennheiser_ssc.dynamics import FULL_RUNTIME_MINUTES, ChannelDynamics
from realtime.simulation.sennheiser_ssc.httpserver import EventStream, HttpServer, Request, Response
from realtime.simulation.sennheiser_ssc.resources import DeviceSetup, resource_body
from realtime.simulation.sennheiser_ssc.sessions import GARBAGE_FRAMES, Session

logger = logging.getLogger(__name__)

DEFAULT_PASSWORD = "Micboard-Sim-1!"
_OPEN_RESOURCES = {Resource.VERSION, Resource.IDENTITY, Resource.IDENTIFICATION}
_SECONDS_PER_HOUR = 3600


def check_password_policy(password: str) -> None:
    """Refuse a password the device would refuse (10-64 chars, mixed classes, a symbol)."""
    classes = (str.isupper, str.islower, str.isdigit, lambda c: not c.isalnum())
    if not 10 <= len(password) <= 64 or not all(any(map(test, password)) for test in classes):
        raise ValueError(
            "an SSCv2 password needs 10-64 characters with upper case, lower case, "
            "a digit and a special character"
        )


def _server_tls(host: str) -> tuple[trustme.CA, ssl.SSLContext]:
    """Make a throwaway CA and a server context whose certificate names `host`."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host, "localhost").configure_cert(context)
    return ca, context


class SennheiserSscSimulator:
    """One simulated EW-DX EM 2 / EM 2 Dante / EM 4 Dante receiver."""

    def __init__(
        self,
        model: str = "EW-DX EM 4 DANTE",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        password: str = DEFAULT_PASSWORD,
        seed: int = 0,
        faults: FaultRates = FaultRates(),  # noqa: B008 - frozen, so sharing it is safe
        push_interval: float = 0.1,
        time_scale: float = 1.0,
        max_sessions: int = 8,
        reboot_seconds: float = 3.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        check_password_policy(password)
        self.model = model_by_name(model)
        self.host, self.port = host, port
        self.ca: trustme.CA | None = None
        if ssl_context is None:
            self.ca, ssl_context = _server_tls(host)
        self._password = password
        self._faults = faults
        self._push_interval, self._time_scale = push_interval, time_scale
        self._max_sessions, self._reboot_seconds = max_sessions, reboot_seconds
        self._setup = DeviceSetup.create(self.model, seed)
        self._channels = [ChannelDynamics.create(seed, i) for i in range(self.model.channels)]
        self._fault_rng = random.Random(f"ewdx-faults:{seed}")
        self._http = HttpServer(self._handle, ssl_context=ssl_context)
        self._sessions: dict[str, Session] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: list[asyncio.TimerHandle] = []
        self._reachable = True
        self._rebooting = False
        self._slow_answers = 0
        self.sessions_opened = 0  # so tests and benchmarks can see reconnects
        self.sessions_deleted = 0  # ...and whether clients tidy up after themselves

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening and ticking; with port 0 the bound port is stored in `port`."""
        self.port = await self._http.listen(self.host, self.port)
        self._spawn(self._run_clock())

    async def stop(self) -> None:
        """Close every session with a `close` event, then shut the server down."""
        for task in list(self._tasks):
            task.cancel()
        for timer in self._timers:
            timer.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._http.stall(False)
        await self._end_sessions()
        await self._http.close()

    def client_ssl_context(self) -> ssl.SSLContext:
        """Return a client context that trusts this simulator's certificate."""
        if self.ca is None:
            raise RuntimeError("the simulator runs with a caller-provided ssl_context")
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    @property
    def session_count(self) -> int:
        """Return how many subscription sessions are open right now."""
        return len(self._sessions)

    def device_info(self) -> DeviceInfo:
        """Describe the device as discovery should find it."""
        return DeviceInfo(
            protocol=Protocol.SENNHEISER_SSC,
            host=self.host,
            port=self.port,
            manufacturer=MANUFACTURER,
            model=self.model.name,
            name=self._setup.device_name,
            serial=self._setup.serial,
            firmware=self._setup.firmware,
            channels=tuple(self._channel_info(i) for i in range(self.model.channels)),
        )

    def _channel_info(self, index: int) -> ChannelInfo:
        """Describe channel `index` (0-based) as discovery should find it."""
        name, frequency = self._setup.channel_names[index], self._setup.frequencies[index]
        return ChannelInfo(number=index + 1, name=name, frequency_khz=frequency)

    # --- SimulatedDevice controls ------------------------------------------------------

    def set_battery(
        self,
        channel: int,
        *,
        bars: int | None = None,
        percent: int | None = None,
        minutes: int | None = None,
    ) -> None:
        """Force a transmitter's battery (1-based channel) and push the change."""
        battery = self._channel(channel).battery
        if percent is None and bars is not None:
            percent = 20 * max(0, min(5, bars))
        if percent is not None:
            battery.charge = float(max(0, min(100, percent)))
        matching = battery.charge * FULL_RUNTIME_MINUTES / 100
        battery.minutes = float(minutes) if minutes is not None else matching
        battery.calculating_for = 0.0
        self._publish()

    def set_tx_power(self, channel: int, *, on: bool) -> None:
        """Switch a transmitter (1-based channel) on or off and push the change."""
        self._channel(channel).power(on=on)
        self._publish()

    def set_reachable(self, reachable: bool) -> None:
        """Pull (False) or replug (True) the network cable.

        While unplugged every connection, old or new, goes silent: no bytes, no FIN, no
        RST, exactly what a client sees when a cable is pulled mid-show.
        """
        self._reachable = reachable
        self._http.stall(not reachable)
        self._publish()

    async def reboot(self) -> None:
        """Close every session, stop answering, and come back after `reboot_seconds`."""
        if self._rebooting:
            return
        self._rebooting = True
        await self._end_sessions()
        await self._http.stop_listening()
        self._spawn(self._boot())

    def step(self, dt: float | None = None) -> None:
        """Advance the device by one tick (default: one push interval) and push changes."""
        dt = self._push_interval if dt is None else dt
        for channel in self._channels:
            channel.step(dt, time_scale=self._time_scale)
        self._roll_faults(dt)
        self._publish()

    def _channel(self, channel: int) -> ChannelDynamics:
        """Return the 1-based channel's dynamics; raise ValueError naming the range."""
        if not 1 <= channel <= len(self._channels):
            raise ValueError(f"channel must be 1..{len(self._channels)}, got {channel}")
        return self._channels[channel - 1]

    async def _boot(self) -> None:
        """Finish a reboot: wait, then listen on the same port again."""
        await asyncio.sleep(self._reboot_seconds)
        await self._http.listen(self.host, self.port)
        self._rebooting = False

    async def _run_clock(self) -> None:
        """Tick at the push interval for as long as the simulator runs."""
        while True:
            await asyncio.sleep(self._push_interval)
            self.step()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run a background task that stop() will cancel."""
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        """Drop a finished background task, logging it if it failed."""
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("simulator task failed", exc_info=task.exception())

    # --- pushing -----------------------------------------------------------------------

    def _publish(self) -> None:
        """Push every changed subscribed value to every session (unless unplugged)."""
        if not self._reachable:
            return
        for session in self._sessions.values():
            session.push_changes(self._encoded_value)

    def _encoded_value(self, located: Located) -> bytes:
        """Encode what a subscriber sees for a resource (the error body when unavailable)."""
        return orjson.dumps(self._body(located)[1])

    def _body(self, located: Located) -> tuple[int, object]:
        """Return the status and JSON body of a resource right now."""
        return resource_body(located, self._setup, self._channels)

    async def _end_sessions(self) -> None:
        """Send `close` on every session and give the streams a moment to flush."""
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            session.end()
        waits = [asyncio.create_task(session.finished.wait()) for session in sessions]
        if waits:
            _, pending = await asyncio.wait(waits, timeout=1.0)
            for task in pending:
                task.cancel()

    # --- faults ------------------------------------------------------------------------

    def _roll_faults(self, dt: float) -> None:
        """Trigger each kind of fault with its configured hourly rate."""
        for fault in dataclasses.fields(self._faults):
            rate = float(getattr(self._faults, fault.name))
            if rate and self._fault_rng.random() < rate * dt / _SECONDS_PER_HOUR:
                self._fault_actions()[fault.name]()

    def _fault_actions(self) -> dict[str, Callable[[], None]]:
        """Map each FaultRates field to what it does to the device."""
        return {
            "tx_power_cycle": self._cycle_tx_power,
            "rx_unreachable": self._pull_cable,
            "reboot": lambda: self._spawn(self.reboot()),
            "slow_answer": self._delay_next_answer,
            "malformed_frame": self._send_garbage,
            "split_frame": self._split_next_frames,
            "battery_swap": self._swap_battery,
            "pack_change": self._change_low_pack,
        }

    def _cycle_tx_power(self) -> None:
        """Switch a random transmitter off and back on 5-60 s later."""
        channel = self._fault_rng.randrange(len(self._channels)) + 1
        self.set_tx_power(channel, on=False)
        self._later(self._fault_rng.uniform(5, 60), lambda: self.set_tx_power(channel, on=True))

    def _pull_cable(self) -> None:
        """Unplug the network for 5-60 s."""
        self.set_reachable(False)
        self._later(self._fault_rng.uniform(5, 60), lambda: self.set_reachable(True))

    def _delay_next_answer(self) -> None:
        """Make the next REST answer take 1-3 s."""
        self._slow_answers += 1

    def _send_garbage(self) -> None:
        """Put one malformed frame on every stream."""
        frame = self._fault_rng.choice(GARBAGE_FRAMES)
        for session in self._sessions.values():
            session.outbox.put_nowait(frame)

    def _split_next_frames(self) -> None:
        """Split the next frame of every stream across two writes."""
        for session in self._sessions.values():
            session.split_next = True

    def _swap_battery(self) -> None:
        """Put a fresh pack into a random transmitter."""
        self.set_battery(self._fault_rng.randrange(len(self._channels)) + 1, percent=100)

    def _change_low_pack(self) -> None:
        levels = [c.battery.charge if c.tx_on else None for c in self._channels]
        if (number := pack_to_change(levels)) is not None:
            self.set_battery(number, percent=100)

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        """Run an action after a delay, unless the simulator stops first."""
        loop = asyncio.get_running_loop()
        # Forget timers that already fired, so a days-long stage run does not pile them up.
        self._timers = [timer for timer in self._timers if timer.when() > loop.time()]
        self._timers.append(loop.call_later(delay, action))

    # --- HTTP --------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response | EventStream:
        """Answer one request as the device would."""
        if self._slow_answers:
            self._slow_answers -= 1
            await asyncio.sleep(self._fault_rng.uniform(1.0, 3.0))
        if request.path == SUBSCRIPTIONS_PATH or request.path.startswith(SUBSCRIPTIONS_PATH + "/"):
            return self._authorized(request) or self._subscriptions(request)
        located = locate(request.path) if request.path.startswith("/api/") else None
        if located is None:
            return Response.json(404, {"path": request.path, "error": 404})
        if located.resource not in _OPEN_RESOURCES and (denied := self._authorized(request)):
            return denied
        return self._get(request, located)

    def _authorized(self, request: Request) -> Response | None:
        """Return a 401 unless the request carries Basic auth for `api` and the password."""
        token = base64.b64encode(f"{API_USER}:{self._password}".encode()).decode()
        given = request.headers.get("authorization", "")
        if hmac.compare_digest(given.encode(), f"Basic {token}".encode()):
            return None
        return Response(401, headers=(("WWW-Authenticate", 'Basic realm="SSCv2"'),))

    def _get(self, request: Request, located: Located) -> Response:
        """Serve a resource read."""
        if request.method != "GET":
            return Response.json(405, {"path": request.path, "error": 405})
        status, body = self._body(located)
        return Response.json(status, body)

    def _subscriptions(self, request: Request) -> Response | EventStream:
        """Route the subscription endpoints: open, list, replace, add, remove, end."""
        if request.path == SUBSCRIPTIONS_PATH:
            return self._open_session(request)
        uuid, _, action = request.path.removeprefix(SUBSCRIPTIONS_PATH + "/").partition("/")
        session = self._sessions.get(uuid)
        if session is None:
            return Response.json(422, {"path": request.path, "error": 422})
        route = (request.method, action)
        if route == ("GET", ""):
            return Response.json(200, list(session.paths))
        if route == ("DELETE", ""):
            return self._delete_session(session)
        if request.method == "PUT" and action in ("", "add", "remove"):
            return self._change_paths(request, session, action)
        return Response.json(405, {"path": request.path, "error": 405})

    def _open_session(self, request: Request) -> Response | EventStream:
        """Create a session and stream it, unless the device's session cap is reached."""
        if request.method != "GET":
            return Response.json(405, {"path": request.path, "error": 405})
        if len(self._sessions) >= self._max_sessions:
            logger.info("simulator refused a session: %d already open", len(self._sessions))
            return Response.json(500, {"path": request.path, "error": 500})
        session = Session()
        self._sessions[session.uuid] = session
        self.sessions_opened += 1
        self._spawn(self._forget_when_finished(session))
        headers = (
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-cache"),
            ("Content-Location", session.uuid),
        )
        return EventStream(session.stream(), headers)

    async def _forget_when_finished(self, session: Session) -> None:
        """Drop a session once its stream has ended (the client went away or it closed)."""
        await session.finished.wait()
        if self._sessions.get(session.uuid) is session:
            del self._sessions[session.uuid]

    def _delete_session(self, session: Session) -> Response:
        """End a session at the client's request."""
        self._sessions.pop(session.uuid, None)
        self.sessions_deleted += 1
        session.end()
        return Response(200)

    def _change_paths(self, request: Request, session: Session, action: str) -> Response:
        """Apply a PUT (replace), /add or /remove, then push initial values of new paths."""
        paths = _path_list(request.body)
        if paths is None:
            return Response.json(400, {"path": request.path, "error": 400})
        located, unknown = self._resolve(paths, session if action == "remove" else None)
        if unknown is not None:
            return Response.json(400, {"path": unknown, "error": 404})
        _apply_paths(session, action, located)
        session.push_changes(self._encoded_value)
        return Response(200)

    def _resolve(
        self, paths: list[str], session: Session | None
    ) -> tuple[dict[str, Located], str | None]:
        """Locate every path; return the first unknown one (or one not subscribed)."""
        located: dict[str, Located] = {}
        for path in paths:
            found = self._subscribable(path)
            if found is None or (session is not None and path not in session.paths):
                return {}, path
            located[path] = found
        return located, None

    def _subscribable(self, path: str) -> Located | None:
        """Locate a resource path that exists on this device."""
        located = locate(path)
        if located is None or located.index is None:
            return located
        return located if located.index < self.model.channels else None


def _path_list(body: bytes) -> list[str] | None:
    """Decode a JSON array of path strings; None when it is anything else."""
    with contextlib.suppress(orjson.JSONDecodeError):
        paths = orjson.loads(body)
        if isinstance(paths, list) and all(isinstance(path, str) for path in paths):
            return paths
    return None


def _apply_paths(session: Session, action: str, located: dict[str, Located]) -> None:
    """Replace, extend or shrink a session's path list."""
    if action == "":
        session.paths.clear()
        session.sent.clear()
    if action == "remove":
        for path in located:
            session.paths.pop(path, None)
            session.sent.pop(path, None)
        return
    for path, found in located.items():
        session.paths[path] = found
        # Forget what was sent, so the current value goes out right after add.
        session.sent.pop(path, None)
