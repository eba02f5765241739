"""Prometheus metrics at /metrics: the pollers' heartbeats, this process's sockets and the
open alerts, read when scraped (nothing is counted on the live path for this).

The pollers write running totals and recent rates into their heartbeat hashes
(realtime/poller/runner.py `_heartbeat_fields`); this collector turns each live poller's
fields into samples labelled with its id, so counters can be taken `rate()` of.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from micboard.models import Alert
from micboard.tenancy import system_context
from realtime.health import live_pollers
from realtime.redis_client import sync_client
from realtime.web.limits import open_sockets

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeartbeatMetric:
    field: str  # the heartbeat hash's field
    name: str
    help: str
    counter: bool = False
    scale: float = 1.0  # to the metric's base unit (ms → s)


HEARTBEAT_METRICS = [
    HeartbeatMetric("readings", "micboard_poller_readings", "Readings taken.", counter=True),
    HeartbeatMetric("frames", "micboard_poller_frames", "Frames published.", counter=True),
    HeartbeatMetric(
        "reading_lag_total_s",
        "micboard_poller_reading_lag_seconds",
        "Sum of the time from each reading to its publication.",
        counter=True,
    ),
    HeartbeatMetric(
        "db_failures",
        "micboard_poller_database_failures",
        "Telemetry batches the database refused.",
        counter=True,
    ),
    HeartbeatMetric(
        "timeline_dropped",
        "micboard_poller_timeline_dropped_seconds",
        "Unit-seconds of timeline points dropped because the database fell behind.",
        counter=True,
    ),
    HeartbeatMetric(
        "readings_per_s", "micboard_poller_readings_per_second", "Readings/s since the last beat."
    ),
    HeartbeatMetric(
        "frames_per_s", "micboard_poller_frames_per_second", "Frames/s since the last beat."
    ),
    HeartbeatMetric(
        "loop_lag_ms",
        "micboard_poller_loop_lag_seconds",
        "The latest a frame tick woke up since the last beat.",
        scale=0.001,
    ),
    HeartbeatMetric(
        "reading_lag_ms",
        "micboard_poller_mean_reading_lag_seconds",
        "Mean time from a reading to its publication since the last beat.",
        scale=0.001,
    ),
    HeartbeatMetric(
        "tick_max_ms",
        "micboard_poller_tick_max_seconds",
        "The longest frame tick (write states, publish deltas) since the last beat.",
        scale=0.001,
    ),
    HeartbeatMetric("db_pending", "micboard_poller_database_pending", "Telemetry waiting."),
    HeartbeatMetric("devices", "micboard_poller_devices", "Receivers this poller reads."),
    HeartbeatMetric("units", "micboard_poller_units", "Units this poller tracks."),
]


class MicboardCollector(Collector):
    """Collects on each scrape; counts its own failures to read Redis and the database."""

    def __init__(self) -> None:
        self.redis_errors = 0
        self.database_errors = 0

    def collect(self) -> Iterator[Metric]:
        yield from self._pollers()
        yield from self._alerts()
        sockets = GaugeMetricFamily(
            "micboard_connected_sockets",
            "Live sockets open in this web process, walls (user) and kiosk screens.",
            labels=["kind"],
        )
        for kind, count in sorted(open_sockets().items()):
            sockets.add_metric([kind], count)
        yield sockets
        yield CounterMetricFamily(
            "micboard_web_redis_errors",
            "Scrapes that could not read Redis.",
            value=self.redis_errors,
        )
        yield CounterMetricFamily(
            "micboard_web_database_errors",
            "Scrapes that could not read the database.",
            value=self.database_errors,
        )

    def _pollers(self) -> Iterator[Metric]:
        try:
            beats = live_pollers(sync_client())
        except (redis.RedisError, OSError):
            logger.warning("Metrics could not read the pollers' heartbeats", exc_info=True)
            self.redis_errors += 1
            beats = {}
        yield GaugeMetricFamily("micboard_pollers", "Pollers alive.", value=len(beats))
        for spec in HEARTBEAT_METRICS:
            family = CounterMetricFamily if spec.counter else GaugeMetricFamily
            metric = family(spec.name, spec.help, labels=["poller"])
            for poller_id, fields in sorted(beats.items()):
                value = _number(fields.get(spec.field))
                if value is not None:
                    metric.add_metric([poller_id], value * spec.scale)
            yield metric
        yield _tick_summary(beats)

    def _alerts(self) -> Iterator[Metric]:
        metric = GaugeMetricFamily(
            "micboard_alerts_open", "Alerts not yet resolved.", labels=["severity"]
        )
        try:
            with system_context():  # the operator's view: every organization
                counts = Alert.objects.open().values("severity").annotate(n=Count("pk"))
                by_severity = {row["severity"]: row["n"] for row in counts}
        except DatabaseError:
            logger.warning("Metrics could not count the open alerts", exc_info=True)
            self.database_errors += 1
            by_severity = {}
        for severity in Alert.Severity.values:
            metric.add_metric([severity], by_severity.get(severity, 0))
        yield metric


def _tick_summary(beats: dict[str, dict[str, str]]) -> Metric:
    """Return each poller's frame ticks as a summary: `rate(_sum) / rate(_count)` is the
    mean tick time over any window, and a tick near 25 ms means frames fall behind."""
    summary = SummaryMetricFamily(
        "micboard_poller_tick_seconds",
        "Frame ticks run and the time they took (write states, publish deltas).",
        labels=["poller"],
    )
    for poller_id, fields in sorted(beats.items()):
        count, total = _number(fields.get("ticks")), _number(fields.get("tick_total_s"))
        if count is not None and total is not None:
            summary.add_metric([poller_id], count_value=int(count), sum_value=total)
    return summary


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


registry = CollectorRegistry(auto_describe=False)
registry.register(MicboardCollector())


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Answer Prometheus: 404 while no token or network is set up, 403 to anyone else."""
    token = settings.MICBOARD_METRICS_TOKEN
    networks = settings.MICBOARD_METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        raise Http404("Metrics are off.")
    if not (_has_token(request, token) or _from_networks(request, networks)):
        return HttpResponseForbidden("Not allowed.")
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _has_token(request: HttpRequest, token: str) -> bool:
    sent = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


def _from_networks(request: HttpRequest, networks: list[str]) -> bool:
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(network, strict=False) for network in networks)
