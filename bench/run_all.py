"""Run every benchmark scenario in bounded time; print one table; write bench/results/latest.*.

    .venv/bin/python -m bench.run_all [--quick]     (or: make bench)

Each scenario runs in a fresh child process (each configures Django and starts its own
redis-server, simulators, poller and daphne on loopback, and stops them when it ends);
a scenario that overruns its limit is stopped and reported as such. Scenarios:

- live: reading->WebSocket-client latency and messages/s at 100, 1,000 and 2,000 channels
  metering at 10 Hz with 1, 50 and 200 clients (bench/bench_live.py);
- poller capacity: readings/s kept up, CPU and memory of the one poller in those runs, and
  the Shure TCP protocol client alone at 500 and 2,000 channels (bench/bench_shure_tcp.py);
- protocol rates: readings per second per channel of each protocol client against the
  metering or push rate it asked for (bench/bench_rates.py);
- fan-out: web-process (daphne) CPU per 1,000 client messages/s, from the live runs;
- pages and service calls (bench/bench_pages.py);
- timeline storage: bytes per unit-day of each store and its write rate
  (bench/bench_timeline.py), and the timeline page of a group in headless chromium: first
  draw, zoom, pan and the show report (bench/bench_timeline_browser.py; the full run
  measures the issue's 40 units over 3 h, `--quick` a smaller show).
- outputs: alert raised in the poller -> webhook received, p50/p99 for 1 and 10 webhooks and
  10 beside one that never answers; then one MQTT output (mosquitto) beside one OSC output
  (bench/bench_outputs.py).
- issue 13's rows, on uvicorn: one wall of 100 channels in one group (with and without
  permessage-deflate: bytes on the wire), and 8 channels (the poller's idle cost);
- the wall page at 50 requests/s for 20 s while walls stream, one web process per core
  and one alone (bench/bench_wall_page.py).

It ends with the targets of issue 13, each with this run's number and met / not met.

The whole run stays under 15 minutes (`--quick`: about 5). The machine is shared: the load
average is recorded before and after every scenario.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
TOTAL_LIMIT = 14 * 60.0  # seconds: leave every later scenario out past this point
CHANNELS_PER_DEVICE = 4
RATES_SECONDS = 5.0  # per row of bench/bench_rates.py: 50 readings a channel at 10 Hz
OUTPUT_ROUNDS = 6  # alerts raised per row of bench/bench_outputs.py


@dataclass(frozen=True)
class Plan:
    live_channels: tuple[int, ...]
    live_clients: tuple[int, ...]
    live_seconds: float
    live_warmup: float
    shure_channels: tuple[int, ...]
    shure_seconds: float
    page_requests: int
    page_budget: float
    browser_seconds: float
    timeline_units: int  # bench_timeline.py: units and hours of synthetic 10 Hz readings
    timeline_hours: float
    timeline_page_units: int  # bench_timeline_browser.py: the group's units and hours
    timeline_page_hours: float
    wall_page_seconds: float


# The live matrix runs on daphne; these (channels, clients) rows run again on uvicorn so the
# fan-out cost of the two servers is compared on the same load.
SERVER_COMPARISON = ((100, 50), (1000, 200))
# Issue 13's rows (uvicorn, one group): one wall of 100 channels, the same offering
# permessage-deflate as browsers do, and a small rig of 8 channels.
ONE_WALL = {"devices": 25, "clients": 1, "groups": 1, "server": "uvicorn"}
TARGET_ROWS = (ONE_WALL, {**ONE_WALL, "compression": "deflate"}, {**ONE_WALL, "devices": 2})
WALL_PAGE_WORKERS = (os.cpu_count() or 1, 1)  # one web process per core, then one alone
FULL = Plan(
    (100, 1000, 2000), (1, 50, 200), 20.0, 5.0, (500, 2000), 15.0, 30, 20.0, 20.0,
    20, 1.0, 40, 3.0, 20.0,
)  # fmt: skip
QUICK = Plan(
    (100, 1000, 2000), (1, 50, 200), 6.0, 3.0, (2000,), 6.0, 10, 8.0, 8.0,
    10, 0.25, 20, 1.0, 8.0,
)  # fmt: skip


# ---------------------------------------------------------------- child processes


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(143)  # unwinds the scenario's `finally`: its processes are stopped


def _child(pipe: Connection, name: str, kwargs: dict[str, Any]) -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sys.path.insert(0, str(REPO))
    try:
        pipe.send({"ok": SCENARIOS[name](**kwargs)})
    except BaseException as error:  # reported to the parent, which carries on
        pipe.send({"error": f"{type(error).__name__}: {error or 'no message'}"})
        raise


def _live(**kwargs: Any) -> dict[str, Any]:
    from bench.bench_live import LiveConfig, run

    return run(LiveConfig(**kwargs))


def _shure(devices: int, seconds: float) -> dict[str, Any]:
    from bench.bench_shure_tcp import CHANNELS_PER_DEVICE, METER_MS, run

    result, sim_cpu = run(devices, seconds, warmup=3.0, use_uvloop=True)
    lags = sorted(lag * 1000 for lag in result.lags)
    channels = devices * CHANNELS_PER_DEVICE
    return {
        "channels": channels,
        "expected_per_s": channels * 1000 / METER_MS,
        "received_per_s": result.readings / result.wall,
        "cpu": result.cpu / result.wall,
        "simulator_cpu": sim_cpu / result.wall,
        "lag_p99_ms": lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else math.nan,
        "unreachable": result.unreachable,
    }


def _rates(seconds: float) -> dict[str, Any]:
    from bench.bench_rates import run

    return {"rows": run(seconds)}


def _pages(requests: int, budget: float) -> dict[str, Any]:
    from bench.bench_pages import run

    return run(requests, budget)


def _outputs(rounds: int) -> dict[str, Any]:
    from bench.bench_outputs import percentile, run

    rows = []
    for row in run(rounds):
        lat = row["latencies"]
        rows.append({
            "kind": row["kind"], "outputs": row["outputs"], "hanging": row["hanging"],
            "deliveries": len(lat),
            "p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99),
            "max_ms": max(lat, default=math.nan), "unverified": row["unverified"],
        })  # fmt: skip
    return {"rows": rows}


def _wall_page(**kwargs: Any) -> dict[str, Any]:
    from bench.bench_wall_page import PageLoadConfig, run

    return run(PageLoadConfig(**kwargs))


def _browser(**kwargs: Any) -> dict[str, Any]:
    from bench.bench_browser import BrowserConfig, run

    return run(BrowserConfig(**kwargs))


def _timeline(units: int, hours: float) -> dict[str, Any]:
    from bench.bench_timeline import bytes_per_unit_day, run

    results, full_rate = run(units, hours)
    rows = [bytes_per_unit_day(name, m, units, hours) for name, m in results]
    return {"rows": rows, "full_rate_per_unit_hour": full_rate}


def _timeline_page(units: int, hours: float) -> dict[str, Any]:
    from bench.bench_timeline_browser import run

    return {"steps": run(units, hours)}


SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {
    "live": _live,
    "shure": _shure,
    "rates": _rates,
    "pages": _pages,
    "browser": _browser,
    "timeline": _timeline,
    "timeline_page": _timeline_page,
    "outputs": _outputs,
    "wall_page": _wall_page,
}


def run_scenario(name: str, limit: float, **kwargs: Any) -> dict[str, Any]:
    """Run one scenario in a child process for at most `limit` seconds; never raises."""
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=_child, args=(theirs, name, kwargs), name=f"bench-{name}"
    )
    child.start()
    outcome: dict[str, Any]
    if ours.poll(limit):
        outcome = ours.recv()
    else:
        outcome = {"error": f"stopped after its {limit:.0f} s limit"}
    child.join(timeout=5)
    if child.is_alive():
        child.terminate()  # SIGTERM: the child stops what it started
        child.join(timeout=30)
    if child.is_alive():
        child.kill()
        child.join(timeout=5)
    outcome.update(
        scenario=name,
        params=kwargs,
        seconds=time.monotonic() - started,
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )
    state = "failed: " + outcome["error"] if "error" in outcome else "done"
    print(f"  {name} {kwargs}: {state} in {outcome['seconds']:.0f} s, "
          f"load {load_before:.2f} -> {outcome['load_after']:.2f}", flush=True)  # fmt: skip
    return outcome


# ---------------------------------------------------------------- the run


def run_plan(plan: Plan) -> dict[str, Any]:
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    outcomes: list[dict[str, Any]] = []

    def budget_left(name: str, kwargs: dict[str, Any]) -> bool:
        if time.monotonic() - started < TOTAL_LIMIT:
            return True
        outcomes.append({"scenario": name, "params": kwargs, "error": "skipped: time limit"})
        return False

    for channels in plan.shure_channels:
        kwargs: dict[str, Any] = {
            "devices": channels // CHANNELS_PER_DEVICE,
            "seconds": plan.shure_seconds,
        }
        if budget_left("shure", kwargs):
            outcomes.append(run_scenario("shure", plan.shure_seconds + 60, **kwargs))
    kwargs = {"seconds": RATES_SECONDS}
    if budget_left("rates", kwargs):
        outcomes.append(run_scenario("rates", 6 * RATES_SECONDS + 60, **kwargs))
    kwargs = {"rounds": OUTPUT_ROUNDS}
    if budget_left("outputs", kwargs):
        outcomes.append(run_scenario("outputs", 420, **kwargs))
    for channels in plan.live_channels:
        for clients in plan.live_clients:
            kwargs = {
                "devices": channels // CHANNELS_PER_DEVICE,
                "clients": clients,
                "seconds": plan.live_seconds,
                "warmup": plan.live_warmup,
            }
            if budget_left("live", kwargs):
                outcomes.append(run_scenario("live", plan.live_seconds + 150, **kwargs))
    for channels, clients in SERVER_COMPARISON:
        kwargs = {
            "devices": channels // CHANNELS_PER_DEVICE,
            "clients": clients,
            "seconds": plan.live_seconds,
            "warmup": plan.live_warmup,
            "server": "uvicorn",
        }
        if budget_left("live", kwargs):
            outcomes.append(run_scenario("live", plan.live_seconds + 150, **kwargs))
    for row in TARGET_ROWS:
        kwargs = {**row, "seconds": plan.live_seconds, "warmup": plan.live_warmup}
        if budget_left("live", kwargs):
            outcomes.append(run_scenario("live", plan.live_seconds + 150, **kwargs))
    for workers in WALL_PAGE_WORKERS:
        kwargs = {"workers": workers, "seconds": plan.wall_page_seconds}
        if budget_left("wall_page", kwargs):
            outcomes.append(run_scenario("wall_page", plan.wall_page_seconds + 240, **kwargs))
    kwargs = {"seconds": plan.browser_seconds, "warmup": plan.live_warmup}
    if budget_left("browser", kwargs):
        outcomes.append(run_scenario("browser", plan.browser_seconds + 180, **kwargs))
    kwargs = {"requests": plan.page_requests, "budget": plan.page_budget}
    if budget_left("pages", kwargs):
        outcomes.append(run_scenario("pages", 420, **kwargs))
    kwargs = {"units": plan.timeline_units, "hours": plan.timeline_hours}
    if budget_left("timeline", kwargs):
        outcomes.append(run_scenario("timeline", 240, **kwargs))
    kwargs = {"units": plan.timeline_page_units, "hours": plan.timeline_page_hours}
    if budget_left("timeline_page", kwargs):
        outcomes.append(run_scenario("timeline_page", 300, **kwargs))
    return {
        "machine": machine(),
        "plan": plan.__dict__,
        "started": started_at,
        "seconds": time.monotonic() - started,
        "scenarios": outcomes,
    }


def machine() -> dict[str, Any]:
    model = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
            text=True, timeout=10, check=False,
        ).stdout.strip()  # fmt: skip
    except OSError:
        commit = "?"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "commit": commit or "?",
    }


# ---------------------------------------------------------------- the table


def _f(value: Any, spec: str = ".0f", unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    return f"{value:{spec}}{unit}"


def _load(outcome: dict[str, Any]) -> str:
    return f"{_f(outcome.get('load_before'), '.2f')}→{_f(outcome.get('load_after'), '.2f')}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    scenarios = report["scenarios"]
    lines = [
        f"# Micboard benchmarks — {report['started']}",
        "",
        f"{m['cpus']} x {m['cpu_model']}; Python {m['python']}; Linux {m['kernel']}; "
        f"commit {m['commit']}; whole run {report['seconds'] / 60:.1f} min. "
        "Load = 1-minute load average before→after each scenario (the machine is shared).",
        "",
        "## Live path: reading → WebSocket client (10 Hz metering, 40 groups)",
        "",
    ]
    live_rows, capacity_rows, fanout_rows = [], [], []
    for o in (o for o in scenarios if o["scenario"] == "live"):
        p = o["params"]
        label = [
            f"{p['devices'] * CHANNELS_PER_DEVICE:,}",
            str(p["clients"]),
            p.get("server", "daphne")
            + (f", {p['groups']} group" if "groups" in p else "")
            + (f", {p['compression']}" if p.get("compression") else ""),
        ]
        if "ok" not in o:
            live_rows.append([*label, o["error"], "", "", "", "", "", "", "", _load(o)])
            continue
        r = o["ok"]
        lat, cpu, battery = r["latency_ms"], r["cpu"], r["battery_ms"]
        lost = r["views"] - r["views_matching"]
        live_rows.append([
            *label, _f(lat["p50"], ".1f"), _f(lat["p95"], ".1f"), _f(lat["p99"], ".1f"),
            _f(lat["max"], ".1f"), f"{_f(battery['p50'], '.1f')} / {_f(battery['p99'], '.1f')}",
            _f(r["frames_per_s"], ",.0f"), _f(r["updates_per_s"], ",.0f"),
            f"{lost} views / {r['units_differing']} units; {r['gaps']} gaps", _load(o),
        ])  # fmt: skip
        readings = r["poller_readings_per_s"]
        kept = readings / r["expected_readings_per_s"] if readings else None
        capacity_rows.append([
            *label, _f(r["expected_readings_per_s"], ",.0f"), _f(readings, ",.0f"),
            _f(kept * 100 if kept else None, ".0f", " %"), _f(cpu["poller"] * 100, ".0f", " %"),
            _f(r["rss_mb"]["poller"], ".0f", " MiB"), _f(r["poller_loop_lag_ms"], ".0f", " ms"),
            _load(o),
        ])  # fmt: skip
        per_k = cpu["web"] * 100 / (r["frames_per_s"] / 1000) if r["frames_per_s"] else None
        fanout_rows.append([
            *label, _f(r["frames_per_s"], ",.0f"), _f(cpu["web"] * 100, ".0f", " %"),
            _f(per_k, ".1f", " %"), _f(r["rss_mb"]["web"], ".0f", " MiB"),
            _f(cpu["clients"] * 100, ".0f", " %"), _load(o),
        ])  # fmt: skip
    lines += _table(
        ["channels", "clients", "web server", "p50 ms", "p95 ms", "p99 ms", "max ms",
         "battery step p50 / p99 ms", "frames/s", "unit updates/s", "lost (views ≠ Redis)",
         "load"], live_rows,
    )  # fmt: skip
    lines += ["", "## Poller capacity (the one poller of each live run)", ""]
    lines += _table(
        ["channels", "clients", "web server", "readings/s due", "readings/s (whole window)",
         "kept up", "poller CPU", "poller RSS", "loop lag", "load"], capacity_rows,
    )  # fmt: skip
    shure_rows = []
    for o in (o for o in scenarios if o["scenario"] == "shure"):
        channels = f"{o['params']['devices'] * CHANNELS_PER_DEVICE:,}"
        if "ok" not in o:
            shure_rows.append([channels, o["error"], "", "", "", _load(o)])
            continue
        r = o["ok"]
        shure_rows.append([
            channels, _f(r["expected_per_s"], ",.0f"), _f(r["received_per_s"], ",.0f"),
            _f(r["cpu"] * 100, ".0f", " %"), _f(r["lag_p99_ms"], ".1f", " ms"), _load(o),
        ])  # fmt: skip
    lines += ["", "Shure TCP protocol client alone (one uvloop loop, no poller logic):", ""]
    lines += _table(
        ["channels", "readings/s due", "received/s", "CPU", "loop lag p99", "load"], shure_rows
    )
    lines += _rates_section(scenarios)
    lines += ["", "## Fan-out: web process cost", ""]
    lines += _table(
        ["channels", "clients", "web server", "client frames/s", "server CPU",
         "CPU per 1,000 frames/s", "server RSS", "bench clients CPU", "load"], fanout_rows,
    )  # fmt: skip
    lines += _wall_page_section(scenarios)
    lines += _browser_section(scenarios)
    lines += _pages_section(scenarios)
    lines += _timeline_section(scenarios)
    lines += _outputs_section(scenarios)
    lines += _targets_section(scenarios)
    return "\n".join(lines) + "\n"


def _wall_page_section(scenarios: list[dict[str, Any]]) -> list[str]:
    lines = ["", "## The wall page under load (uvicorn, walls streaming meanwhile)", ""]
    rows = []
    for o in (o for o in scenarios if o["scenario"] == "wall_page"):
        if "ok" not in o:
            rows.append([str(o["params"]["workers"]), o["error"], "", "", "", _load(o)])
            continue
        r = o["ok"]
        rows.append([
            str(r["config"]["workers"]),
            f"{r['config']['rate']:g}/s for {r['config']['seconds']:g} s",
            str(r["errors"]), f"{_f(r['p50_ms'])} / {_f(r['p99_ms'])} / {_f(r['max_ms'])}",
            _f(r["web_cpu"] * 100, ".0f", " %"), _load(o),
        ])  # fmt: skip
    header = ["web processes", "requests", "errors", "p50 / p99 / max ms", "web CPU", "load"]
    return lines + _table(header, rows)


def _live_result(scenarios: list[dict[str, Any]], **params: Any) -> dict[str, Any] | None:
    """The result of the live run whose parameters include `params` (None: not measured)."""
    for o in scenarios:
        if o["scenario"] == "live" and "ok" in o:
            p = o["params"]
            if all(p.get(k) == v for k, v in params.items()) and (
                "compression" in params or not p.get("compression")
            ):
                result: dict[str, Any] = o["ok"]
                return result
    return None


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**met**" if ok else "**not met**")


def _targets_section(scenarios: list[dict[str, Any]]) -> list[str]:
    """Every target of issue 13 with this run's number beside it."""
    rows: list[list[str]] = []
    wall = _live_result(scenarios, devices=25, clients=1, groups=1, server="uvicorn")
    if wall is not None:
        lat, bat, pushed = wall["latency_ms"], wall["battery_ms"], wall["battery_pushed_ms"]
        rows.append(["reading → wall, 100 ch, one wall: p50 ≤ 5 / p99 ≤ 15 ms",
                     f"{lat['p50']:.1f} / {lat['p99']:.1f} ms",
                     _verdict(lat["p50"] <= 5 and lat["p99"] <= 15)])  # fmt: skip
        rows.append(
            [
                "battery step p99 within 10 ms of the meter p99 (100 ch, one wall)",
                f"from the push {pushed['p99']:.1f} ms (from the bench's ask {bat['p99']:.1f}); "
                f"meters {lat['p99']:.1f} ms",
                _verdict(pushed["p99"] <= lat["p99"] + 10),
            ]
        )
        cpu = wall["cpu"]
        stack = cpu["poller"] + cpu["web"] + cpu["redis"]
        rows.append(["CPU, the stack at 100 ch ≤ the original's 19 % of a core",
                     f"{stack:.0%} (poller {cpu['poller']:.0%}, web {cpu['web']:.0%}, "
                     f"redis {cpu['redis']:.0%})", _verdict(stack <= 0.19)])  # fmt: skip
    else:
        rows.append(["reading → wall, battery, CPU at 100 ch, one wall", "—", _verdict(None)])
    big = _live_result(scenarios, devices=250, clients=200, server="uvicorn")
    if big is not None:
        lost = big["views"] - big["views_matching"]
        p99 = big["latency_ms"]["p99"]
        rows.append(["1,000 ch x 200 walls (uvicorn): p99 not worse than 119 ms, 0 lost",
                     f"p99 {p99:.0f} ms, {lost} views lost",
                     _verdict(p99 <= 119 and lost == 0)])  # fmt: skip
    else:
        rows.append(["1,000 ch x 200 walls (uvicorn)", "—", _verdict(None)])
    for compression in ("none", "deflate"):
        row = _live_result(
            scenarios, devices=25, clients=1, groups=1, server="uvicorn",
            compression=None if compression == "none" else compression,
        )  # fmt: skip
        value = "—" if row is None else f"{row['wire_kb_per_wall_s']:.1f} kB/s"
        ok = None if row is None else row["wire_kb_per_wall_s"] <= 60
        rows.append([f"bytes to one wall at 100 ch ≤ 60 kB/s ({compression})", value,
                     _verdict(ok)])  # fmt: skip
    small = _live_result(scenarios, devices=2, clients=1, groups=1, server="uvicorn")
    value = "—" if small is None else f"{small['cpu']['poller']:.1%}"
    ok = None if small is None else small["cpu"]["poller"] <= 0.03
    rows.append(["poller at 8 ch ≤ 3 % of a core", value, _verdict(ok)])
    pages = next(
        (o["ok"] for o in scenarios if o["scenario"] == "wall_page" and "ok" in o
         and o["ok"]["config"]["workers"] == WALL_PAGE_WORKERS[0]), None,
    )  # fmt: skip
    value = "—" if pages is None else f"{pages['errors']} errors, p99 {pages['p99_ms']:.0f} ms"
    ok = None if pages is None else pages["errors"] == 0 and pages["p99_ms"] <= 200
    rows.append(
        ["wall page at 50 requests/s for 20 s: 0 errors, p99 ≤ 200 ms", value, _verdict(ok)]
    )
    rows.append(["web memory flat (±5 %) over 30 min, a socket gone mid-stream each second",
                 "`make soak` (not part of `make bench`)", "see the soak's verdict"])  # fmt: skip
    lines = ["", "## Targets (issue 13)", ""]
    return lines + _table(["target", "this run", "verdict"], rows)


def _rates_section(scenarios: list[dict[str, Any]]) -> list[str]:
    lines = ["", "Protocol clients, one simulator each: readings/s per channel", ""]
    outcome = next((o for o in scenarios if o["scenario"] == "rates"), None)
    if outcome is None or "ok" not in outcome:
        return [*lines, f"not measured: {outcome['error'] if outcome else 'not run'}"]
    rows = []
    for row in outcome["ok"]["rows"]:
        rates = list(row["per_channel_per_s"].values()) or [math.nan]
        rows.append([
            row["label"], _f(row["asked_per_s"], ".1f"), _f(min(rates), ".1f"),
            _f(max(rates), ".1f"), str(len(row["per_channel_per_s"])), _load(outcome),
        ])  # fmt: skip
    return lines + _table(["client", "asked/s", "min/s", "max/s", "channels", "load"], rows)


def _outputs_section(scenarios: list[dict[str, Any]]) -> list[str]:
    lines = ["", "## Outputs: alert raised in the poller → received (webhook, MQTT, OSC)", ""]
    outcome = next((o for o in scenarios if o["scenario"] == "outputs"), None)
    if outcome is None or "ok" not in outcome:
        return [*lines, f"not measured: {outcome['error'] if outcome else 'not run'}"]
    rows = [
        [r["kind"], str(r["outputs"]), "yes" if r["hanging"] else "no", str(r["deliveries"]),
         _f(r["p50_ms"], ".1f"), _f(r["p99_ms"], ".1f"), _f(r["max_ms"], ".1f"),
         str(r["unverified"]), _load(outcome)]
        for r in outcome["ok"]["rows"]
    ]  # fmt: skip
    header = ["kind", "outputs", "+ one hanging", "deliveries", "p50 ms", "p99 ms", "max ms",
              "unsigned", "load"]  # fmt: skip
    return lines + _table(header, rows)


def _browser_section(scenarios: list[dict[str, Any]]) -> list[str]:
    lines = ["", "## Browser: a 500-tile wall in headless chromium (kiosk link)", ""]
    outcome = next((o for o in scenarios if o["scenario"] == "browser"), None)
    if outcome is None or "ok" not in outcome:
        return [*lines, f"not measured: {outcome['error'] if outcome else 'not run'}"]
    r = outcome["ok"]
    pixels, received = r["pixels_ms"], r["received_ms"]
    thread = r["main_thread"]
    row = [
        f"{r['tiles']} ({r['tiles_on_screen']} on screen)",
        " / ".join(_f(pixels[k], ".0f") for k in ("p50", "p95", "p99", "max")),
        f"{pixels['samples']:,}",
        " / ".join(_f(received[k], ".0f") for k in ("p50", "p99")),
        _f(thread["busy"] * 100, ".0f", " %"),
        _f(thread["cpu"] * 100, ".0f", " %"),
        f"{r['long_tasks']} ({_f(r['long_task_max_ms'], '.0f', ' ms')})",
        _f(r["rendered_frames_per_s"], ".0f"),
        _load(outcome),
    ]
    header = [
        "tiles", "reading → pixels p50/p95/p99/max ms", "samples",
        "reading → page p50/p99 ms", "main thread busy", "main thread CPU",
        "long tasks (worst)", "frames/s", "load",
    ]  # fmt: skip
    return lines + _table(header, [row])


def _pages_section(scenarios: list[dict[str, Any]]) -> list[str]:
    lines = ["", "## Pages (Django test client, SQLite, signed in as an admin)", ""]
    outcome = next((o for o in scenarios if o["scenario"] == "pages"), None)
    if outcome is None or "ok" not in outcome:
        return [*lines, f"not measured: {outcome['error'] if outcome else 'not run'}"]
    result = outcome["ok"]
    lines += _table(
        ["page", "server p50 ms", "server p95 ms", "SQL queries", "requests", "load"],
        [
            [name, _f(p["p50_ms"], ".1f"), _f(p["p95_ms"], ".1f"), str(p["queries"]),
             str(p["requests"]), _load(outcome)]
            for name, p in result["pages"].items()
        ],
    )  # fmt: skip
    sizes = list(result["services"])
    lines += ["", "## Service calls: SQL queries per call (ms)", ""]
    rows = []
    for name in result["services"][sizes[0]]:
        cells = []
        for size in sizes:
            call = result["services"][size].get(name)
            if call is None:
                cells.append("-")
            elif call["error"]:
                cells.append("ERROR: " + call["error"][:60])
            else:
                cells.append(f"{call['queries']} ({call['ms']:.1f})")
        counts = {result["services"][s].get(name, {}).get("queries") for s in sizes}
        rows.append(
            [f"`{name}`", *cells, "yes" if len(counts) == 1 and None not in counts else "NO"]
        )
    lines += _table(["call", *(f"{int(s):,} rows" for s in sizes), "constant"], rows)
    return lines


def _timeline_section(scenarios: list[dict[str, Any]]) -> list[str]:
    lines = ["", "## Timeline: storage (SQLite) and the page (headless chromium)", ""]
    storage = next((o for o in scenarios if o["scenario"] == "timeline"), None)
    if storage is None or "ok" not in storage:
        lines.append(f"storage not measured: {storage['error'] if storage else 'not run'}")
    else:
        p = storage["params"]
        lines += [f"{p['units']} units for {p['hours']:g} h at 10 Hz:", ""]
        lines += _table(
            ["store", "1 s B/unit-day", "10 s B/unit-day", "1,000 units, 1 d + 7 d",
             "unit-s written/s", "load"],
            [[r["store"], _f(r["second"], ",.0f"), _f(r["ten_seconds"], ",.0f"),
              _f(r["budget_gb"], ".2f", " GB"), _f(r["written_per_s"], ",.0f"), _load(storage)]
             for r in storage["ok"]["rows"]],
        )  # fmt: skip
        full_rate = storage["ok"]["full_rate_per_unit_hour"]
        lines += ["", f"every reading for the last hour: {_f(full_rate, ',.0f')} B per unit-hour "
                      f"({_f(full_rate * 1000 / 1e9, '.2f')} GB for 1,000 units)"]  # fmt: skip
    page = next((o for o in scenarios if o["scenario"] == "timeline_page"), None)
    if page is None or "ok" not in page:
        return [*lines, "", f"page not measured: {page['error'] if page else 'not run'}"]
    p = page["params"]
    lines += ["", f"a group of {p['units']} units over {p['hours']:g} h:", ""]
    return lines + _table(
        ["step", "median ms", "max ms", "runs", "load"],
        [[name, _f(statistics.median(times)), _f(max(times)), str(len(times)), _load(page)]
         for name, times in page["ok"]["steps"].items()],
    )  # fmt: skip


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short windows (about 5 min)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    print(f"Micboard benchmarks ({'quick' if args.quick else 'full'}); scenarios:", flush=True)
    report = run_plan(plan)
    text = render(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (RESULTS / "latest.md").write_text(text)
    print("\n" + text)
    print(f"written: {RESULTS / 'latest.json'} and {RESULTS / 'latest.md'}")


if __name__ == "__main__":
    main()
