"""Measure the timeline page of a 40-unit group over 3 hours in headless Chromium, and the
show report of that range.

A throwaway SQLite database gets `--units` units in one group with `--hours` of synthetic
1 s and 10 s points (saved through micboard/timeline/store.py) and a few dropouts each;
uvicorn serves it on loopback (DEBUG, so whitenoise serves static/ as it is) and Debian's
Chromium (Playwright) signs in and opens the group's timeline. Each step is timed from the
click to two frames: "first redraw", the frame after the click, in which the charts show
the new range (from the points they had, stretched for a finer tier), and "refined", the
frame after the redraw with the new range's own points (the same frame when the charts
already held them; static/js/timeline.js fetches around a view off the live edge, and asks
ahead for the next finer zoom's points after each draw):

- first draw: the "3 h" span (every unit's chart, 10 s points merged to <= 1,500 each)
- zoom in: "+" five times (3 h -> 6 min; 1.5 h is held, 45 and 22 min are finer tiers,
  11 and 6 min are held), each clicked as soon as the previous one is refined; pan: "◀"
  three times (held)
- "zoom in, refined after a pause": the five zooms again, each clicked once the page's ask
  ahead has arrived (a user looking at each view for a second or so)
- data JSON: the 3 h answer of the data endpoint alone, in this process (the server's part)
- report: the show report of the whole range, rendered by the view in this process

    .venv/bin/python bench/bench_timeline_browser.py [--units 40] [--hours 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a plain script

from bench.bench_live import listening_socket, web_server_command  # noqa: E402
from bench.bench_timeline import setup_django  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Bench-Timeline-42!"
# Clicks a button of the timeline and resolves to two times in ms: to the frame after the
# click, in which the charts show the new range (from the points they had, or the new range's
# own when they were already here), and to the frame after the redraw with the new range's
# own points (the same frame when nothing had to be fetched).
TIMED_STEP = """async (selector) => {
  const root = document.getElementById("timeline");
  const before = Number(root.dataset.draws || 0);
  const started = performance.now();
  document.querySelector(selector).click();
  await new Promise((resolve) => requestAnimationFrame(resolve));
  const first = performance.now() - started;
  while (Number(root.dataset.draws || 0) === before) {
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  await new Promise((resolve) => requestAnimationFrame(resolve));
  return [first, performance.now() - started];
}"""
# True once the page's ask ahead of the next finer zoom has arrived (or none is on its way).
PREFETCHED = '#timeline:not([data-ahead="loading"])'


def build(units: int, hours: float) -> tuple[int, int]:
    """Fill the database; return the group's id and the range's end (Unix s)."""
    from datetime import UTC, datetime

    from django.contrib.auth.models import User
    from django.core.management import call_command

    from micboard.models import MonitoringGroup, Organization, PerformerAssignment
    from micboard.services import PerformerAssignmentService, PerformerService
    from micboard.tenancy import system_context
    from micboard.timeline import store
    from micboard.timeline.codec import POINTS, Span
    from micboard.timeline.models import Resolution, UnitEvent
    from tests.factories import make_receiver

    call_command("migrate", verbosity=0)
    rng = random.Random(16)
    end = int(time.time())
    start = end - int(hours * 3600)
    with system_context():
        organization = Organization.default()
        _, unit_list = make_receiver(organization, 2202, channels=units)
        group = MonitoringGroup.objects.create(organization=organization, name="Bench stage")
        for number, unit in enumerate(unit_list, start=1):
            performer = PerformerService.create_performer(f"Performer {number:02d}")
            PerformerAssignmentService.create_assignment(performer, unit, group)
        # Worn since the range began: the report reads who wore what from this history.
        PerformerAssignment.history.update(history_date=datetime.fromtimestamp(start, tz=UTC))
        User.objects.create_superuser("bench", "bench@example.com", PASSWORD)
        for unit in unit_list:
            for resolution in (Resolution.SECOND, Resolution.TEN_SECONDS):
                chunks = []
                first = store.window_start(start, resolution)
                for window in range(first, end, resolution * POINTS):
                    points: list[Any] = [_point(rng, Span) for _ in range(POINTS)]
                    chunks.append(store.Chunk(unit.pk, resolution, window, points))
                store.save_chunks(chunks)
            for _ in range(5):
                at = rng.uniform(start, end)
                UnitEvent.objects.create(
                    unit=unit, lane="rf", kind="dropout",
                    started_at=datetime.fromtimestamp(at, tz=UTC),
                    ended_at=datetime.fromtimestamp(at + rng.uniform(0.2, 5), tz=UTC),
                )  # fmt: skip
    return group.pk, end


def _point(rng: random.Random, span: Any) -> tuple[Any, ...]:
    rf = rng.uniform(-75, -50)
    audio = rng.uniform(-40, -15)
    return (span(rf - 3, rf + 3, rf), span(rf - 6, rf, rf - 3), span(audio - 10, audio, audio - 4),
            span(70, 70, 70))  # fmt: skip


def time_data(group_id: int, hours: float) -> float:
    """Time the 3 h JSON answer alone (in this process): the server's share of a draw."""
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username="bench"))
    end = int(time.time())
    started = time.perf_counter()
    answer = client.get(reverse("group-timeline-data", args=[group_id]),
                        {"start": end - int(hours * 3600), "end": end})  # fmt: skip
    assert answer.status_code == 200, answer.status_code
    return (time.perf_counter() - started) * 1000


def time_report(group_id: int, hours: float) -> float:
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username="bench"))
    since = timezone.localtime(timezone.now() - timedelta(hours=hours))
    started = time.perf_counter()
    answer = client.get(reverse("group-report", args=[group_id]),
                        {"start": since.strftime("%Y-%m-%dT%H:%M:%S")})  # fmt: skip
    took = time.perf_counter() - started
    assert answer.status_code == 200, answer.status_code
    return took * 1000


def time_page(port: int, group_id: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        base = f"http://127.0.0.1:{port}"
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill("bench")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/groups/{group_id}/timeline/")
        page.wait_for_selector('#timeline[data-state="ready"]')
        results: dict[str, list[float]] = {"first draw (3 h)": []}
        for _ in range(3):
            results["first draw (3 h)"].append(page.evaluate(TIMED_STEP, '[data-span="10800"]')[1])
        for action, name, times in (("zoom-in", "zoom in", 5), ("earlier", "pan", 3)):
            for _ in range(times):
                first, refined = page.evaluate(TIMED_STEP, f'[data-action="{action}"]')
                results.setdefault(f"{name}, first redraw", []).append(first)
                results.setdefault(f"{name}, refined", []).append(refined)
        # As a user who looks at each view until the page's ask ahead has arrived.
        page.evaluate(TIMED_STEP, '[data-span="10800"]')
        for _ in range(5):
            page.wait_for_selector(PREFETCHED)
            refined = page.evaluate(TIMED_STEP, '[data-action="zoom-in"]')[1]
            results.setdefault("zoom in, refined after a pause", []).append(refined)
        browser.close()
    return results


def run(units: int, hours: float) -> dict[str, list[float]]:
    """Build the show, serve it, time the page's steps, the data answer and the report."""
    workdir = Path(tempfile.mkdtemp(prefix="micboard-bench-tlb-"))
    os.environ["DEBUG"] = "True"
    os.environ.setdefault(
        "SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    )
    os.environ["MICBOARD_DISCOVERY"] = "False"
    server = None
    try:
        setup_django(workdir)
        built = time.perf_counter()
        group_id, _ = build(units, hours)
        print(f"built {units} units x {hours:g} h in {time.perf_counter() - built:.0f} s")
        sock = listening_socket()
        server = subprocess.Popen(
            web_server_command("uvicorn", sock.fileno()), pass_fds=[sock.fileno()],
            env={**os.environ}, cwd=REPO,
        )  # fmt: skip
        steps = time_page(sock.getsockname()[1], group_id)
        steps[f"data JSON ({hours:g} h)"] = [time_data(group_id, hours) for _ in range(3)]
        steps[f"report ({hours:g} h)"] = [time_report(group_id, hours) for _ in range(3)]
        return steps
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--hours", type=float, default=3.0)
    args = parser.parse_args()
    steps = run(args.units, args.hours)
    print(f"\ntimeline of {args.units} units over {args.hours:g} h (headless Chromium)")
    print(f"{'step':<32} {'median ms':>10} {'max ms':>8} {'runs':>5}  each run, ms")
    for name, times in steps.items():
        each = " ".join(f"{t:.0f}" for t in times)
        print(f"{name:<32} {median(times):>10.0f} {max(times):>8.0f} {len(times):>5}  {each}")


if __name__ == "__main__":
    main()
