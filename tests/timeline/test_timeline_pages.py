"""The timeline's data endpoint and pages: lanes at a resolution that suits the range,
gaps where nothing was heard, events, alerts and markers, all scoped to the reader."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from micboard.services import AlertService, TimelineService
from micboard.timeline import store
from micboard.timeline.codec import POINTS, Span
from micboard.timeline.models import Resolution, UnitEvent
from tests.dashboard.conftest import build_show

pytestmark = pytest.mark.django_db
NOW = int(time.time())


def _heard(rf: float) -> tuple:
    return (Span(rf - 2, rf + 2, rf), None, Span(-30, -10, -20), Span(70, 70, 70))


def _record(unit_id: int, start: int, seconds: int, rf: float, *, skip: range = range(0)):
    """Save `seconds` of points from `start` through the store, leaving out `skip`."""
    windows: dict[tuple[int, int], list] = {}
    for second in range(start, start + seconds):
        if second in skip:
            continue
        for resolution in (Resolution.SECOND, Resolution.TEN_SECONDS):
            first = store.window_start(second, resolution)
            window = windows.setdefault((resolution, first), [None] * POINTS)
            window[(second - first) // resolution] = _heard(rf)
    store.save_chunks(store.Chunk(unit_id, r, s, p) for (r, s), p in windows.items())


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_last_minutes_come_at_one_second_with_a_gap_where_the_pack_was_off():
    show = build_show()
    unit = show.unit("A01")
    start = NOW - 300
    _record(unit.pk, start, 300, -60, skip=range(start + 100, start + 110))
    url = reverse("group-timeline-data", args=[show.group_a.pk])
    body = _client(show.tech_a).get(url, {"start": start, "end": NOW}).json()
    assert body["step"] == 1
    lanes = body["units"][str(unit.pk)]
    by_time = dict(zip(lanes["t"], lanes["rf_a"], strict=True))
    assert by_time[start] == -60
    assert by_time[start + 99] == -60
    assert by_time[start + 100] is None  # the gap: a chart breaks its line here
    assert start + 105 not in by_time
    assert by_time[start + 110] == -60
    assert lanes["rf_a_min"][0] == -62
    assert lanes["battery"][0] == 70


def test_three_hours_come_from_ten_second_points_within_the_point_budget():
    show = build_show()
    unit = show.unit("A01")
    start = NOW - 3 * 3600
    _record(unit.pk, start, 3 * 3600, -55)
    url = reverse("group-timeline-data", args=[show.group_a.pk])
    body = _client(show.tech_a).get(url, {"start": start, "end": NOW}).json()
    assert body["step"] >= 10
    assert 900 <= len(body["units"][str(unit.pk)]["t"]) <= 1500


def test_events_alerts_and_markers_come_with_their_times_and_only_in_scope():
    show = build_show()
    # Markers and alerts are stamped with the real time, so the range is taken from it too
    # (now was read when the module was imported, maybe minutes ago in a full run).
    now = int(time.time())
    unit = show.unit("A01")
    started = datetime.fromtimestamp(now - 100, tz=UTC)
    ended = datetime.fromtimestamp(now - 97.5, tz=UTC)
    UnitEvent.objects.create(
        unit=unit, lane="rf", kind="dropout", started_at=started, ended_at=ended
    )
    TimelineService.add_marker(show.group_a, "song 4", by_user=show.tech_a)
    TimelineService.add_marker(show.group_b, "side stage", by_user=show.tech_b)
    AlertService.apply_conditions({unit.pk: frozenset({"battery_low"})})
    url = reverse("group-timeline-data", args=[show.group_a.pk])
    body = _client(show.tech_a).get(url, {"start": now - 600, "end": now + 60}).json()
    kinds = {(e["kind"], e["label"]): e for e in body["events"]}
    dropout = kinds[("dropout", "RF dropout")]
    assert dropout["end"] - dropout["start"] == pytest.approx(2.5)
    assert ("marker", "song 4") in kinds
    assert ("marker", "side stage") not in kinds, "another group's marker"
    assert any(kind == "alert" for kind, _ in kinds)
    other = _client(show.tech_b).get(url, {"start": now - 600, "end": now + 60})
    assert other.status_code == 404


def test_a_bad_range_is_refused_and_the_pages_link_to_their_data():
    show = build_show()
    tech = _client(show.tech_a)
    url = reverse("group-timeline-data", args=[show.group_a.pk])
    assert tech.get(url, {"start": "soon"}).status_code == 400
    assert tech.get(url, {"start": NOW, "end": NOW - 5}).status_code == 400
    page = tech.get(reverse("group-timeline", args=[show.group_a.pk])).content.decode()
    assert f'data-data-url="{url}"' in page
    assert "vendor/uplot/uPlot.iife.min.js" in page
    unit_page = tech.get(reverse("unit-timeline", args=[show.unit("A01").pk]))
    assert unit_page.status_code == 200


def test_a_page_fetching_around_its_view_gets_the_views_step_and_bad_views_are_refused():
    show = build_show()
    unit = show.unit("A01")
    start = NOW - 900
    _record(unit.pk, start, 900, -60)
    url = reverse("group-timeline-data", args=[show.group_a.pk])
    tech = _client(show.tech_a)
    # Three 5-minute views' worth, at the step of one: 1 s points, not merged to fit.
    body = tech.get(url, {"start": start, "end": NOW, "view": 300}).json()
    assert body["step"] == 1
    assert len(body["units"][str(unit.pk)]["t"]) == 900
    assert body["rules"]["max_points"] * body["rules"]["ahead"] >= 900
    for view in ("0", "-5", "200", "soon"):  # 200: the range is more than three views
        assert tech.get(url, {"start": start, "end": NOW, "view": view}).status_code == 400
    # Zoomed out past what is kept: the range is cut to the retention, and so is the view.
    days = 14 * 86400
    wide = tech.get(url, {"start": NOW - days, "end": NOW, "view": days})
    assert wide.status_code == 200
    assert wide.json()["start"] == NOW - 7 * 86400


def test_a_range_with_more_seconds_than_points_merges_them_keeping_the_extremes():
    show = build_show()
    unit = show.unit("A01")
    start = NOW - NOW % 60 - 2400  # 40 minutes of 1 s points: two seconds a point
    _record(unit.pk, start, 2400, -60)
    weak = [_heard(-60)] * POINTS
    weak[1] = _heard(-80)  # one weak second: start + 601
    store.save_chunks([store.Chunk(unit.pk, Resolution.SECOND, start + 600, weak)])
    url = reverse("group-timeline-data", args=[show.group_a.pk])
    body = _client(show.tech_a).get(url, {"start": start, "end": start + 2400}).json()
    assert body["step"] == 2
    lanes = body["units"][str(unit.pk)]
    at = lanes["t"].index(start + 600)
    assert (lanes["rf_a_min"][at], lanes["rf_a_max"][at], lanes["rf_a"][at]) == (-82, -58, -70)
    assert len(lanes["t"]) == 1200
