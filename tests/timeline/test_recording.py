"""The recorder: a running show's readings become per-second and per-10 s points in the
database, without the poller ever waiting on it, and old points are pruned."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command

from micboard.models import Organization
from micboard.timeline import query, store
from micboard.timeline.codec import MISSING, POINTS, ReadingsRow, Span, decode, encode, merge
from micboard.timeline.models import ReadingChunk, Resolution, SampleChunk, UnitEvent
from realtime.poller.recorder import QUEUE_SECONDS, Recorder
from realtime.units.state import UnitState
from tests.factories import make_receiver
from tests.realtime.conftest import build_live_stage
from tests.waiting import wait_until_async

BATTERY, RF_A, AUDIO = 3, 0, 2  # lanes (codec.LANES)


def _points(unit_id: int, resolution: int = Resolution.SECOND) -> list[tuple[int, tuple]]:
    now = int(time.time())
    return [(s, p) for _, s, p in store.read_points([unit_id], resolution, now - 600, now + 60)]


@pytest.mark.django_db(transaction=True)
async def test_it_records_each_second_and_a_dropout_as_a_gap(
    simulators, recording_pollers, live_settings
):
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    unit = stage.units[0]
    simulator.set_battery(1, bars=4, percent=80)
    poller = recording_pollers()
    read = database_sync_to_async(_points)

    async def heard_with_battery() -> list:
        points = await read(unit.id)
        return [p for _, p in points if p[BATTERY] and p[BATTERY].mean == 80 and p[RF_A]]

    heard = await wait_until_async(heard_with_battery, 10, "seconds with RF and 80 % saved")
    assert heard[0][RF_A].low <= heard[0][RF_A].mean <= heard[0][RF_A].high
    assert heard[0][AUDIO] is not None

    simulator.set_tx_power(1, on=False)
    off_at = time.time()

    def off_for_three_seconds() -> bool:
        state = poller.trackers[unit.id].state
        return state is not None and state.tx_on is False and state.ts >= off_at + 3

    await wait_until_async(off_for_three_seconds, 10, "the poller restating the pack off")
    simulator.set_tx_power(1, on=True)
    on_at = time.time()

    async def heard_again() -> list:
        return [s for s, p in await read(unit.id) if s > on_at and p[RF_A]]

    await wait_until_async(heard_again, 10, "RF saved again after the pack came back")
    during = [s for s, _ in await read(unit.id) if off_at + 1 < s < on_at - 1]
    assert during == [], "the seconds the pack was off have no RF or battery: a gap"
    tens = await read(unit.id, Resolution.TEN_SECONDS)
    assert any(p[BATTERY] and p[BATTERY].mean == 80 for _, p in tens), "10 s points follow"


@pytest.mark.django_db(transaction=True)
async def test_every_reading_is_kept_at_full_rate_and_drawn_when_zoomed_in_close(
    simulators, recording_pollers, live_settings
):
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    unit = stage.units[0]
    recording_pollers()
    since = int(time.time())

    async def zoomed_in() -> dict | None:
        now = time.time()  # a minute's view: the page draws every reading
        body = await database_sync_to_async(query.lanes)([unit.id], since, since + 60, now)
        lanes = body["units"].get(str(unit.id))
        # Several readings a second (the client meters at 10 Hz), not one point a second.
        many = lanes is not None and len(lanes["t"]) >= 4 * len({int(t) for t in lanes["t"]}) >= 8
        return body if many else None

    body = await wait_until_async(zoomed_in, 15, "several readings a second saved")
    assert body["step"] == 0
    lanes = body["units"][str(unit.id)]
    assert lanes["t"] == sorted(lanes["t"])
    assert any(t != int(t) for t in lanes["t"]), "each reading at its own time"
    assert all(-120 < rf < 0 for rf in lanes["rf_a"] if rf is not None)
    assert lanes["rf_a_min"] == lanes["rf_a"] == lanes["rf_a_max"], "a reading is one value"


@pytest.mark.django_db
def test_full_rate_minutes_are_pruned_after_their_hour(settings):
    settings.MICBOARD_TIMELINE_FULL_RATE_MINUTES = 60
    _, units = make_receiver(Organization.default(), 2202)
    now = int(time.time())
    rows = []
    for age in (62 * 60, 58 * 60):
        row = ReadingsRow(now - age - (now - age) % 60)
        row.add((row.start + 0.25, (-60.0, None, -20.0, 80.0)))
        rows.append((units[0].id, row))
    store.save_readings(rows)
    call_command("prune_timeline")
    assert list(ReadingChunk.objects.values_list("start", flat=True)) == [rows[1][1].start]
    times, values = next(store.read_readings([units[0].id], now - 3600, now))[1:]
    assert times == [rows[1][1].start + 0.25]
    assert list(values) == [-600, MISSING, -200, 800]


def test_a_full_queue_drops_seconds_instead_of_waiting():
    recorder = Recorder()  # its writer never started: nothing drains the queue
    state = UnitState(
        id=1, status="GOOD", battery_status="GOOD", online=True, tx_on=True, bars=5,
        percent=90, minutes=None, rf_a=-60.0, rf_b=-62.0, antenna="AB", quality=None,
        audio=-20.0, peak=None, clip=False, tx_offset=None, freq=None, name=None, ts=1000.0,
    )  # fmt: skip
    recorder.observe(state)
    started = time.monotonic()
    for second in range(QUEUE_SECONDS + 10):
        recorder.hand_over(1001.5 + second)
    assert recorder.dropped == 10  # one unit-second per hand-over beyond the queue's room
    assert time.monotonic() - started < 5, "hand_over never blocks on a full queue"


@pytest.mark.django_db
def test_prune_keeps_the_retention_window(settings):

    settings.MICBOARD_TIMELINE_DAYS = 7
    settings.MICBOARD_TIMELINE_SECOND_HOURS = 24
    _, units = make_receiver(Organization.default(), 2202)
    now = int(time.time())
    point = (Span(-60, -50, -55), None, None, Span(80, 80, 80))
    ages = {
        (Resolution.TEN_SECONDS, 8 * 86400): False,
        (Resolution.TEN_SECONDS, 6 * 86400): True,
        (Resolution.SECOND, 25 * 3600): False,
        (Resolution.SECOND, 23 * 3600): True,
    }
    store.save_chunks(
        store.Chunk(units[0].id, res, store.window_start(now - age, res), [point] * POINTS)
        for res, age in ages
    )
    for days in (8, 6):
        UnitEvent.objects.create(
            unit=units[0], lane="rf", kind="dropout",
            started_at=datetime.fromtimestamp(now - days * 86400, tz=UTC),
        )  # fmt: skip
    call_command("prune_timeline")
    assert [e.started_at.timestamp() for e in UnitEvent.objects.all()] == [now - 6 * 86400]
    kept = set(SampleChunk.objects.values_list("resolution", "start"))
    for (res, age), expected in ages.items():
        assert ((res, store.window_start(now - age, res)) in kept) is expected, (res, age)


def test_points_survive_packing_and_ten_seconds_summarise_their_seconds():
    audio = Span(-30, -10, -20.5)
    seconds = [(Span(-70 + i, -60 + i, -65 + i), None, audio, None) for i in range(10)]
    blob = encode([*seconds, None])
    assert len(blob) < 200  # 60 points in a couple of hundred bytes, compressed
    back = decode(blob)
    assert back[:10] == seconds
    assert back[10] is None
    assert len(back) == POINTS
    ten = merge(back[:10])
    assert ten == (Span(-70, -51, -60.5), None, audio, None)
