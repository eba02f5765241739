"""Check the simulator speaks the EW-DX SSCv2 contract, using plain httpx over TLS."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import statistics
from typing import Any

import httpx
import orjson
import pytest

from realtime.protocols.sennheiser_ssc.parse import (
    CloseEvent,
    MessageEvent,
    OpenEvent,
    SseDecoder,
    decode_events,
)
from realtime.simulation.sennheiser_ssc.simulator import SennheiserSscSimulator
from tests.realtime.protocols.raw_http import keep_alive_status, read_until_closed
from tests.waiting import wait_until_async

from .conftest import PASSWORD

SUBSCRIPTIONS = "/api/ssc/state/subscriptions"


def http_client(simulator: SennheiserSscSimulator, *, auth: bool = True) -> httpx.AsyncClient:
    """Build a plain httpx client that trusts the simulator's CA."""
    return httpx.AsyncClient(
        base_url=f"https://{simulator.host}:{simulator.port}",
        verify=simulator.client_ssl_context(),
        auth=("api", PASSWORD) if auth else None,
        timeout=2.0,
    )


class EventStream:
    """Read SSCv2 events off an open subscription response."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._chunks = response.aiter_bytes()
        self._decoder = SseDecoder()
        self._pending: list[object] = []

    async def next(self) -> object:
        """Return the next event, waiting at most two seconds."""

        async def decoded() -> bool:
            self._pending += decode_events(self._decoder, [await anext(self._chunks)])
            return bool(self._pending)

        if not self._pending:
            await wait_until_async(decoded, 2.0, "an SSE event", interval=0)
        return self._pending.pop(0)

    async def until_the_end(self) -> list[object]:
        """Return every event left until the server ends the stream, waiting at most 2 s."""

        async def ended() -> bool:
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                return True
            self._pending += decode_events(self._decoder, [chunk])
            return False

        await wait_until_async(ended, 2.0, "the end of the event stream", interval=0)
        remaining, self._pending = self._pending, []
        return remaining


@contextlib.asynccontextmanager
async def subscription(client: httpx.AsyncClient):
    """Open a subscription stream and yield (session uuid, event stream)."""
    headers = {"Accept": "text/event-stream"}
    async with client.stream("GET", SUBSCRIPTIONS, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        events = EventStream(response)
        opened = await events.next()
        assert isinstance(opened, OpenEvent)
        assert response.headers["content-location"] == opened.session_uuid
        assert opened.path == f"{SUBSCRIPTIONS}/{opened.session_uuid}"
        yield opened.session_uuid, events


async def test_it_serves_version_and_identity_without_auth_and_the_rest_with_it(
    start_simulator,
):
    simulator = await start_simulator("EW-DX EM 2 DANTE")
    async with http_client(simulator, auth=False) as anonymous:
        version = await anonymous.get("/api/ssc/version")
        identity = await anonymous.get("/api/device/identity")
        site = await anonymous.get("/api/device/site")

    assert version.json() == {"protocol": "2.3", "schema": "1.7"}
    assert identity.json()["product"] == "EWDX2CHDS"
    assert identity.json()["vendor"] == "Sennheiser electronic SE & Co. KG"
    assert site.status_code == 401
    assert site.headers["www-authenticate"].startswith("Basic")


async def test_it_answers_422_and_no_link_while_a_transmitter_is_off(start_simulator):
    simulator = await start_simulator("EW-DX EM 2")
    simulator.set_tx_power(1, on=False)
    async with http_client(simulator) as client:
        battery = await client.get("/api/transmitters/0/battery")
        linked = await client.get("/api/transmitters")
        warnings = await client.get("/api/channel/0/warnings")
        rssi = await client.get("/api/channel/0/signalStrengthIndicator")
        beyond = await client.get("/api/channel/2")

    assert battery.status_code == 422
    assert battery.json() == {"path": "/api/transmitters/0/battery", "error": 422}
    assert [entry["id"] for entry in linked.json()] == [1]
    assert warnings.json() == ["NoLink"]
    assert rssi.json() == {"value": -107.0}
    assert beyond.status_code == 404


async def test_it_runs_the_subscription_flow(start_simulator):
    simulator = await start_simulator("EW-DX EM 2", push_interval=3600)
    async with http_client(simulator) as client, subscription(client) as (uuid, events):
        session = f"{SUBSCRIPTIONS}/{uuid}"
        added = await client.put(f"{session}/add", json=["/channel/0/level", "/api/rf/channels/1"])
        initial = await events.next()
        listed = await client.get(session)
        removed = await client.put(f"{session}/remove", json=["/channel/0/level"])
        simulator.set_battery(2, percent=40)  # not subscribed: must not be pushed
        await client.put(f"{session}/add", json=["/api/transmitters/1/battery"])
        pushed = await events.next()
        deleted = await client.delete(session)
        closing = await events.next()

    assert added.status_code == 200
    assert isinstance(initial, MessageEvent)
    assert set(initial.values) == {"/channel/0/level", "/api/rf/channels/1"}
    assert listed.json() == ["/channel/0/level", "/api/rf/channels/1"]
    assert removed.status_code == 200
    assert pushed == MessageEvent(
        {"/api/transmitters/1/battery": {"type": "Battery", "gauge": 40, "lifetime": 288}}
    )
    assert deleted.status_code == 200
    assert closing == CloseEvent()
    assert simulator.session_count == 0


@pytest.mark.parametrize(
    "paths", [["/api/channel/0/level", "/api/nope"], ["/api/channel/2/level"], ["/ssc/version/x"]]
)
async def test_it_refuses_an_unknown_subscription_path_with_the_400_shape(start_simulator, paths):
    simulator = await start_simulator("EW-DX EM 2")
    async with http_client(simulator) as client, subscription(client) as (uuid, _):
        refused = await client.put(f"{SUBSCRIPTIONS}/{uuid}/add", json=paths)
        listed = await client.get(f"{SUBSCRIPTIONS}/{uuid}")

    assert refused.status_code == 400
    assert refused.json() == {"path": paths[-1], "error": 404}
    assert listed.json() == []


async def test_it_refuses_bad_json_and_unknown_sessions(start_simulator):
    simulator = await start_simulator("EW-DX EM 2")
    async with http_client(simulator) as client, subscription(client) as (uuid, _):
        bad = await client.put(f"{SUBSCRIPTIONS}/{uuid}/add", content=b"[not json")
        unknown = await client.put(f"{SUBSCRIPTIONS}/not-a-session/add", json=[])

    assert (bad.status_code, bad.json()["error"]) == (400, 400)
    assert unknown.status_code == 422


async def test_it_caps_the_number_of_sessions(start_simulator):
    simulator = await start_simulator("EW-DX EM 2", max_sessions=1)
    async with http_client(simulator) as client, subscription(client):
        second = await client.get(SUBSCRIPTIONS, headers={"Accept": "text/event-stream"})

    assert second.status_code == 500
    assert second.json() == {"path": SUBSCRIPTIONS, "error": 500}


async def test_it_sends_close_when_it_shuts_down(start_simulator):
    simulator = await start_simulator("EW-DX EM 2")
    async with http_client(simulator) as client, subscription(client) as (_, events):
        await simulator.stop()
        closing = await events.next()

    assert closing == CloseEvent()


async def test_it_stops_without_errors_closing_streams_and_held_requests(start_simulator, caplog):
    simulator = await start_simulator("EW-DX EM 2")
    async with asyncio.timeout(5):
        reader, writer = await asyncio.open_connection(
            simulator.host, simulator.port, ssl=simulator.client_ssl_context()
        )
        assert await keep_alive_status(reader, writer, VERSION_REQUEST) == 200
        async with http_client(simulator) as client, subscription(client) as (_, events):
            simulator.set_reachable(False)  # hold the next request in a stalled handler
            writer.write(VERSION_REQUEST)
            await simulator.stop()
            last_events = await events.until_the_end()
            await read_until_closed(reader)  # returns only once the server has closed it
        writer.close()

    assert last_events == [CloseEvent()]
    assert [r for r in caplog.records if r.name == "asyncio" and r.levelno >= logging.ERROR] == []


VERSION_REQUEST = b"GET /api/ssc/version HTTP/1.1\r\nHost: device\r\n\r\n"


async def test_it_is_deterministic_for_a_seed(start_simulator):
    twins = [await start_simulator(seed=seed, push_interval=3600) for seed in (7, 7, 8)]
    for simulator in twins:
        for _ in range(50):
            simulator.step()

    snapshots = [await meter_snapshot(simulator) for simulator in twins]

    assert snapshots[0] == snapshots[1]
    assert snapshots[0] != snapshots[2]


async def test_it_moves_like_a_real_link_and_talker(start_simulator):
    simulator = await start_simulator("EW-DX EM 2", seed=0, push_interval=3600)
    meters = ["signalStrengthIndicator", "diversityIndicator", "level", "warnings"]
    async with http_client(simulator) as client, subscription(client) as (uuid, events):
        paths = [f"/api/channel/0/{leaf}" for leaf in meters]
        await client.put(f"{SUBSCRIPTIONS}/{uuid}/add", json=paths)
        for _ in range(3000):  # five simulated minutes at 10 Hz
            simulator.step(0.1)
        await client.delete(f"{SUBSCRIPTIONS}/{uuid}")
        history: list[dict[str, Any]] = [{}]
        while isinstance(event := await events.next(), MessageEvent):
            history.append({**history[-1], **event.values})
        history.pop(0)

    rssi = [state[paths[0]]["value"] for state in history]
    antennas = [state[paths[1]]["value"] for state in history]
    levels = [state[paths[2]]["value"] for state in history]
    peaks = [state[paths[2]]["value"] for state in history if "AfPeak" in state[paths[3]]]
    flips_per_minute = sum(a != b for a, b in itertools.pairwise(antennas)) / 5
    typical_rssi = statistics.median(rssi)
    speech = [level for level in levels if level > -60]

    assert -70 <= typical_rssi <= -45
    assert min(rssi) <= typical_rssi - 10, "body-shadow dips of 10-20 dB"
    assert 1 <= flips_per_minute <= 12, "diversity flips several times a minute"
    assert -40 <= statistics.median(speech) <= -15
    assert 0.3 < len(speech) / len(levels) < 0.95, "speech comes in bursts between pauses"
    assert peaks, "an occasional clip raises AfPeak"
    assert min(peaks) >= -1.0, "a clip reads near 0 dBFS"


async def meter_snapshot(simulator: SennheiserSscSimulator) -> bytes:
    """Read every meter and battery resource of every channel over REST."""
    bodies = []
    async with http_client(simulator) as client:
        for index in range(4):
            for leaf in ("signalStrengthIndicator", "level", "diversityIndicator", "warnings"):
                bodies.append((await client.get(f"/api/channel/{index}/{leaf}")).json())
            bodies.append((await client.get(f"/api/transmitters/{index}/battery")).json())
    return orjson.dumps(bodies)


def test_it_refuses_a_password_the_device_would_refuse():
    with pytest.raises(ValueError, match="10-64 characters"):
        SennheiserSscSimulator(password="short")
    with pytest.raises(ValueError, match="unknown EW-DX model"):
        SennheiserSscSimulator("EW-DX EM 8", password=PASSWORD)
