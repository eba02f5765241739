"""A small live stage for the live-path tests, and helpers to talk to its sockets.

The stage: receivers (one per given simulator port) with four units each; group A
watches units 0 and 1 (Jane, Ann), group B watches unit 2 (Bob); unit 3 is unassigned.
Users: tech_a (group A, with an email), tech_b (group B), an admin.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from micboard.models import (
    MonitoringGroup,
    Organization,
    PerformerAssignment,
    WirelessChassis,
    WirelessUnit,
)
from micboard.services import PerformerAssignmentService, PerformerService
from realtime.poller import Poller, PollerConfig
from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator
from tests.factories import make_receiver, make_user
from tests.waiting import wait_until_async

ORIGIN = "http://localhost"
FRAME_TIMEOUT = 10.0
# Test timings: fast batches, the production lease rules. The timeline's writer thread
# only runs where a test asks for it (tests/timeline/), so no test leaves one writing.
TEST_POLLER = {
    "persist_interval": 0.5,
    "alert_interval": 0.1,
    "snapshot_interval": 5.0,
    "timeline": False,
}


@dataclass
class LiveStage:
    organization: Organization
    chassis: list[WirelessChassis]
    units: list[WirelessUnit]
    group_a: MonitoringGroup
    group_b: MonitoringGroup
    tech_a: User
    tech_b: User
    admin: User
    assignments: list[PerformerAssignment] = field(default_factory=list)


def build_live_stage(ports: list[int]) -> LiveStage:
    organization = Organization.default()
    receivers = [make_receiver(organization, port) for port in ports]
    units = [unit for _, unit_list in receivers for unit in unit_list]
    group_a = MonitoringGroup.objects.create(organization=organization, name="Main stage")
    group_b = MonitoringGroup.objects.create(organization=organization, name="Side stage")
    stage = LiveStage(
        organization,
        [chassis for chassis, _ in receivers],
        units,
        group_a,
        group_b,
        make_user("tech_a", organization),
        make_user("tech_b", organization),
        make_user("boss", organization, role="admin"),
    )
    group_a.users.add(stage.tech_a)
    group_b.users.add(stage.tech_b)
    for name, unit, group in (
        ("Jane Smith", units[0], group_a),
        ("Ann Lee", units[1], group_a),
        ("Bob Ray", units[2], group_b),
    ):
        performer = PerformerService.create_performer(name)
        stage.assignments.append(
            PerformerAssignmentService.create_assignment(performer, unit, group)
        )
    return stage


@pytest.fixture
async def simulators() -> AsyncIterator[Callable[..., Awaitable[ShureTcpSimulator]]]:
    """Start Shure TCP simulators on loopback (full batteries); all stopped after the test."""
    started: list[ShureTcpSimulator] = []

    async def start(model: str = "ULXD4Q", channels: int = 4, **options: Any) -> ShureTcpSimulator:
        simulator = ShureTcpSimulator(model, seed=len(started) + 1, **options)
        await simulator.start()
        started.append(simulator)
        for channel in range(1, channels + 1):
            simulator.set_battery(channel, bars=5)  # every test starts from full packs
        return simulator

    yield start
    for simulator in started:
        await simulator.stop()


@pytest.fixture
async def pollers(live_settings) -> AsyncIterator[Callable[..., Poller]]:
    """Start in-process pollers (test timings); all are cancelled after the test.

    Alerts are raised at once (no start-up grace) unless a test sets a grace itself.
    """
    live_settings.MICBOARD_ALERT_GRACE = 0
    running: list[asyncio.Task[None]] = []

    def start(**overrides: Any) -> Poller:
        poller = Poller(PollerConfig(**{**TEST_POLLER, **overrides}))
        running.append(asyncio.create_task(poller.run()))
        return poller

    yield start
    for task in running:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def open_socket(
    path: str,
    *,
    user: User | None = None,
    origin: str | None = ORIGIN,
    session: str | None = None,
) -> tuple[WebsocketCommunicator, bool, Any]:
    """Connect to the real ASGI app, signed in as `user` (a new session) or on `session`
    (a session cookie's value); return the communicator, accepted?, close code."""
    from micboard.asgi import application

    headers = [(b"host", b"localhost")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if user is not None:
        session = await database_sync_to_async(session_cookie)(user)
    if session is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    accepted, detail = await communicator.connect(timeout=FRAME_TIMEOUT)
    return communicator, accepted, detail


async def closed_with(communicator: WebsocketCommunicator) -> int:
    """Return the close code the server sends next (skipping data frames)."""
    while True:
        output = await communicator.receive_output(timeout=FRAME_TIMEOUT)
        if output["type"] == "websocket.close":
            return int(output.get("code", 1000))


async def refused_with(path: str, **options: Any) -> int:
    """Connect and return the close code: refusals accept first, then close at once."""
    communicator, accepted, detail = await open_socket(path, **options)
    assert accepted, f"the handshake itself was refused ({detail})"
    code = await closed_with(communicator)
    await communicator.disconnect()  # what the server does once the close handshake ends
    return code


async def next_frame(
    communicator: WebsocketCommunicator,
    matches: Callable[[dict[str, Any]], bool],
    limit: float = FRAME_TIMEOUT,
    *,
    what: str = "a matching frame",
) -> dict[str, Any]:
    """Return the first frame for which `matches` is true; fail after `limit` seconds."""

    async def next_match() -> dict[str, Any] | None:
        # A read may wait longer than the whole wait, so the wait's deadline is what fails.
        frame = orjson.loads(await communicator.receive_from(timeout=limit + 1))
        return frame if matches(frame) else None

    return await wait_until_async(next_match, limit, what, interval=0)


def unit_in(frame: dict[str, Any], unit_id: int) -> dict[str, Any] | None:
    """Return a unit's state in a snapshot/delta frame, or None."""
    units = frame.get("units")
    return units.get(str(unit_id)) if isinstance(units, dict) else None
