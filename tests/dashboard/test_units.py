"""The unit page: an hour of history from Redis as SVG, its alerts and its assignment trail."""

from __future__ import annotations

import time

import pytest
import redis
from django.test import Client

from dashboard import history
from micboard.models import WirelessUnit
from micboard.services import PerformerAssignmentService
from tests.dashboard.conftest import Show

pytestmark = pytest.mark.django_db


def add_history(url: str, prefix: str, unit_id: int, entries: list[dict[str, str]]) -> None:
    client = redis.Redis.from_url(url)
    start = int((time.time() - len(entries)) * 1000)
    for offset, fields in enumerate(entries):
        client.xadd(f"{prefix}:hist:{unit_id}", fields, id=f"{start + offset * 1000}-0")
    client.close()


class TestUnitPage:
    def test_it_draws_the_last_hour_as_svg(self, show: Show, tech_a: Client, live_settings) -> None:
        unit = show.unit("A01")
        entries = [{"b": "4", "p": "80", "a": "-55.5", "bb": "-61", "au": "-20", "s": "GOOD"}] * 3
        add_history(live_settings.REDIS_URL, live_settings.MICBOARD_REDIS_PREFIX, unit.pk, entries)
        html = tech_a.get(f"/units/{unit.pk}/").content.decode()
        assert html.count('<path class="series') == 4  # battery, RF A, RF B, audio
        assert 'class="series battery" d="M' in html
        assert "cannot be read" not in html

    def test_it_reads_the_status_and_levels_as_the_wall_does(
        self, show: Show, tech_a: Client, settings
    ) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        unit = show.unit("A01")
        WirelessUnit.objects.filter(pk=unit.pk).update(
            status="AUDIO_PEAK", audio_dbfs=-21.5, rf_a_dbm=-55.0, rf_b_dbm=None
        )
        html = tech_a.get(f"/units/{unit.pk}/").content.decode()
        assert "AUDIO_PEAK" not in html
        assert "PEAK <span" in html  # the wall's word for it, with what it means
        assert "Audio peaked in the last 10 seconds" in html
        assert "-21.5 dBFS" in html
        assert "A -55 dBm" in html
        assert "· B" not in html  # one RF level: no empty B

    def test_it_says_so_when_redis_is_down(self, show: Show, tech_a: Client, settings) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        html = tech_a.get(f"/units/{show.unit('A01').pk}/").content.decode()
        assert "The live history cannot be read right now." in html
        assert "No data in the last hour." in html

    def test_it_shows_who_was_assigned(self, show: Show, tech_a: Client, settings) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        PerformerAssignmentService.update_assignment(show.jane_a01, priority="critical",
                                                     by_user=show.tech_a)  # fmt: skip
        html = tech_a.get(f"/units/{show.unit('A01').pk}/").content.decode()
        trail = html[html.index("Who has been assigned") :]
        assert trail.count("Jane Smith") == 2  # created, then changed
        assert "tech_a" in trail
        assert "Critical" in trail

    def test_a_tech_gets_404_for_a_unit_outside_their_groups(
        self, show: Show, tech_a: Client
    ) -> None:
        assert tech_a.get(f"/units/{show.unit('B01').pk}/").status_code == 404


class TestCharts:
    NOW = 10_000.0

    def battery_path(self, *points: tuple[float, float | None]) -> str:
        """Return the battery path of (seconds ago, percent) points."""
        history_points = [
            history.Point(t=self.NOW - ago, battery=value, rf_a=None, rf_b=None, audio=None)
            for ago, value in points
        ]
        return history.charts(history_points, now=self.NOW)[0].series[0].path

    def test_a_value_holds_until_the_next_one_and_until_now(self) -> None:
        path = self.battery_path((1800, 100), (900, 50))  # quiet for 15 minutes: still one line
        assert path == "M300.0,0.0 L450.0,0.0 L450.0,60.0 L600.0,60.0"

    def test_an_unknown_value_breaks_the_line(self) -> None:
        path = self.battery_path((1800, 100), (1200, None), (600, 0))
        assert path == "M300.0,0.0 L400.0,0.0 M500.0,120.0 L600.0,120.0"

    def test_the_value_from_before_the_hour_starts_the_chart(self) -> None:
        path = self.battery_path((7200, 80), (600, 40))
        assert path.startswith("M0.0,24.0 L500.0,24.0 L500.0,72.0")

    def test_it_reads_the_entry_before_the_hour(self, show: Show, live_settings) -> None:
        client = redis.Redis.from_url(live_settings.REDIS_URL)
        key = f"{live_settings.MICBOARD_REDIS_PREFIX}:hist:{show.unit('A01').pk}"
        two_hours_ago = int((time.time() - 7200) * 1000)
        client.xadd(key, {"p": "80"}, id=f"{two_hours_ago}-0")
        client.close()
        points = history.read_history(show.unit("A01").pk)
        assert points is not None
        assert [p.battery for p in points] == [80.0]
