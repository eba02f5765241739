"""The read API's timeline events: a group's unit events and markers, newest first,
bounded by `limit`, paged with `until`, and only of the groups a token reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.test import Client

from micboard.services import ApiTokenService
from micboard.timeline.models import EventKind, Marker, UnitEvent
from tests.dashboard.conftest import Show

pytestmark = pytest.mark.django_db

SHOW_START = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return SHOW_START + timedelta(minutes=minutes)


@pytest.fixture
def secret_a(show: Show) -> str:
    return ApiTokenService.create_token("Companion", [show.group_a], by_user=show.admin).secret


@pytest.fixture
def timeline(show: Show) -> None:
    """A01 (group A) drops out for 2.5 s and clips, A02 loses its transmitter (still off),
    B01 (group B) drops out; each group has a marker."""
    a01, a02, b01 = show.unit("A01"), show.unit("A02"), show.unit("B01")
    for unit, lane, kind, start, end in (
        (a01, "rf", EventKind.DROPOUT, at(1), at(1) + timedelta(seconds=2.5)),
        (a01, "clip", EventKind.CLIP, at(5), at(5) + timedelta(seconds=1)),
        (a02, "rf", EventKind.TX_OFF, at(7), None),
        (b01, "rf", EventKind.DROPOUT, at(3), at(3) + timedelta(seconds=1)),
    ):
        UnitEvent.objects.create(
            unit=unit, lane=lane, kind=kind, started_at=start, ended_at=end, detail={}
        )
    for group, minute, label in ((show.group_a, 4, "Song 4"), (show.group_b, 6, "Walk test")):
        Marker.objects.create(
            organization=group.organization, monitoring_group=group, at=at(minute), label=label
        )


def events(show: Show, secret: str, query: str = "", group: int | None = None) -> list[dict]:
    path = f"/api/v1/groups/{group or show.group_a.pk}/events/{query}"
    response = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200, response.content
    return orjson.loads(response.content)


@pytest.mark.usefixtures("timeline")
class TestGroupEvents:
    def test_it_lists_the_groups_events_and_markers_newest_first(
        self, show: Show, secret_a: str
    ) -> None:
        got = events(show, secret_a)
        assert [(e["kind"], e["label"], e["unit_id"]) for e in got] == [
            ("tx_off", "Transmitter off", show.unit("A02").pk),
            ("clip", "Audio clip", show.unit("A01").pk),
            ("marker", "Song 4", None),
            ("dropout", "RF dropout", show.unit("A01").pk),
        ]
        assert [(e["duration"], e["ended_at"] is None) for e in got] == [
            (None, True), (1.0, False), (None, True), (2.5, False),
        ]  # fmt: skip
        assert datetime.fromisoformat(got[-1]["time"]) == at(1)

    def test_since_until_limit_and_paging(self, show: Show, secret_a: str) -> None:
        window = f"?since={at(2).isoformat()}&until={at(7).isoformat()}".replace("+", "%2B")
        assert [e["kind"] for e in events(show, secret_a, window)] == ["clip", "marker"]
        first = events(show, secret_a, "?limit=2")
        assert [e["kind"] for e in first] == ["tx_off", "clip"]
        older = events(show, secret_a, f"?limit=2&until={first[-1]['time']}".replace("+", "%2B"))
        assert [e["kind"] for e in older] == ["marker", "dropout"]

    def test_a_unit_filter_keeps_that_units_events_only(self, show: Show, secret_a: str) -> None:
        got = events(show, secret_a, f"?unit={show.unit('A01').pk}")
        assert [e["kind"] for e in got] == ["clip", "dropout"]

    def test_another_groups_unit_yields_nothing(self, show: Show, secret_a: str) -> None:
        assert events(show, secret_a, f"?unit={show.unit('B01').pk}") == []

    def test_another_group_answers_404_like_a_missing_one(self, show: Show, secret_a: str) -> None:
        for group in (show.group_b.pk, 999999):
            path = f"/api/v1/groups/{group}/events/"
            response = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {secret_a}")
            assert response.status_code == 404

    def test_a_limit_out_of_bounds_is_refused(self, show: Show, secret_a: str) -> None:
        for limit in (0, 1001):
            path = f"/api/v1/groups/{show.group_a.pk}/events/?limit={limit}"
            response = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {secret_a}")
            assert response.status_code == 422

    def test_a_token_of_group_b_sees_group_bs_only(self, show: Show) -> None:
        secret = ApiTokenService.create_token("B", [show.group_b], by_user=show.admin).secret
        got = events(show, secret, group=show.group_b.pk)
        assert [(e["kind"], e["label"]) for e in got] == [
            ("marker", "Walk test"), ("dropout", "RF dropout"),
        ]  # fmt: skip

    def test_it_costs_the_same_queries_for_any_number_of_events(
        self, show: Show, secret_a: str, django_assert_num_queries
    ) -> None:
        events(show, secret_a)  # the token's last use is now this minute's
        for second in range(30):
            UnitEvent.objects.create(
                unit=show.unit("A02"), lane="clip", kind=EventKind.CLIP,
                started_at=at(10) + timedelta(seconds=second), ended_at=None, detail={},
            )  # fmt: skip
        # The token's lookup, the group, its events, its markers.
        with django_assert_num_queries(4):
            assert len(events(show, secret_a)) == 34
