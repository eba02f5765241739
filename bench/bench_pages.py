"""Measure the pages and the service calls: server time and SQL queries against data size.

Builds its data in a throwaway SQLite database (a temporary file, migrated here) with bulk
inserts, then:

- pages, through Django's test `Client` signed in as an admin: the wall at 50 and 500
  tiles (half of the 500 ticked in a mic check), the mic-check list of those 500 units
  (its live readings come from Redis, which is absent here: it measures the database side),
  the performer list at 10,000 performers, the assignment page of a 500-unit group
  and its performer search;
  server time p50/p95 over N requests (after one warm-up request) and the SQL queries of
  one request;
- service calls: the queries (and time) of each quick-reference method of
  `PerformerService`, `PerformerAssignmentService` and the user access helpers, with 10 and
  with 10,000 performers/units/assignments in the database. Querysets are evaluated.
  The live-path receiver of `domain_changed` is disconnected (no Redis here), so its own
  queries after commit are not counted.

    .venv/bin/python bench/bench_pages.py [--requests 30]

`run(requests)` does the same from Python and returns the numbers (bench/run_all.py).
It configures Django in this process, so call it once per process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a plain script

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from micboard.models import MonitoringGroup, Organization, WirelessUnit

CHANNELS = 4  # units per bulk-made receiver
SIZES = (10, 10_000)  # rows for the service calls
WALLS = (50, 500)  # tiles
PERFORMERS = 10_000  # for the performer list
ASSIGNMENT_GROUP = 500  # units in the group of the assignment page


# ---------------------------------------------------------------- data (bulk, not services)


class Maker:
    """Bulk-inserts receivers, units, performers and assignments with unique names."""

    def __init__(self, organization: Organization) -> None:
        self.organization = organization
        self.serial = 0
        self.racks = 0

    def units(self, count: int) -> list[WirelessUnit]:
        from micboard.models import RFChannel, WirelessChassis, WirelessUnit

        org, first = self.organization, self.serial
        self.serial += count
        racks = range(self.racks, self.racks + -(-count // CHANNELS))
        self.racks = racks.stop
        chassis = WirelessChassis.objects.bulk_create(
            WirelessChassis(organization=org, manufacturer="Shure", model="ULXD4Q",
                            name=f"RX{rack:06d}", protocol="shure_tcp", host="127.0.0.1",
                            port=10_000 + rack)  # a row only: nothing connects to it
            for rack in racks
        )  # fmt: skip
        channels = RFChannel.objects.bulk_create(
            RFChannel(organization=org, chassis=c, number=n)
            for c in chassis
            for n in range(1, CHANNELS + 1)
        )[:count]
        return WirelessUnit.objects.bulk_create(
            WirelessUnit(organization=org, base_chassis_id=ch.chassis_id, rf_channel=ch,
                         slot=f"U{first + i:06d}")
            for i, ch in enumerate(channels)
        )  # fmt: skip

    def performers(self, count: int, prefix: str) -> list[Any]:
        from micboard.models import Performer

        return Performer.objects.bulk_create(
            Performer(organization=self.organization, name=f"{prefix} {i:06d}", title="Vocals")
            for i in range(count)
        )

    def group(self, name: str, tiles: int) -> MonitoringGroup:
        """A monitoring group with `tiles` units, each worn by its own performer."""
        from micboard.models import MonitoringGroup, PerformerAssignment

        group = MonitoringGroup.objects.create(organization=self.organization, name=name)
        units = self.units(tiles)
        performers = self.performers(tiles, name)
        PerformerAssignment.objects.bulk_create(
            PerformerAssignment(organization=self.organization, performer=p, wireless_unit=u,
                                monitoring_group=group)
            for p, u in zip(performers, units, strict=True)
        )  # fmt: skip
        return group


# ---------------------------------------------------------------- measuring


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def count_queries(call: Callable[[], object]) -> tuple[int, float]:
    """Run `call` once; return its SQL query count and wall time in ms."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        call()
        elapsed = time.perf_counter() - started
    return len(captured.captured_queries), elapsed * 1000


def time_page(client: Any, url: str, requests: int, budget: float) -> dict[str, Any]:
    """Server time p50/p95 over `requests` GETs (after a warm-up; fewer, at least 3, if they
    would take longer than `budget` seconds) and the SQL queries of one request."""

    def get() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")

    get()  # warm-up: template loading, first connection
    times: list[float] = []
    deadline = time.monotonic() + budget
    for _ in range(requests):
        if len(times) >= 3 and time.monotonic() > deadline:
            break
        started = time.perf_counter()
        get()
        times.append((time.perf_counter() - started) * 1000)
    queries, _ = count_queries(get)
    ordered = sorted(times)
    return {
        "url": url,
        "requests": len(times),
        "p50_ms": percentile(ordered, 0.50),
        "p95_ms": percentile(ordered, 0.95),
        "queries": queries,
    }


def service_calls(
    admin: User, tech: User, group: MonitoringGroup, spare: WirelessUnit
) -> dict[str, dict[str, Any]]:
    """Queries and ms of each quick-reference call, in the order the quick reference runs."""
    from micboard.services import PerformerAssignmentService, PerformerService

    measured: dict[str, dict[str, Any]] = {}

    def measure(name: str, call: Callable[[], object]) -> Any:
        """Record one call; a failing call is recorded with its error (a finding, not a crash)."""
        from django.db import DatabaseError, transaction

        result: list[object] = []
        try:
            with transaction.atomic():  # a failure rolls back alone
                queries, ms = count_queries(lambda: result.append(_evaluate(call())))
        except DatabaseError as error:
            message = f"{type(error).__name__}: {error}"
            measured[name] = {"queries": None, "ms": None, "error": message}
            return None
        measured[name] = {"queries": queries, "ms": ms, "error": None}
        return result[0]

    ps, pas = PerformerService, PerformerAssignmentService
    new = measure(
        "PerformerService.create_performer",
        lambda: ps.create_performer(name="Bench newcomer", title="Lead", email="n@example.com"),
    )
    measure("PerformerService.get_performer_by_id", lambda: ps.get_performer_by_id(new.pk))
    measure("PerformerService.get_performer_by_name", lambda: ps.get_performer_by_name(new.name))
    measure("PerformerService.get_all_performers", lambda: ps.get_all_performers(active_only=True))
    measure("PerformerService.search_performers", lambda: ps.search_performers("newcomer"))
    measure(
        "PerformerService.update_performer",
        lambda: ps.update_performer(performer=new, title="Co-lead", notes="bench"),
    )
    measure("PerformerService.deactivate_performer", lambda: ps.deactivate_performer(new))
    measure("PerformerService.reactivate_performer", lambda: ps.reactivate_performer(new))
    measure("PerformerService.count_total_performers", ps.count_total_performers)
    measure("PerformerService.get_performers_with_assignments", ps.get_performers_with_assignments)
    assignment = measure(
        "PerformerAssignmentService.create_assignment",
        lambda: pas.create_assignment(
            performer=new, wireless_unit=spare, monitoring_group=group, priority="high",
            alert_enabled=True, notes="bench", assigned_by=admin,
        ),
    )  # fmt: skip
    measure(
        "PerformerAssignmentService.get_performer_assignments",
        lambda: pas.get_performer_assignments(performer=new),
    )
    measure(
        "PerformerAssignmentService.get_unit_assignments",
        lambda: pas.get_unit_assignments(wireless_unit=spare),
    )
    measure(
        "PerformerAssignmentService.get_group_assignments",
        lambda: pas.get_group_assignments(monitoring_group=group),
    )
    measure(
        "PerformerAssignmentService.get_assignments_needing_alerts",
        lambda: pas.get_assignments_needing_alerts(
            monitoring_group=group, after=_now() - timedelta(hours=1)
        ),
    )
    measure(
        "PerformerAssignmentService.update_assignment",
        lambda: pas.update_assignment(assignment=assignment, priority="critical", notes="x"),
    )
    measure(
        "PerformerAssignmentService.update_alert_status",
        lambda: pas.update_alert_status(assignment=assignment, alert_enabled=False),
    )
    measure(
        "PerformerAssignmentService.deactivate_assignment",
        lambda: pas.deactivate_assignment(assignment=assignment),
    )
    measure(
        "PerformerAssignmentService.reactivate_assignment",
        lambda: pas.reactivate_assignment(assignment=assignment),
    )
    measure("PerformerAssignmentService.count_total_assignments", pas.count_total_assignments)
    measure(
        "PerformerAssignmentService.count_assignments_with_alerts",
        pas.count_assignments_with_alerts,
    )
    measure(
        "PerformerAssignmentService.delete_assignment",
        lambda: pas.delete_assignment(assignment=assignment),
    )
    measure("PerformerService.delete_performer", lambda: ps.delete_performer(new))
    measure("user.get_monitoring_groups", lambda: tech.get_monitoring_groups())  # type: ignore[attr-defined]
    measure("user.get_accessible_performers", lambda: tech.get_accessible_performers())  # type: ignore[attr-defined]
    measure("user.get_accessible_devices", lambda: tech.get_accessible_devices())  # type: ignore[attr-defined]
    return measured


def _evaluate(value: object) -> object:
    """Run a lazy queryset (as a caller iterating it would); pass anything else through."""
    from django.db.models import QuerySet

    if isinstance(value, QuerySet):
        list(value)
    return value


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


# ---------------------------------------------------------------- main


def _setup(workdir: Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="micboard.settings",
        DATABASE_URL=f"sqlite:///{workdir / 'pages.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:9/0",  # nothing listens: no page may need Redis
        LOG_LEVEL="ERROR",
        DEBUG="False",
        SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
        MEDIA_ROOT=str(workdir / "media"),
    )
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from micboard.events import domain_changed
    from realtime.receivers import pass_on_domain_change

    domain_changed.disconnect(pass_on_domain_change)


def _tick_half(group: MonitoringGroup, by_user: User) -> None:
    from micboard.models import WirelessUnit
    from micboard.services import MicCheckService

    units = WirelessUnit.objects.filter(assignments__monitoring_group=group).order_by("pk")
    for unit in list(units)[::2]:
        MicCheckService.tick(group, unit, by_user=by_user)


def _user(username: str, role: str) -> User:
    from django.contrib.auth.models import User

    from micboard.models import UserProfile

    user = User.objects.create_user(username, password=None)
    UserProfile.objects.filter(user=user).update(role=role)
    user.refresh_from_db()
    return user


def _grow(maker: Maker, group: MonitoringGroup, rows: int) -> None:
    """Bring performers, units and the group's assignments up to `rows` each."""
    from micboard.models import PerformerAssignment

    missing = rows - PerformerAssignment.objects.filter(monitoring_group=group).count()
    units = maker.units(missing)
    performers = maker.performers(missing, f"Service {rows}")
    PerformerAssignment.objects.bulk_create(
        PerformerAssignment(organization=maker.organization, performer=p, wireless_unit=u,
                            monitoring_group=group)
        for p, u in zip(performers, units, strict=True)
    )  # fmt: skip


def run(requests: int = 30, budget: float = 20.0) -> dict[str, Any]:
    """Build the data, measure every page (at most ~`budget` s each) and service call."""
    workdir = Path(tempfile.mkdtemp(prefix="micboard-bench-pages-"))
    try:
        _setup(workdir)
        return _measure(requests, budget)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(requests: int, budget: float) -> dict[str, Any]:
    from django.test import Client
    from django.urls import reverse

    from micboard.models import MonitoringGroup, Organization, Performer

    org = Organization.default()
    maker = Maker(org)
    admin, tech = _user("bench_admin", "admin"), _user("bench_tech", "tech")

    services: dict[str, dict[str, dict[str, Any]]] = {}
    group = MonitoringGroup.objects.create(organization=org, name="Services")
    group.users.add(tech)
    for rows in SIZES:
        _grow(maker, group, rows)
        if not services:  # a discarded first pass: caches (content types, profiles) warm up
            service_calls(admin, tech, group, maker.units(1)[0])
        services[str(rows)] = service_calls(admin, tech, group, maker.units(1)[0])

    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    pages: dict[str, dict[str, Any]] = {}
    for tiles in WALLS:
        wall = maker.group(f"Wall {tiles}", tiles)
        if tiles == WALLS[-1]:
            _tick_half(wall, admin)
        pages[f"wall, {tiles} tiles"] = time_page(
            client, reverse("wall", args=[wall.pk]), requests, budget
        )
    pages[f"mic check, {WALLS[-1]} units"] = time_page(
        client, reverse("mic-check", args=[wall.pk]), requests, budget
    )
    present = Performer.objects.count()
    maker.performers(max(0, PERFORMERS - present), "Listed")
    pages[f"performer list, {Performer.objects.count():,} performers"] = time_page(
        client, reverse("performers"), requests, budget
    )
    big = MonitoringGroup.objects.get(name=f"Wall {ASSIGNMENT_GROUP}")
    pages[f"assignments, {ASSIGNMENT_GROUP}-unit group"] = time_page(
        client, reverse("group-assignments", args=[big.pk]), requests, budget
    )
    search = "?form=new&new-performer_search=listed+00"  # matches hundreds: a capped list
    pages["assignments, performer search"] = time_page(
        client, reverse("assignment-performers", args=[big.pk]) + search, requests, budget
    )
    return {"pages": pages, "services": services}


def print_report(result: dict[str, Any]) -> None:
    print("\nPages (Django test client, SQLite)\n")
    print(f"{'page':40}  {'p50 ms':>8}  {'p95 ms':>8}  {'queries':>7}  {'requests':>8}")
    for name, page in result["pages"].items():
        print(
            f"{name:40}  {page['p50_ms']:8.1f}  {page['p95_ms']:8.1f}  {page['queries']:7d}"
            f"  {page['requests']:8d}"
        )
    sizes = list(result["services"])
    print("\nService calls: queries (ms) at " + " / ".join(f"{s} rows" for s in sizes) + "\n")
    for name in result["services"][sizes[0]]:
        cells = [_cell(result["services"][size].get(name)) for size in sizes]
        print(f"{name:58}  " + "  ".join(f"{c:>16}" for c in cells))
    for size in sizes:
        for name, call in result["services"][size].items():
            if call["error"]:
                print(f"  at {size} rows, {name}: {call['error'][:120]}")


def _cell(value: dict[str, Any] | None) -> str:
    if value is None:
        return "-"
    if value["error"]:
        return "ERROR"
    return f"{value['queries']} ({value['ms']:.1f} ms)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per page, at most")
    args = parser.parse_args()
    print_report(run(args.requests, args.budget))


if __name__ == "__main__":
    main()
