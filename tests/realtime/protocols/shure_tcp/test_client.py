"""The client against the real simulator over loopback TCP: what a dashboard would see."""

from __future__ import annotations

import contextlib

import pytest

from realtime.protocols.base import Reading
from realtime.protocols.shure_tcp import DiscoveryError
from realtime.simulation.base import FaultRates
from tests.waiting import wait_until_async

MODEL_CHANNELS = [
    ("ULXD4", 1),
    ("ULXD4D", 2),
    ("ULXD4Q", 4),
    ("QLXD4", 1),
    ("AD4D", 2),
    ("AD4Q", 4),
    ("SLXD4", 1),
    ("SLXD4D", 2),
    ("SLXD4+", 1),
    ("SLXD4D+", 2),
    ("SLXD4Q+", 4),
    ("SLXD4DAN+", 2),
    ("SLXD4QDAN+", 4),
    ("P10T", 2),
]


def _live(reading: Reading) -> bool:
    return reading.rx_reachable and reading.rf_a_dbm is not None


@pytest.mark.parametrize(("model", "channels"), MODEL_CHANNELS)
async def test_discovery_finds_the_model_and_its_channels(start_sim, open_client, model, channels):
    sim = await start_sim(model, seed=7)
    info = await open_client(sim).discover()
    assert info.model == model
    assert len(info.channels) == channels
    assert info == sim.device_info()  # names, frequencies, device id, firmware


@pytest.mark.parametrize("interval_ms", [100, 200])
async def test_it_asks_for_its_metering_interval_and_every_channel_keeps_metering(
    start_sim, open_client, streams, interval_ms
):
    # How many readings a second that makes is measured in bench/bench_rates.py.
    sim = await start_sim("ULXD4Q", seed=2)
    stream = streams(open_client(sim, model="ULXD4Q", meter_interval_ms=interval_ms))
    for _ in range(3):
        await stream.all_channels(4, _live, "another round of live meters")
    sent = {body for _, body in sim.commands}
    assert {f"SET {n} METER_RATE {interval_ms:05d}" for n in range(1, 5)} <= sent


async def test_readings_carry_the_receivers_values(start_sim, open_client, streams):
    sim = await start_sim("AD4Q", seed=3)
    stream = streams(open_client(sim, model="AD4Q-A"))  # as written on the chassis
    first = await stream.all_channels(
        4, lambda r: _live(r) and r.battery_bars is not None, "live meters and a battery"
    )
    for channel in sim.device_info().channels:
        reading = first[channel.number]
        assert (reading.channel_name, reading.frequency_khz) == (
            channel.name,
            channel.frequency_khz,
        )
        assert (reading.tx_on, reading.tx_model, reading.battery_type) == (True, "AD2", "LION")
        assert -120.0 <= reading.rf_a_dbm <= 0.0
        assert reading.rf_b_dbm is not None
        assert reading.antenna in ("A", "B")
        assert reading.rf_quality is not None
        assert reading.audio_peak_dbfs is not None


@pytest.mark.parametrize(("model", "percent"), [("ULXD4Q", 10), ("AD4D", 10), ("SLXD4D", None)])
async def test_a_battery_set_on_the_receiver_shows_in_the_next_reading(
    start_sim, open_client, streams, model, percent
):
    sim = await start_sim(model, seed=4)
    stream = streams(open_client(sim, model=model))
    await stream.until(
        lambda r: r.channel == 2 and r.battery_bars is not None, "a battery on channel 2"
    )
    sim.set_battery(2, bars=1, minutes=42)
    reading = await stream.until(
        lambda r: r.channel == 2 and r.battery_bars == 1,
        "battery of channel 2 at 1 bar",
        within=1.0,
    )
    assert (reading.battery_minutes, reading.battery_percent) == (42, percent)


@pytest.mark.parametrize("model", ["AD4Q", "SLXD4Q+"])  # SLX-D+ says so in LINK_STATUS
async def test_a_transmitter_switched_off_reads_as_off(start_sim, open_client, streams, model):
    sim = await start_sim(model, seed=5)
    stream = streams(open_client(sim, model=model))
    await stream.until(
        lambda r: r.channel == 3 and _live(r) and r.battery_bars is not None,
        "live meters and a battery on channel 3",
    )
    sim.set_tx_power(3, on=False)
    off = await stream.until(lambda r: r.channel == 3 and r.tx_on is False, "channel 3 off")
    later = [await stream.until(lambda r: r.channel == 3, "channel 3") for _ in range(5)]
    for reading in (off, *later):
        assert reading.tx_on is False
        assert (reading.battery_bars, reading.battery_minutes, reading.battery_percent) == (
            None,
            None,
            None,
        )
        assert (reading.rf_a_dbm, reading.rf_b_dbm, reading.rf_quality) == (None, None, None)
        assert (reading.audio_rms_dbfs, reading.audio_peak_dbfs) == (None, None)
    sim.set_tx_power(3, on=True)
    on = await stream.until(
        lambda r: r.channel == 3 and r.tx_on and _live(r) and r.battery_bars,
        "channel 3 back on, live, with a battery",
    )
    assert on.battery_minutes is None  # runtime is "calculating" right after power-on


@pytest.mark.parametrize("model", ["ULXD4D", "SLXD4D+", "P10T"])
async def test_a_channel_renamed_on_the_front_panel_arrives_in_the_next_reading(
    start_sim, open_client, streams, model
):
    sim = await start_sim(model, seed=4)
    stream = streams(open_client(sim, model=model))
    await stream.all_channels(2, lambda r: bool(r.channel_name), "named channels")
    sim.set_channel_name(2, "Bishop")
    renamed = await stream.until(lambda r: r.channel == 2 and r.channel_name == "Bishop", "rename")
    assert renamed.rx_reachable


async def test_a_pulled_receiver_reads_unreachable_and_recovers(start_sim, open_client, streams):
    sim = await start_sim("ULXD4Q", seed=6)
    stream = streams(open_client(sim, model="ULXD4Q"))
    await stream.all_channels(4, _live, "live meters")
    sim.set_reachable(False)
    down = await stream.all_channels(4, lambda r: not r.rx_reachable, "unreachable", within=5.0)
    assert all(r.rf_a_dbm is None and r.channel_name for r in down.values())
    sim.set_reachable(True)
    up = await stream.all_channels(4, _live, "live meters again", within=5.0)
    assert all(r.battery_bars is not None for r in up.values())


async def test_a_rebooting_receiver_comes_back_by_itself(start_sim, open_client, streams):
    sim = await start_sim("ULXD4D", seed=8, reboot_seconds=0.3)
    stream = streams(open_client(sim, model="ULXD4D"))
    await stream.all_channels(2, _live, "live meters")
    sim.reboot()
    await stream.all_channels(2, lambda r: not r.rx_reachable, "unreachable")
    await stream.all_channels(2, _live, "live meters again", within=5.0)


async def test_a_receiver_that_refuses_connections_reads_unreachable(
    start_sim, open_client, streams
):
    sim = await start_sim("SLXD4D")
    client = open_client(sim, model="SLXD4D")
    await sim.stop()
    down = await streams(client).all_channels(2, lambda r: not r.rx_reachable, "unreachable")
    assert sorted(down) == [1, 2]


async def test_garbage_and_split_frames_are_survived(start_sim, open_client, streams):
    noisy = FaultRates(malformed_frame=1e9, split_frame=1e9)  # on every write
    sim = await start_sim("ULXD4Q", seed=9, faults=noisy)
    stream = streams(open_client(sim, model="ULXD4Q"))
    await stream.all_channels(4, _live, "live meters")
    sim.set_battery(4, bars=2, minutes=77)
    await stream.until(
        lambda r: r.channel == 4 and r.battery_minutes == 77, "77 minutes left on channel 4"
    )
    readings = [
        await stream.until(lambda r: True, "a reading through the noise") for _ in range(40)
    ]
    names = {c.number: c.name for c in sim.device_info().channels}
    assert all(r.channel_name == names[r.channel] and r.rx_reachable for r in readings)
    assert all(r.rf_a_dbm is not None and -128 <= r.rf_a_dbm <= -13 for r in readings)
    assert sim.fault_counts["malformed_frame"] > 10
    assert sim.fault_counts["split_frame"] > 10


async def test_frames_split_across_writes_still_make_whole_readings(
    start_sim, open_client, streams
):
    sim = await start_sim("ULXD4", faults=FaultRates(split_frame=1e9))  # every write split
    stream = streams(open_client(sim, model="ULXD4"))
    meters = [await stream.until(_live, "a live meter from split writes") for _ in range(10)]
    assert all(-128 <= r.rf_a_dbm <= -13 and r.audio_rms_dbfs is not None for r in meters)
    assert sim.fault_counts["split_frame"] >= len(meters)


async def test_close_turns_metering_off_before_hanging_up(start_sim, open_client, streams):
    sim = await start_sim("ULXD4D")
    client = open_client(sim, model="ULXD4D")
    stream = streams(client)
    await stream.all_channels(2, _live, "live meters")
    await client.close()
    await wait_until_async(stream.task.done, 2.0, "readings() ending by itself")
    await wait_until_async(lambda: sim.connection_count == 0, 5.0, "the client hung up")
    session = max(ident for ident, _ in sim.commands)
    sent = [body for ident, body in sim.commands if ident == session]
    assert sent[-1] == "SET 0 METER_RATE 00000"
    assert "SET 1 METER_RATE 00100" in sent


async def test_leaving_the_readings_loop_also_turns_metering_off(start_sim, open_client):
    sim = await start_sim("QLXD4")
    async with contextlib.aclosing(open_client(sim, model="QLXD4").readings()) as readings:
        async for reading in readings:
            if _live(reading):
                break
    await wait_until_async(lambda: sim.connection_count == 0, 5.0, "the client hung up")
    assert sim.commands[-1][1] == "SET 0 METER_RATE 00000"


def _last_session_commands(sim) -> list[str]:
    session = max(ident for ident, _ in sim.commands)
    return [body for ident, body in sim.commands if ident == session]


async def test_cancelling_the_readings_task_turns_metering_off_first(
    start_sim, open_client, streams
):
    sim = await start_sim("QLXD4")
    stream = streams(open_client(sim, model="QLXD4", meter_interval_ms=300))
    await stream.until(_live, "live meters")
    await stream.stop()  # cancels the task that runs readings()
    await wait_until_async(lambda: sim.connection_count == 0, 5.0, "the client hung up")
    sent = _last_session_commands(sim)
    assert sent[-1] == "SET 0 METER_RATE 00000"
    assert "SET 1 METER_RATE 00300" in sent


async def test_an_error_in_the_caller_still_turns_metering_off(start_sim, open_client):
    sim = await start_sim("SLXD4D+")

    async def place_the_first_live_reading() -> None:
        async with contextlib.aclosing(open_client(sim, model="SLXD4D+").readings()) as readings:
            async for reading in readings:
                if _live(reading):
                    raise LookupError("the dashboard could not place this reading")

    with pytest.raises(LookupError):
        await place_the_first_live_reading()
    await wait_until_async(lambda: sim.connection_count == 0, 5.0, "the client hung up")
    assert _last_session_commands(sim)[-1] == "SET 0 METER_RATE 00000"


async def test_an_slxd_without_controller_access_reads_unreachable_until_allowed(
    start_sim, open_client, streams
):
    sim = await start_sim("SLXD4D")
    sim.set_controller_access(False)
    with pytest.raises(DiscoveryError):
        await open_client(sim, discovery_timeout=0.3).discover()
    stream = streams(open_client(sim, model="SLXD4D"))
    await stream.all_channels(2, lambda r: not r.rx_reachable, "unreachable")
    sim.set_controller_access(True)
    await stream.all_channels(2, _live, "live meters again", within=5.0)


async def test_a_psm1000_reports_levels_and_rf_mute(start_sim, open_client, streams):
    sim = await start_sim("P10T", seed=10)
    stream = streams(open_client(sim))  # no model hint: discovered through REPORT + CRLF
    levels = await stream.all_channels(2, lambda r: r.audio_rms_dbfs is not None, "audio levels")
    assert all(r.tx_on and r.channel_name and r.frequency_khz for r in levels.values())
    assert all(r.rf_power_mw == 50 for r in levels.values())  # its RF output, mW
    sim.set_tx_power(2, on=False)
    muted = await stream.until(lambda r: r.channel == 2 and r.tx_on is False, "channel 2 off")
    assert muted.audio_rms_dbfs is None


async def test_a_psm1000_meters_each_channel_unpadded_and_switches_each_off(
    start_sim, open_client, streams
):
    sim = await start_sim("P10T", seed=11)
    client = open_client(sim, model="P10T", meter_interval_ms=250)
    stream = streams(client)
    await stream.all_channels(2, lambda r: r.audio_rms_dbfs is not None, "audio levels")
    await client.close()
    await wait_until_async(lambda: sim.connection_count == 0, 5.0, "the client hung up")
    sets = [body for _, body in sim.commands if body.startswith("SET")]
    assert sets == [
        "SET 1 METER_RATE 250",
        "SET 2 METER_RATE 250",
        "SET 1 METER_RATE 0",
        "SET 2 METER_RATE 0",
    ]


async def test_two_clients_meter_one_receiver_independently(start_sim, open_client, streams):
    sim = await start_sim("ULXD4D")
    leaving, staying = open_client(sim, model="ULXD4D"), open_client(sim, model="ULXD4D")
    stream = streams(staying)
    left = streams(leaving)
    await left.all_channels(2, _live, "live meters")
    await stream.all_channels(2, _live, "live meters")
    await leaving.close()
    await wait_until_async(lambda: sim.connection_count == 1, 5.0, "one client connected")
    sim.set_battery(1, bars=2)  # a push after the other client left marks where the stream is
    await stream.until(lambda r: r.channel == 1 and r.battery_bars == 2, "the change")
    await stream.all_channels(2, _live, "live meters after the other client left")


async def test_a_muted_transmitter_reads_muted_with_its_audio_at_the_floor(
    start_sim, open_client, streams
):
    sim = await start_sim("ULXD4D", seed=12)
    stream = streams(open_client(sim, model="ULXD4D"))
    await stream.until(lambda r: r.channel == 1 and r.tx_muted is False, "channel 1 unmuted")
    sim.set_tx_mute(1, muted=True)
    await stream.until(lambda r: r.channel == 1 and r.tx_muted is True, "channel 1 muted")
    after = await stream.until(
        lambda r: r.channel == 1 and r.audio_rms_dbfs is not None, "audio on channel 1"
    )
    assert after.audio_rms_dbfs == -50.0  # the bottom of the ULX-D meter
