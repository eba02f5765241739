"""Events on the timeline: what the poller sees happen to a unit, saved with its time and
duration, and a tech's marker from the wall."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from micboard.timeline.models import EventKind, Marker, UnitEvent
from realtime.poller.detector import TX_OFF_AFTER, UnitDetector
from realtime.units.state import UnitState
from tests.dashboard.conftest import build_show
from tests.realtime.conftest import build_live_stage
from tests.waiting import wait_until_async

HEARD = UnitState(
    id=7, status="GOOD", battery_status="GOOD", online=True, tx_on=True, bars=2,
    percent=30, minutes=None, rf_a=-60.0, rf_b=-64.0, antenna="AB", quality=None,
    audio=-20.0, peak=None, clip=False, tx_offset=None, freq=None, name=None, ts=100.0,
)  # fmt: skip
UNHEARD = replace(HEARD, tx_on=False, bars=None, percent=None, rf_a=None, rf_b=None)


def _run(*states: UnitState) -> list[tuple[str, float, float | None, dict]]:
    detector = UnitDetector(HEARD.id, rf_threshold=-90)
    return [
        (event.kind, event.started, event.ended, event.detail)
        for state in states
        for event in detector.observe(state)
    ]


def test_a_short_loss_is_a_dropout_with_its_duration():
    events = _run(HEARD, replace(UNHEARD, ts=101.0), replace(HEARD, ts=102.5))
    assert events == [("dropout", 101.0, None, {}), ("dropout", 101.0, 102.5, {})]


def test_a_pack_not_yet_heard_is_not_dropping_out():
    assert _run(UNHEARD, replace(UNHEARD, ts=101.0), replace(HEARD, ts=102.0)) == []


def test_a_long_silence_is_the_transmitter_switched_off_and_on():
    back = 101.0 + TX_OFF_AFTER + 1
    events = _run(HEARD, replace(UNHEARD, ts=101.0), replace(HEARD, ts=back))
    assert events[-1][:3] == ("tx_off", 101.0, back)


def test_rf_below_the_threshold_on_both_antennas_is_a_dropout_with_its_lowest_level():
    weak = replace(HEARD, ts=101.0, rf_a=-93.0, rf_b=-95.0)
    weaker = replace(weak, ts=102.0, rf_a=-97.0, rf_b=-99.0)
    one_good_antenna = replace(HEARD, ts=103.0, rf_a=-95.0, rf_b=-70.0)
    events = _run(HEARD, weak, weaker, one_good_antenna)
    assert events[-1] == ("dropout", 101.0, 103.0, {"lowest_dbm": -97.0})


def test_a_battery_that_comes_back_fuller_is_a_swap():
    events = _run(HEARD, replace(UNHEARD, ts=101.0), replace(HEARD, ts=104.0, percent=100, bars=5))
    swap = [e for e in events if e[0] == "battery_swap"]
    assert swap == [
        ("battery_swap", 104.0, 104.0, {"from": {"percent": 30, "bars": 2},
                                        "to": {"percent": 100, "bars": 5}}),
    ]  # fmt: skip


def test_clips_and_an_offline_receiver_are_spans():
    events = _run(
        HEARD,
        replace(HEARD, ts=101.0, clip=True),
        replace(HEARD, ts=101.4),
        replace(HEARD, ts=105.0, online=False, tx_on=None),
        replace(HEARD, ts=109.0),
    )
    ended = {(e[0], e[1], e[2]) for e in events if e[2] is not None}
    assert ("clip", 101.0, 101.4) in ended
    assert ("rx_offline", 105.0, 109.0) in ended


@pytest.mark.django_db(transaction=True)
async def test_the_poller_saves_a_dropout_and_a_battery_swap_with_their_times(
    simulators, recording_pollers, live_settings
):
    simulator = await simulators("ULXD4Q")
    stage = await database_sync_to_async(build_live_stage)([simulator.port])
    unit = stage.units[0]
    simulator.set_battery(1, bars=2, percent=30)
    poller = recording_pollers()

    def heard_at(percent: int) -> bool:
        state = poller.trackers.get(unit.id) and poller.trackers[unit.id].state
        return bool(state and state.tx_on and state.percent == percent)

    await wait_until_async(lambda: heard_at(30), 10, "the pack heard at 30 %")
    off_at = time.time()
    simulator.set_tx_power(1, on=False)
    await wait_until_async(
        lambda: poller.trackers[unit.id].state.tx_on is False, 5, "the pack unheard"
    )
    simulator.set_battery(1, bars=5, percent=100)
    simulator.set_tx_power(1, on=True)
    on_at = time.time()

    def saved() -> dict[str, UnitEvent]:
        rows = {e.kind: e for e in UnitEvent.objects.filter(unit=unit, ended_at__isnull=False)}
        return rows if {EventKind.DROPOUT, EventKind.BATTERY_SWAP} <= rows.keys() else {}

    rows = await wait_until_async(database_sync_to_async(saved), 15, "dropout and swap saved")
    dropout = rows[EventKind.DROPOUT]
    assert off_at - 0.5 <= dropout.started_at.timestamp() <= on_at
    assert 0 < dropout.duration <= on_at - off_at + 0.5
    assert rows[EventKind.BATTERY_SWAP].detail["to"]["percent"] == 100


@pytest.mark.django_db
def test_a_tech_marks_the_timeline_from_the_wall():
    show = build_show()
    tech = Client()
    tech.force_login(show.tech_a)
    url = reverse("marker-add", args=[show.group_a.pk])
    answer = tech.post(url, {"label": "song 4"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert "Marked “song 4”" in answer.content.decode()
    marker = Marker.objects.get()
    assert (marker.monitoring_group, marker.created_by, marker.label) == (
        show.group_a,
        show.tech_a,
        "song 4",
    )
    assert tech.post(url, {"label": ""}).status_code == 302  # one key: no label needed
    assert Marker.objects.filter(label="Marker").exists()
