"""The simulator on the wire, seen through a bare socket: what a real receiver would send."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import pytest

from realtime.protocols.shure_tcp.parse import FrameSplitter
from realtime.simulation.base import FaultRates
from realtime.simulation.shure_tcp import ShureTcpSimulator, SimulatorFleet
from tests.waiting import wait_until_async


class Wire:
    """A raw TCP connection to a simulator: send command text, read frame bodies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.splitter = FrameSplitter()
        self.frames: list[str] = []

    @classmethod
    async def open(cls, sim: ShureTcpSimulator) -> Wire:
        return cls(*await asyncio.open_connection(sim.host, sim.port))

    def send(self, text: str) -> None:
        self.writer.write(text.encode("ascii"))

    async def frame(
        self, predicate: Callable[[str], bool] = bool, what: str = "a frame", *, within: float = 2.0
    ) -> str:
        """Return the next frame body that satisfies `predicate` (described by `what`)."""

        async def next_match() -> str | None:
            while not self.frames:
                data = await self.reader.read(65536)
                assert data, "the simulator closed the connection"
                self.frames += self.splitter.feed(data)
            body = self.frames.pop(0)
            return body if predicate(body) else None

        return await wait_until_async(next_match, within, what, interval=0)

    async def frames_during(self, seconds: float) -> list[str]:
        """Return every frame body that arrives within `seconds`."""
        out, self.frames = self.frames, []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while data := await self.reader.read(65536):
                    out += self.splitter.feed(data)
        return out

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@pytest.fixture
async def wires():
    opened: list[Wire] = []

    async def open_wire(sim: ShureTcpSimulator) -> Wire:
        opened.append(await Wire.open(sim))
        return opened[-1]

    yield open_wire
    for wire in opened:
        await wire.close()


def _startswith(prefix: str) -> Callable[[str], bool]:
    return lambda body: body.startswith(prefix)


@pytest.mark.parametrize(
    ("model", "name_width", "frequency_digits"),
    [("ULXD4Q", 8, 6), ("QLXD4", 8, 6), ("AD4Q", 31, 7), ("SLXD4D", 31, 7)],
)
async def test_it_pads_names_in_braces_and_numbers_with_zeros(
    start_sim, wires, model, name_width, frequency_digits
):
    sim = await start_sim(model, seed=1)
    wire = await wires(sim)
    channel = sim.device_info().channels[0]
    wire.send("< GET 1 CHAN_NAME >< GET 1 FREQUENCY >")
    name = await wire.frame()
    frequency = await wire.frame()
    assert name == f"REP 1 CHAN_NAME {{{channel.name.ljust(name_width)}}}"
    assert frequency == f"REP 1 FREQUENCY {channel.frequency_khz:0{frequency_digits}d}"


@pytest.mark.parametrize(
    "command",
    [
        "< HELLO >",
        "< GET >",
        "< GET 9 CHAN_NAME >",
        "< SET 1 METER_RATE 00050 >",
        "< SET 1 CHAN_NAME {TooLongName} >",
        "< SET 1 BATT_BARS 003 >",
        "< SET 1 AUDIO_GAIN 099 >",
    ],
)
async def test_it_answers_bad_commands_with_rep_err(start_sim, wires, command):
    wire = await wires(await start_sim("ULXD4D"))
    wire.send(command)
    assert await wire.frame() == "REP ERR"


@pytest.mark.parametrize(
    ("model", "lacking", "present"),
    [
        ("ULXD4Q", "< GET 1 TX_BATT_BARS >< GET MODEL >", "BATT_BARS"),
        (
            "SLXD4D",
            "< GET 1 AUDIO_MUTE >< SET 1 AUDIO_MUTE ON >< GET HIGH_DENSITY >",
            "TX_BATT_BARS",
        ),
        ("AD4D", "< GET 1 BATT_RUN_TIME >< GET 1 RSSI 3 >", "TX_BATT_BARS"),
        (
            "QLXD4",  # none of the ULX-D extras; unknown commands get silence, not ERR
            "< GET 1 RF_INT_DET >< GET HIGH_DENSITY >< GET AUDIO_SUMMING_MODE >"
            "< GET FREQUENCY_DIVERSITY_MODE >< SET 1 RF_INT_DET NONE >< GET 1 TX_BATT_BARS >",
            "BATT_BARS",
        ),
    ],
)
async def test_it_stays_silent_about_parameters_the_family_lacks(
    start_sim, wires, model, lacking, present
):
    wire = await wires(await start_sim(model))
    wire.send(f"{lacking}< GET 1 {present} >")
    assert (await wire.frame()).startswith(f"REP 1 {present} ")


@pytest.mark.parametrize(
    ("model", "width"), [("ULXD4", 18), ("AD4D", 24), ("SLXD4", 24), ("SLXD4Q+", 24)]
)
async def test_it_pads_the_firmware_version_as_wide_as_the_device(start_sim, wires, model, width):
    sim = await start_sim(model)
    wire = await wires(sim)
    wire.send("< GET FW_VER >")
    assert await wire.frame() == f"REP FW_VER {{{sim.spec.firmware.ljust(width)}}}"


@pytest.mark.parametrize("model", ["AD4D", "SLXD4D", "SLXD4D+"])
async def test_it_braces_the_group_and_channel(start_sim, wires, model):
    wire = await wires(await start_sim(model))
    wire.send("< GET 2 GROUP_CHANNEL >")
    assert await wire.frame() == "REP 2 GROUP_CHANNEL {--,--}"


async def test_get_n_all_dumps_the_device_values_and_that_channel(start_sim, wires):
    wire = await wires(await start_sim("SLXD4D"))
    wire.send("< GET 2 ALL >< HELLO >")
    dump = []
    while (body := await wire.frame()) != "REP ERR":
        dump.append(body)
    params = {tuple(body.split()[1:3]) for body in dump}
    assert {("MODEL", "{SLXD4D"), ("RF_BAND", "G57")} <= params
    assert any(body.startswith("REP FW_VER ") for body in dump)
    assert ("2", "CHAN_NAME") in params
    assert ("1", "CHAN_NAME") not in params


async def test_an_axient_channel_with_no_transmitter_meters_like_the_real_capture(start_sim, wires):
    sim = await start_sim("AD4D", seed=3)
    sim.set_tx_power(1, on=False)
    wire = await wires(sim)
    wire.send("< SET 1 METER_RATE 00100 >")
    sample = (await wire.frame(_startswith("SAMPLE 1 ALL"), "a sample")).split()[3:]
    # karlcswanson/micboard docs/api.md: 255 000 005 033 XX 00 011 00 012
    assert sample[:5] == ["255", "000", "005", "033", "XX"]
    assert sample[5] == sample[7] == "00"
    assert all(105 <= 120 - int(raw) <= 110 for raw in (sample[6], sample[8]))


async def test_get_all_dumps_the_device_and_every_channel(start_sim, wires):
    wire = await wires(await start_sim("AD4D"))
    wire.send("< GET 0 ALL >< HELLO >")  # the error marks the end of the dump
    dump = []
    while (body := await wire.frame()) != "REP ERR":
        dump.append(body)
    params = {tuple(body.split()[1:3]) for body in dump}
    assert {("MODEL", "{AD4D-A"), ("RF_BAND", "G57")} <= params
    for channel in ("1", "2"):
        for name in ("CHAN_NAME", "TX_BATT_BARS", "TX_BATT_MINS", "TX_MODEL", "CHAN_QUALITY"):
            assert (channel, name) in params


async def test_metering_streams_every_channel_until_switched_off(start_sim, wires):
    wire = await wires(await start_sim("ULXD4D"))
    wire.send("< SET 0 METER_RATE 00100 >")
    assert await wire.frame() == "REP 1 METER_RATE 00100"
    assert await wire.frame() == "REP 2 METER_RATE 00100"
    samples = [await wire.frame(_startswith("SAMPLE"), "a meter sample") for _ in range(10)]
    # One sample per channel per tick, in channel order (the rate: bench/bench_rates.py).
    assert [body.split()[1] for body in samples] == ["1", "2"] * 5
    wire.send("< SET 0 METER_RATE 00000 >")
    await wire.frame(_startswith("REP 2 METER_RATE 00000"), "metering off on channel 2")
    assert not [body for body in await wire.frames_during(0.3) if body.startswith("SAMPLE")]


async def test_changes_are_pushed_without_being_asked(start_sim, wires):
    sim = await start_sim("ULXD4Q")
    wire = await wires(sim)
    await wait_until_async(lambda: sim.connection_count == 1, 5.0, "one client connected")
    sim.set_battery(3, bars=2)
    assert await wire.frame() == "REP 3 BATT_BARS 002"
    sim.set_channel_name(3, "Bishop")
    renamed = await wire.frame(_startswith("REP 3 CHAN_NAME"), "channel 3 renamed")
    assert renamed == "REP 3 CHAN_NAME {Bishop  }"
    sim.set_tx_power(3, on=False)
    expected = {"REP 3 TX_TYPE UNKN", "REP 3 BATT_BARS 255", "REP 3 BATT_RUN_TIME 65535"}
    while expected:
        expected.discard(await wire.frame())


async def test_runtime_reads_calculating_after_power_on_then_ticks_down(start_sim, wires):
    sim = await start_sim("ULXD4", time_scale=600.0)  # ten simulated minutes per second
    wire = await wires(sim)
    wire.send("< GET 1 BATT_RUN_TIME >")
    assert await wire.frame() == "REP 1 BATT_RUN_TIME 65534"
    first, second = [
        await wire.frame(_startswith("REP 1 BATT_RUN_TIME"), "a runtime", within=3.0)
        for _ in range(2)
    ]
    assert 0 < int(second.split()[-1]) < int(first.split()[-1]) < 65533


async def test_battery_bars_step_down_as_the_battery_drains(start_sim, wires):
    sim = await start_sim("AD4D", time_scale=2 * 3600.0)  # 18 % per second: one bar at most
    wire = await wires(sim)
    wire.send("< GET 1 TX_BATT_BARS >")
    start = int((await wire.frame()).split()[-1])
    stepped = await wire.frame(_startswith("REP 1 TX_BATT_BARS"), "a bar less", within=4.0)
    assert int(stepped.split()[-1]) == start - 1


async def test_a_psm1000_acts_on_crlf_and_answers_with_report(start_sim, wires):
    sim = await start_sim("P10T", seed=2)
    wire = await wires(sim)
    wire.send("< GET 1 CHAN_NAME >")
    assert await wire.frames_during(0.3) == []
    wire.send("\r\n< SET 1 METER_RATE 100 >\r\n")
    name = sim.device_info().channels[0].name
    assert await wire.frame() == f"REPORT 1 CHAN_NAME {name}"
    assert await wire.frame() == "REPORT 1 METER_RATE 100"
    level = await wire.frame(_startswith("REPORT 1 AUDIO_IN_LVL_L"), "an audio level")
    assert len(level.split()[-1]) == 11
    raw = await wire.reader.read(65536)
    assert raw.endswith(b">\r\n")


async def test_a_psm1000_has_no_channel_zero(start_sim, wires):
    sim = await start_sim("P10T")
    wire = await wires(sim)
    wire.send("< SET 0 METER_RATE 0 >\r\n")
    assert await wire.frame() == "REPORT ERR"


async def test_an_slxd_ignores_everything_without_controller_access(start_sim, wires):
    sim = await start_sim("SLXD4")
    wire = await wires(sim)
    sim.set_controller_access(False)
    wire.send("< GET 1 CHAN_NAME >< SET 1 METER_RATE 00100 >")
    assert await wire.frames_during(0.3) == []
    sim.set_controller_access(True)
    wire.send("< GET 1 TX_TYPE >")
    assert await wire.frame() == "REP 1 TX_TYPE SLXD2"


async def test_a_pulled_cable_stalls_old_connections_and_resets_new_ones(start_sim, wires):
    sim = await start_sim("ULXD4D")
    old = await wires(sim)
    sim.set_reachable(False)
    old.send("< GET 1 BATT_BARS >")
    assert await old.frames_during(0.3) == []
    new = await wires(sim)
    with contextlib.suppress(ConnectionError):
        assert await new.reader.read(100) == b""
    sim.set_reachable(True)
    old.send("< GET 2 BATT_BARS >")
    assert (await old.frame()).startswith("REP 2 BATT_BARS")


async def test_it_writes_many_frames_per_send_and_splits_some(start_sim, wires):
    quiet = await wires(await start_sim("AD4Q"))
    quiet.send("< GET 0 ALL >")
    assert (await quiet.reader.read(65536)).count(b">") > 50
    noisy = await wires(await start_sim("AD4Q", faults=FaultRates(split_frame=1e9)))
    noisy.send("< SET 0 METER_RATE 00100 >")
    reads = [await noisy.reader.read(65536) for _ in range(6)]
    assert any(not chunk.endswith(b">") for chunk in reads)


async def test_the_same_seed_makes_the_same_device(start_sim):
    first, again, other = [await start_sim("AD4Q", seed=s) for s in (11, 11, 12)]
    assert first.device_info().channels == again.device_info().channels
    assert first.device_info().channels != other.device_info().channels


async def test_a_fleet_runs_many_receivers_in_one_process():
    async with SimulatorFleet(5, "ULXD4D", seed=20) as fleet:
        ports = {device.port for device in fleet.devices}
        wire = await Wire.open(fleet.devices[4])
        wire.send("< GET DEVICE_ID >")
        assert await wire.frame() == "REP DEVICE_ID {RX000024}"
        await wire.close()
    assert len(ports) == 5


async def test_a_slow_answer_arrives_late_but_arrives(start_sim, wires):
    sim = await start_sim(
        "AD4D", faults=FaultRates(slow_answer=1e9), slow_answer_seconds=(0.4, 0.5)
    )
    wire = await wires(sim)
    loop = asyncio.get_running_loop()
    asked = loop.time()
    wire.send("< GET 1 TX_MODEL >")
    assert await wire.frame() == "REP 1 TX_MODEL AD2"
    assert loop.time() - asked >= 0.4


async def test_scheduled_faults_strike_on_their_own(start_sim, wires):
    cycling = await start_sim("ULXD4", faults=FaultRates(tx_power_cycle=1e9))
    wire = await wires(cycling)
    wire.send("< GET 1 TX_TYPE >")
    assert await wire.frame() == "REP 1 TX_TYPE UNKN"
    pulled = await start_sim("ULXD4", faults=FaultRates(rx_unreachable=1e9))
    refused = await wires(pulled)
    with contextlib.suppress(ConnectionError):
        assert await refused.reader.read(100) == b""
    assert pulled.fault_counts["rx_unreachable"] >= 1


async def test_channels_take_the_names_they_are_given(start_sim, wires):
    sim = await start_sim("ULXD4D", channel_names=["Lead Vocal", "Keys"])
    assert [c.name for c in sim.device_info().channels] == ["Lead Voc", "Keys"]
    wire = await wires(sim)
    wire.send("< GET 1 CHAN_NAME >")
    assert await wire.frame() == "REP 1 CHAN_NAME {Lead Voc}"


async def test_garbage_on_cue_lands_between_whole_frames(start_sim, wires):
    sim = await start_sim("ULXD4")
    wire = await wires(sim)
    await wait_until_async(lambda: sim.connection_count == 1, 5.0, "one client connected")
    sim.send_garbage()
    wire.send("< GET 1 TX_TYPE >")
    raw = bytearray()

    async def answered() -> bool:
        raw.extend(await wire.reader.read(65536))
        return raw.endswith(b"TX_TYPE ULXD2 >")

    await wait_until_async(answered, 2.0, "the TX_TYPE answer after the junk", interval=0)
    assert len(raw) > len(b"< REP 1 TX_TYPE ULXD2 >")
    assert FrameSplitter().feed(raw)[-1] == "REP 1 TX_TYPE ULXD2"
