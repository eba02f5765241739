"""The System API client against the simulator, over real TLS sockets on loopback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import quote

import httpx
import pytest
import websockets

from realtime.protocols.base import DeviceClient, Reading
from realtime.protocols.shure_api.client import ShureSystemApiClient, SystemApiSession
from realtime.protocols.shure_api.errors import AuthenticationError, NotFoundError
from realtime.protocols.shure_api.parse import ActivityLevel, DeviceState
from realtime.protocols.shure_api.timing import SystemApiTimings
from realtime.simulation.base import FaultRates, SimulatedDevice
from realtime.simulation.shure_api.devices import SimDeviceSpec
from realtime.simulation.shure_api.simulator import PUSH_PATH, ShureSystemApiSimulator
from tests.realtime.protocols.raw_http import keep_alive_status, read_until_closed
from tests.waiting import wait_until_async

FAST = SystemApiTimings(
    connect_timeout=1.0,
    read_timeout=1.0,
    ping_interval=0.3,
    ping_timeout=0.3,
    close_timeout=0.3,
    backoff_initial=0.05,
    backoff_max=0.3,
    unreachable_repeat=1.0,
    refresh_interval=30.0,  # long, so readings seen in a test come from pushes
)


@asynccontextmanager
async def running(**options) -> AsyncIterator[ShureSystemApiSimulator]:
    options = {"activity_interval": 0.1, "page_size": 2, "seed": 7, **options}
    simulator = ShureSystemApiSimulator(**options)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def sim() -> AsyncIterator[ShureSystemApiSimulator]:
    async with running() as simulator:
        yield simulator


@pytest.fixture
async def session(sim) -> AsyncIterator[SystemApiSession]:
    shared = SystemApiSession(
        sim.base_url, sim.api_key, verify=sim.client_ssl_context(), timings=FAST
    )
    yield shared
    await shared.close()


def id_of(sim: ShureSystemApiSimulator, model: str) -> str:
    return next(d.device_id for d in sim.devices.values() if d.model == model)


@asynccontextmanager
async def following(client: ShureSystemApiClient) -> AsyncIterator[AsyncGenerator[Reading, None]]:
    stream = client.readings()
    try:
        yield stream
    finally:
        await stream.aclose()


async def next_matching(
    stream: AsyncIterator[Reading],
    matches: Callable[[Reading], bool],
    what: str,
    within: float = 5.0,
) -> Reading:
    """Return the first reading from `stream` that `matches` (described by `what`)."""

    async def next_match() -> Reading | None:
        reading = await anext(stream, None)
        assert reading is not None, "the readings ended"
        return reading if matches(reading) else None

    return await wait_until_async(next_match, within, what, interval=0)


def clipping(reading: Reading) -> bool:
    return reading.channel == 1 and reading.audio_clipped


class TestDiscovery:
    async def test_it_lists_every_device_following_the_pages(self, sim, session):
        nodes = await session.discover_all()
        assert len(sim.devices) > 2 * 2  # more than two pages of two
        assert {(n.device_id, n.model, n.state) for n in nodes} == {
            (d.device_id, d.model if d.state is not DeviceState.DISCOVERED else "", d.state)
            for d in sim.devices.values()
        }
        assert {n.state for n in nodes} == {
            DeviceState.ONLINE,
            DeviceState.OFFLINE,
            DeviceState.DISCOVERED,
        }

    @pytest.mark.parametrize("list_mode", ["array", "items"])
    async def test_it_lists_devices_in_the_unpaged_shapes(self, list_mode):
        async with running(list_mode=list_mode) as simulator:
            shared = SystemApiSession(
                simulator.base_url, simulator.api_key, verify=simulator.client_ssl_context()
            )
            nodes = await shared.discover_all()
            await shared.close()
        assert {n.device_id for n in nodes} == set(simulator.devices)

    async def test_it_discovers_models_identities_and_channels(self, sim, session):
        for device_id in sim.devices:
            client: DeviceClient = session.device(device_id)
            info = await client.discover()
            assert info == sim.device_info(device_id)
        receiver = await session.device(id_of(sim, "ULXD4D")).discover()
        assert (receiver.model, receiver.manufacturer, receiver.firmware) == (
            "ULXD4D",
            "Shure",
            "2.7.6.0",
        )
        assert [ch.number for ch in receiver.channels] == [1, 2]
        assert [
            ch.number for ch in (await session.device(id_of(sim, "ADTQ")).discover()).channels
        ] == [1, 2, 3, 4]
        pack = await session.device(id_of(sim, "ULXD6")).discover()
        assert [(ch.number, ch.name) for ch in pack.channels] == [(1, "Pack Lead Vocal")]

    async def test_a_serial_number_finds_the_device(self, sim, session):
        receiver = sim.devices[id_of(sim, "ULXD4D")]
        client = session.device(receiver.serial)
        assert await client.discover() == sim.device_info(receiver.device_id)
        async with following(client) as stream:
            await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading")
            sim.set_activity(1, ActivityLevel.CLIPPING, device_id=receiver.device_id)
            await next_matching(stream, clipping, "channel 1 clipping")

    async def test_an_unknown_device_is_a_clear_error(self, session):
        with pytest.raises(NotFoundError, match="no device has the id or serial number 'X1'"):
            await session.device("X1").discover()

    async def test_a_bad_api_key_is_a_clear_error(self, sim):
        client = ShureSystemApiClient.connect(
            sim.base_url, "wrong-key", id_of(sim, "ULXD4D"), verify=sim.client_ssl_context()
        )
        with pytest.raises(AuthenticationError, match=r"HTTP 401.*check the server's shared key"):
            await client.discover()
        with pytest.raises(AuthenticationError):
            await anext(client.readings())
        await client.close()

    async def test_an_untrusted_certificate_is_refused(self, sim):
        client = ShureSystemApiClient.connect(sim.base_url, sim.api_key, id_of(sim, "ULXD4D"))
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.discover()
        await client.close()


class TestLiveReadings:
    async def test_activity_pushes_arrive_as_audio_readings(self, sim, session):
        receiver = id_of(sim, "ULXD4D")
        async with following(session.device(receiver)) as stream:
            await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading")
            sim.set_activity(1, ActivityLevel.CLIPPING, device_id=receiver)
            clipped = await next_matching(stream, clipping, "channel 1 clipping")
            assert (clipped.audio_peak_dbfs, clipped.audio_rms_dbfs) == (0.0, -6.0)
            sim.set_activity(1, ActivityLevel.LOW, device_id=receiver)
            low = await next_matching(
                stream, lambda r: r.channel == 1 and r.audio_rms_dbfs == -60.0, "channel 1 LOW"
            )
            assert not low.audio_clipped
            assert low.channel_name == sim.device_info(receiver).channels[0].name
            assert (low.rf_a_dbm, low.battery_percent, low.frequency_khz) == (None, None, None)
            # The level keeps being re-pushed every activity interval, as the server does.
            for _ in range(3):
                repeat = await next_matching(
                    stream, lambda r: r.channel == 1, "channel 1 again", 1.0
                )
                assert repeat.audio_rms_dbfs == -60.0

    async def test_a_transmitter_switched_off_reads_as_silence(self, sim, session):
        receiver = id_of(sim, "ADTQ")
        async with following(session.device(receiver)) as stream:
            # A pinned clip marks where the stream stands before the switch-off.
            sim.set_activity(3, ActivityLevel.CLIPPING, device_id=receiver)
            await next_matching(
                stream, lambda r: r.channel == 3 and r.audio_clipped, "channel 3 clipping"
            )
            sim.set_tx_power(3, on=False, device_id=receiver)
            sim.set_activity(3, None, device_id=receiver)
            # Random speech is LOW about a third of the time; ten LOWs in a row is silence.
            for _ in range(10):
                reading = await next_matching(
                    stream, lambda r: r.channel == 3 and not r.audio_clipped, "channel 3 unclipped"
                )
                assert reading.audio_rms_dbfs == -60.0

    async def test_battery_values_set_in_the_simulator_arrive(self, sim, session):
        pack = id_of(sim, "ULXD6")
        async with following(session.device(pack)) as stream:
            first = await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading")
            assert first.battery_percent is not None
            assert (first.tx_model, first.channel_name) == ("ULXD6", "Pack Lead Vocal")
            sim.set_battery(1, percent=42, minutes=250, device_id=pack)
            reading = await next_matching(
                stream, lambda r: r.battery_percent == 42, "a battery at 42 %"
            )
            assert reading.battery_minutes == 250
            sim.set_battery(1, bars=1, device_id=pack)
            reading = await next_matching(
                stream, lambda r: r.battery_percent == 20, "a battery at 20 %"
            )
            assert reading.battery_minutes == 20 * 7

    async def test_a_pack_drains_a_minute_per_tick_and_a_percent_per_seven(self):
        async with running(battery_tick=0.02) as simulator:
            pack = id_of(simulator, "ULXD8")
            simulator.set_battery(1, percent=50, minutes=350, device_id=pack)
            client = ShureSystemApiClient.connect(
                simulator.base_url,
                simulator.api_key,
                pack,
                verify=simulator.client_ssl_context(),
                timings=FAST,
            )
            async with following(client) as stream:
                start = await next_matching(
                    stream, lambda r: r.battery_minutes is not None, "a battery runtime"
                )
                start_minutes, start_percent = (
                    start.battery_minutes or 0,
                    start.battery_percent or 0,
                )
                later = await next_matching(
                    stream,
                    lambda r: (r.battery_minutes or 999) <= start_minutes - 15,
                    "a quarter of an hour drained",
                )
            await client.close()
        drained = start_minutes - (later.battery_minutes or 0)
        assert start_percent - (later.battery_percent or 0) in {drained // 7, drained // 7 + 1}

    async def test_a_device_turned_offline_reads_unreachable_then_recovers(self, sim, session):
        receiver = id_of(sim, "ULXD4D")
        async with following(session.device(receiver)) as stream:
            await next_matching(
                stream,
                lambda r: r.rx_reachable and r.audio_rms_dbfs is not None,
                "a reachable audio level",
            )
            sim.set_reachable(False, device_id=receiver)
            down = [
                await next_matching(stream, lambda r: not r.rx_reachable, "an unreachable reading")
                for _ in range(2)
            ]
            assert sorted(r.channel for r in down) == [1, 2]
            assert all(r.audio_rms_dbfs is None and r.channel_name for r in down)
            sim.set_reachable(True, device_id=receiver)
            await next_matching(
                stream,
                lambda r: r.rx_reachable and r.audio_rms_dbfs is not None,
                "a reachable audio level",
            )

    async def test_a_pack_switched_off_reads_unreachable(self, sim, session):
        pack = id_of(sim, "ULXD8")
        async with following(session.device(pack)) as stream:
            await next_matching(
                stream,
                lambda r: r.rx_reachable and r.battery_percent is not None,
                "a reachable battery level",
            )
            sim.set_tx_power(1, on=False, device_id=pack)
            off = await next_matching(
                stream, lambda r: not r.rx_reachable, "an unreachable reading"
            )
            assert (off.battery_percent, off.battery_minutes) == (None, None)
            sim.set_tx_power(1, on=True, device_id=pack)
            on = await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading")
        # A pack just switched on is still calculating its runtime (D.4).
        assert on.battery_percent is not None
        assert on.battery_minutes is None

    async def test_a_reboot_reads_offline_then_online(self):
        async with running(reboot_seconds=0.3) as simulator:
            receiver = id_of(simulator, "ADTQ")
            client = ShureSystemApiClient.connect(
                simulator.base_url,
                simulator.api_key,
                receiver,
                verify=simulator.client_ssl_context(),
                timings=FAST,
            )
            async with following(client) as stream:
                await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading")
                simulator.reboot(receiver)
                await next_matching(stream, lambda r: not r.rx_reachable, "an unreachable reading")
                back = await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading")
            await client.close()
        assert back.channel_name is not None

    async def test_an_offline_device_reads_unreachable_from_the_start(self, sim, session):
        async with following(session.device(id_of(sim, "ANX4"))) as stream:
            readings = [await next_matching(stream, lambda r: True, "a reading") for _ in range(4)]
        assert [r.channel for r in readings] == [1, 2, 3, 4]
        assert not any(r.rx_reachable for r in readings)

    async def test_devices_on_one_session_share_one_push_socket(self, sim, session):
        receiver, pack = id_of(sim, "ULXD4D"), id_of(sim, "ULXD6")
        async with (
            following(session.device(receiver)) as audio,
            following(session.device(pack)) as battery,
        ):
            await next_matching(audio, lambda r: r.rx_reachable, "a reachable reading")
            await next_matching(battery, lambda r: r.rx_reachable, "a reachable reading")
            sim.set_activity(2, ActivityLevel.CLIPPING, device_id=receiver)
            sim.set_battery(1, percent=33, device_id=pack)
            await next_matching(
                audio, lambda r: r.channel == 2 and r.audio_clipped, "channel 2 clipping"
            )
            await next_matching(battery, lambda r: r.battery_percent == 33, "a battery at 33 %")
            assert sim.push_connections == 1


class TestFailures:
    async def test_an_unreachable_server_reads_unreachable_within_5s_and_recovers(
        self, sim, session
    ):
        receiver = id_of(sim, "ULXD4D")
        async with following(session.device(receiver)) as stream:
            await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading")
            sim.set_reachable(False)
            await next_matching(stream, lambda r: not r.rx_reachable, "an unreachable reading", 5.0)
            sim.set_reachable(True)
            sim.set_activity(1, ActivityLevel.CLIPPING, device_id=receiver)
            await next_matching(
                stream,
                lambda r: r.rx_reachable and clipping(r),
                "channel 1 reachable and clipping",
                5.0,
            )

    async def test_a_server_down_at_start_is_waited_for(self, sim, session):
        sim.set_reachable(False)
        async with following(session.device(id_of(sim, "ULXD4D"))) as stream:
            first = asyncio.ensure_future(anext(stream))
            done, _ = await asyncio.wait({first}, timeout=0.5)
            assert not done  # nothing to report: no channel is known yet
            sim.set_reachable(True)
            await wait_until_async(first.done, 5.0, "a reading once the server is up")
        assert first.result().rx_reachable

    async def test_unreachable_is_repeated_at_most_every_repeat_interval(self, sim, session):
        async with following(session.device(id_of(sim, "ULXD6"))) as stream:
            await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading")
            sim.set_reachable(False)
            first = await next_matching(
                stream, lambda r: not r.rx_reachable, "an unreachable reading"
            )
            again = await next_matching(
                stream, lambda r: not r.rx_reachable, "an unreachable reading"
            )
        assert again.timestamp - first.timestamp >= FAST.unreachable_repeat * 0.9

    async def test_a_silent_server_is_noticed_by_keepalive_and_recovers(self, sim, session):
        receiver = id_of(sim, "ULXD4D")
        async with following(session.device(receiver)) as stream:
            await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading")
            sim.set_reachable(False, stall=True)
            await next_matching(stream, lambda r: not r.rx_reachable, "an unreachable reading", 5.0)
            sim.set_reachable(True)
            sim.set_activity(1, ActivityLevel.CLIPPING, device_id=receiver)
            await next_matching(
                stream,
                lambda r: r.rx_reachable and clipping(r),
                "channel 1 reachable and clipping",
                5.0,
            )

    async def test_malformed_and_split_frames_are_survived(self, sim, session):
        receiver = id_of(sim, "ULXD4D")
        async with following(session.device(receiver)) as stream:
            await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading")
            for garbage in ("not json", '{"envelope": 42}', "[]", '{"transportId": 1}', "{"):
                sim.inject_malformed_frame(garbage)
            sim.inject_split_frame()
            sim.set_activity(1, ActivityLevel.CLIPPING, device_id=receiver)
            reading = await next_matching(
                stream,
                lambda r: clipping(r) or not r.rx_reachable,
                "a clip or an unreachable reading",
            )
        assert reading.rx_reachable

    async def test_it_keeps_reporting_through_a_storm_of_faults(self):
        often = 3 * 3600.0  # about three of each kind per second
        faults = FaultRates(
            tx_power_cycle=often,
            reboot=3600.0,
            slow_answer=3600.0,
            malformed_frame=often,
            split_frame=often,
            battery_swap=often,
        )
        stage = [SimDeviceSpec("ULXD4D")]
        async with running(devices=stage, faults=faults, reboot_seconds=0.2) as simulator:
            client = ShureSystemApiClient.connect(
                simulator.base_url,
                simulator.api_key,
                id_of(simulator, "ULXD4D"),
                verify=simulator.client_ssl_context(),
                timings=FAST,
            )
            async with following(client) as stream:
                await next_matching(
                    stream, lambda r: not r.rx_reachable, "an unreachable reading", 10.0
                )
                await next_matching(stream, lambda r: r.rx_reachable, "a reachable reading", 10.0)
            await client.close()

    async def test_close_ends_a_running_readings_loop(self, sim):
        client = ShureSystemApiClient.connect(
            sim.base_url,
            sim.api_key,
            id_of(sim, "ULXD4D"),
            verify=sim.client_ssl_context(),
            timings=FAST,
        )
        first_reading = asyncio.Event()
        consumer = asyncio.create_task(_count_readings(client, first_reading))
        await wait_until_async(first_reading.is_set, 5.0, "a first reading")
        await client.close()
        await wait_until_async(consumer.done, 5.0, "readings() ending after close")
        assert consumer.result() > 0


async def _count_readings(client: ShureSystemApiClient, first_reading: asyncio.Event) -> int:
    count = 0
    async for _reading in client.readings():
        count += 1
        first_reading.set()
    return count


class TestStopping:
    async def test_it_stops_without_errors_closing_push_sockets_and_held_requests(
        self, sim, caplog
    ):
        context = sim.client_ssl_context()
        request = f"GET /api/v1/devices HTTP/1.1\r\nHost: sim\r\nx-api-key: {sim.api_key}\r\n\r\n"
        push_url = f"wss://{sim.host}:{sim.port}{PUSH_PATH}"
        async with asyncio.timeout(5), websockets.connect(push_url, ssl=context) as push:
            assert "transportId" in await push.recv()
            reader, writer = await asyncio.open_connection(sim.host, sim.port, ssl=context)
            assert await keep_alive_status(reader, writer, request.encode()) == 200
            sim.set_reachable(False, stall=True)
            writer.write(request.encode())  # held unanswered by the stalled server
            # Held before its TLS handshake, by a handler that waits for the stall to end.
            before_tls, not_yet_tls = await asyncio.open_connection(sim.host, sim.port)
            await sim.stop()
            with pytest.raises(websockets.ConnectionClosed):
                await push.recv()
            await read_until_closed(reader)  # returns only once the server has closed it
            await read_until_closed(before_tls)
        for client_writer in (writer, not_yet_tls):
            client_writer.close()

        assert [
            r for r in caplog.records if r.name == "asyncio" and r.levelno >= logging.ERROR
        ] == []


class TestSimulatorWire:
    """The documented error answers and push shape, read with a plain HTTP client."""

    @pytest.fixture
    async def http(self, sim) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(
            base_url=f"{sim.base_url}/api/",
            headers={"x-api-key": sim.api_key},
            verify=sim.client_ssl_context(),
        ) as client:
            yield client

    async def test_it_answers_401_to_a_bad_key(self, http):
        response = await http.get("v1/devices", headers={"x-api-key": "nope"})
        assert response.status_code == 401
        assert response.json()["title"] == "Unauthorized"

    async def test_it_answers_400_to_a_json_content_type_with_an_empty_body(self, http, sim):
        response = await http.post(
            "v1/devices/subscription/x", headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert "Body cannot be empty" in response.json()["detail"]

    @pytest.mark.parametrize(
        "path",
        [
            "v1/devices/nope",
            "v1/devices/nope/name",
            "v1/devices/{pack}/audio-channels",
            "v1/nothing",
        ],
    )
    async def test_it_answers_404_to_unknown_ids(self, http, sim, path):
        response = await http.get(path.format(pack=id_of(sim, "ULXD6")))
        assert response.status_code == 404

    async def test_it_routes_url_encoded_base64_channel_ids(self, http, sim):
        receiver = id_of(sim, "ULXD4D")
        channels = (await http.get(f"v1/devices/{receiver}/audio-channels")).json()
        assert [channel["id"][-1] for channel in channels] == ["=", "="]
        unknown = await http.get(
            f"v1/devices/{receiver}/audio-channels/{quote('a/b+c=', safe='')}/name"
        )
        assert unknown.json()["detail"] == "unknown audio channel a/b+c="
        for channel in channels:
            answer = await http.get(
                f"v1/devices/{receiver}/audio-channels/{quote(channel['id'], safe='')}/activity"
            )
            assert answer.json()["audioLevel"] in {"LOW", "GOOD", "CLIPPING"}

    def test_the_same_seed_builds_the_same_stage(self):
        first, again, other = (ShureSystemApiSimulator(seed=seed) for seed in (5, 5, 6))
        infos = [[sim.device_info(d) for d in sim.devices] for sim in (first, again, other)]
        assert infos[0] == infos[1]
        assert infos[0] != infos[2]
        batteries = [[d.battery for d in sim.devices.values()] for sim in (first, again)]
        assert batteries[0] == batteries[1]

    async def test_it_implements_the_simulated_device_controls(self, sim):
        device: SimulatedDevice = sim
        assert device.device_info().protocol == "shure_api"
        with pytest.raises(ValueError, match="no battery"):
            device.set_battery(1, percent=10)
