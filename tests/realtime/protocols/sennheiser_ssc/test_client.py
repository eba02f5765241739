"""Drive the SSCv2 client against the real simulator over TLS on loopback."""

from __future__ import annotations

import ssl

import pytest

from realtime.protocols.base import Reading
from realtime.protocols.sennheiser_ssc.client import SscAuthError
from realtime.simulation.base import FaultRates
from tests.waiting import wait_until_async

ALL_FOUR = {1, 2, 3, 4}
PUSH_INTERVAL = 0.05


def has_live_meters(reading: Reading) -> bool:
    """Tell whether a reading carries plausible live RF and audio values."""
    rssi, quality, audio = reading.rf_a_dbm, reading.rf_quality, reading.audio_rms_dbfs
    return (
        rssi is not None
        and -107 <= rssi <= 0
        and quality is not None
        and 0 <= quality <= 100
        and reading.antenna in ("A", "B")
        and audio is not None
        and -138.5 <= audio <= 0
    )


@pytest.mark.parametrize(
    ("model", "channels"),
    [("EW-DX EM 2", 2), ("EW-DX EM 2 DANTE", 2), ("EW-DX EM 4 DANTE", 4)],
)
async def test_it_discovers_the_model_and_its_channels(start_simulator, connect, model, channels):
    simulator = await start_simulator(model, seed=3)

    info = await connect(simulator).discover()

    assert info == simulator.device_info()
    assert info.model == model
    assert [channel.number for channel in info.channels] == list(range(1, channels + 1))
    assert all(channel.frequency_khz and channel.name for channel in info.channels)


async def test_it_yields_live_readings_push_after_push(start_simulator, connect, feed):
    simulator = await start_simulator(push_interval=PUSH_INTERVAL)
    readings = feed(connect(simulator))
    await readings.until(lambda r: r.channel == 1, "channel 1")

    first_channel = [
        await readings.until(lambda r: r.channel == 1, "another push on channel 1")
        for _ in range(20)
    ]

    assert all(r.rx_reachable and r.tx_on for r in first_channel)
    assert all(map(has_live_meters, first_channel)), first_channel
    assert len({r.rf_a_dbm for r in first_channel}) > 1, "RSSI should jitter from push to push"


async def test_it_shows_a_battery_set_on_the_receiver(start_simulator, connect, feed):
    simulator = await start_simulator()
    readings = feed(connect(simulator))
    await readings.until(lambda r: r.channel == 3, "channel 3")

    simulator.set_battery(3, percent=37, minutes=250)
    reading = await readings.until(
        lambda r: r.channel == 3 and r.battery_percent == 37, "battery of channel 3 at 37 %"
    )
    simulator.set_battery(2, bars=1)
    low = await readings.until(
        lambda r: r.channel == 2 and r.battery_bars == 1, "battery of channel 2 at 1 bar"
    )

    assert (reading.battery_bars, reading.battery_minutes, reading.battery_type) == (2, 250, "LION")
    assert low.battery_percent == 20


async def test_it_shows_the_battery_draining_over_a_show(start_simulator, connect, feed):
    simulator = await start_simulator("EW-DX EM 2", time_scale=7200)  # two hours a second
    readings = feed(connect(simulator))
    # Only once subscribed is the fresh pack pushed for sure: a tick drains it below 100 %
    # within 50 ms, and the device pushes changes only, never a value that has gone.
    await readings.until(lambda r: r.channel == 1, "channel 1")
    simulator.set_battery(1, percent=100)
    full = await readings.until(
        lambda r: r.channel == 1 and r.battery_percent == 100, "a full battery on channel 1"
    )

    later = await readings.until(
        lambda r: r.channel == 1 and r.battery_percent <= 90, "channel 1 drained to 90 %"
    )

    assert full.battery_minutes == 720, "a full BA 70 runs about 12 h"
    assert later.battery_minutes is not None
    assert later.battery_minutes < full.battery_minutes
    assert abs(later.battery_minutes - 7.2 * later.battery_percent) <= 8


async def test_it_reads_a_transmitter_turned_off_as_off(start_simulator, connect, feed):
    simulator = await start_simulator()
    readings = feed(connect(simulator))
    await readings.until(lambda r: r.channel == 2 and r.tx_on, "channel 2 on")

    simulator.set_tx_power(2, on=False)
    off = await readings.until(lambda r: r.channel == 2 and r.tx_on is False, "channel 2 off")
    simulator.set_tx_power(2, on=True)
    back = await readings.until(lambda r: r.channel == 2 and r.tx_on is True, "channel 2 on again")

    assert (off.battery_percent, off.battery_bars, off.tx_model) == (None, None, None)
    assert (off.rf_a_dbm, off.rf_quality, off.antenna) == (-107.0, 0, None)
    assert off.rx_reachable is True
    assert back.battery_percent is not None
    assert back.battery_minutes is None, "a freshly powered pack is still calculating"


async def test_it_reports_an_unplugged_receiver_and_recovers_by_itself(
    start_simulator, connect, feed
):
    simulator = await start_simulator()
    readings = feed(connect(simulator))
    await readings.channels_until(lambda r: r.rx_reachable, ALL_FOUR, "reachable")

    simulator.set_reachable(False)
    await readings.channels_until(lambda r: not r.rx_reachable, ALL_FOUR, "unreachable", within=5.0)
    simulator.set_reachable(True)
    await readings.channels_until(lambda r: r.rx_reachable, ALL_FOUR, "reachable again", within=5.0)

    assert simulator.session_count == 1


async def test_it_comes_back_after_a_reboot(start_simulator, connect, feed):
    simulator = await start_simulator("EW-DX EM 2", reboot_seconds=0.5)
    readings = feed(connect(simulator))
    await readings.channels_until(lambda r: r.rx_reachable, {1, 2}, "reachable")

    await simulator.reboot()
    await readings.channels_until(lambda r: not r.rx_reachable, {1, 2}, "unreachable")
    await readings.channels_until(lambda r: r.rx_reachable, {1, 2}, "reachable again")

    assert simulator.sessions_opened >= 2
    assert simulator.session_count == 1


async def test_it_keeps_a_quiet_but_healthy_stream(start_simulator, connect, feed):
    simulator = await start_simulator(push_interval=3600)  # nothing changes on its own
    readings = feed(connect(simulator, silence_timeout=0.2))
    await readings.channels_until(lambda r: r.rx_reachable, ALL_FOUR, "reachable")

    await readings.none_within(lambda r: True, seconds=0.7)
    simulator.set_battery(1, percent=55)
    reading = await readings.until(lambda r: r.channel == 1, "the change on channel 1")

    assert (reading.battery_percent, reading.rx_reachable) == (55, True)
    assert simulator.sessions_opened == 1


async def test_it_survives_malformed_and_split_sse_frames(start_simulator, connect, feed):
    faults = FaultRates(malformed_frame=1e9, split_frame=1e9)  # on every tick
    simulator = await start_simulator(faults=faults)
    readings = feed(connect(simulator))
    for _ in range(40):
        assert (await readings.next()).rx_reachable

    simulator.set_battery(4, percent=12, minutes=80)
    reading = await readings.until(
        lambda r: r.channel == 4 and r.battery_percent == 12, "battery of channel 4 at 12 %"
    )

    assert reading.battery_minutes == 80
    assert simulator.sessions_opened == 1


async def test_it_keeps_the_channels_a_smaller_replacement_receiver_still_has(
    start_simulator, connect, feed
):
    original = await start_simulator("EW-DX EM 4 DANTE")
    assert original.ca is not None
    readings = feed(connect(original))
    await readings.channels_until(lambda r: r.rx_reachable, ALL_FOUR, "reachable")

    # Someone swaps in an EM 2 on the same address (and certificate) mid-show.
    await original.stop()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    original.ca.issue_cert(original.host).configure_cert(server_tls)
    await start_simulator("EW-DX EM 2", port=original.port, ssl_context=server_tls, seed=5)
    reading = await readings.until(
        lambda r: r.rx_reachable and r.channel == 2, "channel 2 from the replacement"
    )

    assert reading.tx_on is True
    assert reading.rf_a_dbm is not None


async def test_it_refuses_a_wrong_password_clearly(start_simulator, connect):
    simulator = await start_simulator()
    client = connect(simulator, password="Wrong-Password-9!")

    with pytest.raises(SscAuthError, match="password for user 'api'"):
        await client.discover()
    with pytest.raises(SscAuthError):
        await anext(client.readings())


async def test_it_ends_its_session_on_close(start_simulator, connect, feed):
    simulator = await start_simulator()
    client = connect(simulator)
    readings = feed(client)
    await readings.next()
    assert simulator.session_count == 1

    await client.close()
    await wait_until_async(readings.task.done, 2.0, "readings() ending by itself")

    assert simulator.sessions_deleted == 1
    assert simulator.session_count == 0
