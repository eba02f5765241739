"""Measure a roster sync: fetching a plan from the Planning Center simulator over loopback
HTTP, its dry run and its apply, against the size of the team (a pool holds at most 200
units, so teams up to 190 fit).

A throwaway SQLite database (migrated here) holds one group, a receiver of `pool` units
and the pool "Vocals" over all of them; the simulator serves a plan of N team members, all
confirmed, in the Vocals position. For each N: the fetch (pages of 100, wall time), the dry
run and the first apply (SQL queries and wall time), then a resync with nothing new (the
dry run a week later costs), then a resync with a tenth of the team swapped.
The live path's receiver of `domain_changed` is disconnected (no Redis here).

    .venv/bin/python bench/bench_rosters.py [--sizes 25,100,190] [--pool 200]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a plain script

from bench.bench_live import print_table  # noqa: E402 - needs the repository on sys.path first
from bench.bench_pages import _setup, count_queries  # noqa: E402


def queries_of(call: Callable[[], Any]) -> tuple[int, float]:
    """`count_queries` with Django's query log emptied first: it keeps only the last 9000."""
    from django.db import connection

    connection.queries_log.clear()
    return count_queries(call)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def measure(size: int, pool: int) -> list[tuple[str, str]]:
    from micboard.models import MonitoringGroup, Organization
    from micboard.rosters.simulator import (
        PcoSimulator,
        SimMember,
        SimPlan,
        SimServiceType,
        next_sunday,
    )
    from micboard.services.rosters import RosterService
    from tests.factories import make_receiver

    organization = Organization.default()
    _, units = make_receiver(organization, 2202 + size, channels=pool)
    group = MonitoringGroup.objects.create(organization=organization, name=f"Team of {size}")
    RosterService.save_pool(group, "Vocals", units)
    team = [SimMember(str(size * 10_000 + n), f"Singer {n:04d}", "Vocals") for n in range(size)]
    plan = SimPlan("1", "Sunday", *next_sunday(9), team)
    simulator = PcoSimulator("bench", "bench-secret", [SimServiceType("1", "Sundays", [plan])])
    simulator.start()
    from django.conf import settings

    settings.MICBOARD_PCO_URL = simulator.url
    rows: list[tuple[str, str]] = []
    try:
        RosterService.connect("bench", "bench-secret")
        roster, fetch_ms = timed(lambda: RosterService.fetch_plan("1", "1"))
        pages = len([r for r in simulator.requests if "team_members" in r])
        rows.append((f"{size}: fetch ({pages} pages)", f"{fetch_ms:.1f} ms"))
        for label, call in (
            ("dry run", lambda: RosterService.plan_sync(roster, group)),
            ("first apply", lambda: RosterService.apply_sync(roster, group)),
            ("resync, nothing new", lambda: RosterService.apply_sync(roster, group)),
        ):
            queries, ms = queries_of(call)
            rows.append((f"{size}: {label}", f"{queries} queries, {ms:.1f} ms"))
        for n in range(0, size, 10):
            team[n] = SimMember(str(size * 10_000 + 9_000 + n), f"New {n:04d}", "Vocals")
        swapped = RosterService.fetch_plan("1", "1")
        queries, ms = queries_of(lambda: RosterService.apply_sync(swapped, group))
        rows.append((f"{size}: resync, a tenth swapped", f"{queries} queries, {ms:.1f} ms"))
    finally:
        simulator.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="25,100,190")
    parser.add_argument("--pool", type=int, default=200, help="units (a pool holds 200 at most)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="micboard-bench-rosters-"))
    try:
        _setup(workdir)
        rows: list[tuple[str, str]] = []
        for size in (int(s) for s in args.sizes.split(",")):
            rows += measure(size, args.pool)
        print_table(rows, f"Roster sync, pool of {args.pool} units (SQLite, loopback simulator)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
