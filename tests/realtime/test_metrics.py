"""/metrics: who may scrape it, and what the pollers' heartbeats, the open alerts and this
process's sockets become as Prometheus samples."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from micboard.services import AlertService
from realtime.poller import heartbeat
from realtime.poller.stats import Stats
from realtime.web import limits
from tests.dashboard.conftest import Show, build_show

pytestmark = pytest.mark.django_db

GRAFANA = Path(__file__).resolve().parents[2] / "docs" / "grafana-micboard.json"
TOKEN = "scrape-me-0123456789"
BEAT = {
    "readings": "1200",
    "frames": "480",
    "reading_lag_total_s": "6.000",
    "db_failures": "2",
    "readings_per_s": "40.0",
    "frames_per_s": "16.0",
    "loop_lag_ms": "3.5",
    "ticks": "4000",
    "tick_total_s": "8.000",
    "tick_max_ms": "12.5",
    "reading_lag_ms": "5.0",
    "db_pending": "0",
    "devices": "3",
    "units": "12",
}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(**headers: str) -> tuple[int, str]:
    response = Client().get("/metrics", **headers)  # type: ignore[arg-type]
    return response.status_code, response.content.decode()


async def beat(url: str, poller_id: str) -> None:
    client = aioredis.Redis.from_url(url)
    await heartbeat.beat(client, poller_id, BEAT, ttl_ms=10_000, published_at=0.0)
    await client.aclose()


@pytest.fixture
def show(db: None) -> Show:
    return build_show()


class TestMetricsAccess:
    def test_it_is_off_until_a_token_or_network_is_set(self, settings: object) -> None:
        assert scrape()[0] == 404

    def test_it_wants_the_token(self, settings: object, live_settings: object) -> None:
        settings.MICBOARD_METRICS_TOKEN = TOKEN  # type: ignore[attr-defined]
        assert scrape()[0] == 403
        assert scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")[0] == 403
        assert scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")[0] == 200
        assert Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405

    def test_it_lets_in_the_allowed_networks(self, settings: object, live_settings: object) -> None:
        settings.MICBOARD_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]  # type: ignore[attr-defined]
        assert scrape()[0] == 403  # the test client is 127.0.0.1
        settings.MICBOARD_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "127.0.0.0/8"]  # type: ignore[attr-defined]
        assert scrape()[0] == 200


class TestMetricsContent:
    @pytest.fixture(autouse=True)
    def allowed(self, settings: object) -> None:
        settings.MICBOARD_METRICS_ALLOWED_NETWORKS = ["127.0.0.1"]  # type: ignore[attr-defined]

    def test_it_reads_each_live_pollers_heartbeat(self, live_settings: object) -> None:
        asyncio.run(beat(live_settings.REDIS_URL, "poller-1"))  # type: ignore[attr-defined]
        status, text = scrape()
        assert status == 200
        got = samples(text)
        poller = (("poller", "poller-1"),)
        assert got[("micboard_pollers", ())] == 1
        assert got[("micboard_poller_readings_total", poller)] == 1200
        assert got[("micboard_poller_frames_total", poller)] == 480
        assert got[("micboard_poller_readings_per_second", poller)] == 40
        assert got[("micboard_poller_frames_per_second", poller)] == 16
        assert got[("micboard_poller_loop_lag_seconds", poller)] == pytest.approx(0.0035)
        assert got[("micboard_poller_database_failures_total", poller)] == 2
        assert got[("micboard_poller_tick_seconds_count", poller)] == 4000
        assert got[("micboard_poller_tick_seconds_sum", poller)] == 8
        assert got[("micboard_poller_tick_max_seconds", poller)] == pytest.approx(0.0125)
        assert got[("micboard_web_redis_errors_total", ())] == 0

    def test_it_counts_open_alerts_and_open_sockets(
        self, show: Show, live_settings: object
    ) -> None:
        AlertService.raise_alert(show.jane_a01, "battery_low")
        assert limits.take_socket("user.1")
        assert limits.take_socket("kiosk.abc")
        try:
            got = samples(scrape()[1])
        finally:
            limits.release_socket("user.1")
            limits.release_socket("kiosk.abc")
        severities = {
            dict(labels)["severity"]: value
            for (name, labels), value in got.items()
            if name == "micboard_alerts_open"
        }
        assert sum(severities.values()) == 1
        assert got[("micboard_connected_sockets", (("kind", "user"),))] == 1
        assert got[("micboard_connected_sockets", (("kind", "kiosk"),))] == 1

    def test_it_still_answers_when_redis_is_down(self, settings: object) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # type: ignore[attr-defined]
        before = samples(scrape()[1])[("micboard_web_redis_errors_total", ())]
        status, text = scrape()
        assert status == 200
        got = samples(text)
        assert got[("micboard_pollers", ())] == 0
        assert got[("micboard_web_redis_errors_total", ())] == before + 1


def test_the_grafana_dashboard_asks_only_for_metrics_that_exist(
    settings: object, live_settings: object
) -> None:
    settings.MICBOARD_METRICS_ALLOWED_NETWORKS = ["127.0.0.1"]  # type: ignore[attr-defined]
    asyncio.run(beat(live_settings.REDIS_URL, "poller-1"))  # type: ignore[attr-defined]
    exposed = {name for name, _labels in samples(scrape()[1])}
    dashboard = json.loads(GRAFANA.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    asked = {name for expr in exprs for name in re.findall(r"micboard_[a-z_]+", expr)}
    assert asked
    assert asked <= exposed


def test_a_pollers_frame_ticks_add_up_and_the_longest_is_per_beat() -> None:
    stats = Stats()
    for duration in (0.002, 0.010, 0.004):
        stats.tick(duration)
    assert (stats.ticks, stats.tick_total) == (3, pytest.approx(0.016))
    assert stats.rates()["tick_max_ms"] == pytest.approx(10.0)
    stats.tick(0.001)
    assert stats.rates()["tick_max_ms"] == pytest.approx(1.0)  # a new beat, a new longest
    assert stats.ticks == 4  # the summary's count never goes back
