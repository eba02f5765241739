"""Measure a 500-tile wall in headless Chromium: reading -> tile pixels, and main-thread load.

The stack is bench/bench_live.py's, on loopback: a private redis-server, ULXD4Q simulators
(4 channels each, metering at 10 Hz) in a child process, one poller, daphne, and a throwaway
SQLite database with one monitoring group of `tiles` units. Debian's Chromium (Playwright)
opens the group's kiosk link, so no sign-in is needed, and waits until every tile is live.

Latency is measured in the page without touching static/js/live.js:
- a listener on the wall's WebSocket (installed before the page's scripts) notes, per unit,
  the `ts` of its newest state (the poller's receive time, epoch seconds) and when it arrived;
- a MutationObserver on the wall sees the DOM writes live.js makes for a tile on screen, and
  the next animation frame after the one that made them (the change has been painted by
  then) minus that `ts` is one "reading -> pixels" sample. Page and server share the clock.
Main-thread busy % is Chrome's own TaskDuration (DevTools Protocol `Performance.getMetrics`)
over the window: wall time, so on a loaded machine it also counts time the thread waited for
a core; ThreadTime (its CPU time) is shown beside it. Long tasks come from a
PerformanceObserver. The probes' own time in the page is measured too, so their share can
be taken off the busy %.

    .venv/bin/python bench/bench_browser.py [--seconds 20] [--warmup 5] [--tiles 500]
                                            [--viewport 1920x1080] [--cpu-throttle 4]

`--cpu-throttle` slows the page's CPU as DevTools does (a TV stick or a Raspberry Pi). The
table ends with the issue-18 targets and whether this run met them: 100 tiles at >= 55
frames/s with the main thread <= 30 % busy, >= 30 frames/s at 4x throttling, 500 tiles at
>= 30 frames/s.

`run(BrowserConfig(...))` does the same from Python and returns the raw numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, CDPSession, Page, Route, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a plain script

from bench.bench_live import (  # noqa: E402 - needs the repository on sys.path first
    CHANNELS,
    cpu_seconds,
    live_stack,
    percentile,
    print_table,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
LIVE_TIMEOUT_MS = 90_000  # the poller reads every device before the last tile turns live

# Installed before the page's own scripts, so its listener runs before live.js's handler.
SOCKET_PROBE = """
(() => {
  const probe = {
    recording: false, selfMs: 0, frames: 0, updates: 0,
    ts: new Map(),       // unit id -> reading time (epoch ms) of its newest state
    arrived: new Map(),  // unit id -> when that state reached the page (epoch ms)
    received: [],        // reading -> socket message (ms), deltas in the window
  };
  window.__micboardBench = probe;
  probe.clock = () => performance.timeOrigin + performance.now();

  function note(event) {
    const started = performance.now();
    if (typeof event.data === "string" && event.data.charAt(0) === "{") {
      const frame = JSON.parse(event.data);
      if ((frame.type === "delta" || frame.type === "snapshot") && frame.units) {
        remember(frame);
      }
    }
    probe.selfMs += performance.now() - started;
  }

  function remember(frame) {
    const now = probe.clock();
    const counted = probe.recording && frame.type === "delta";
    for (const [key, state] of Object.entries(frame.units)) {
      const id = Number(key);
      const ts = state.ts * 1000;
      if (probe.ts.get(id) !== ts) {  // a snapshot repeats states: keep the first arrival
        probe.ts.set(id, ts);
        probe.arrived.set(id, now);
      }
      if (counted) {
        probe.received.push(now - ts);
        probe.updates += 1;
      }
    }
    probe.frames += counted ? 1 : 0;
  }

  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener("message", note);
    }
  };
})();
"""

# Installed once the wall is live. A change made during frame F (document.timeline's time is
# F's) is painted at the end of F, so it is timed by the first animation frame after F.
PAINT_PROBE = """
() => {
  const probe = window.__micboardBench;
  const wall = document.getElementById("wall");
  const onScreen = new Set();
  const counted = new Map();  // unit id -> reading time already counted as painted
  let waiting = [];           // {ts, arrived, frame} of changes not yet painted
  let scheduled = false;

  // Nothing scrolls during a run, so the tiles on screen are found once (an observer of
  // every tile would add its own work to each frame).
  function findOnScreen() {
    onScreen.clear();
    for (const tile of wall.querySelectorAll(".tile[data-unit]")) {
      const box = tile.getBoundingClientRect();
      if (box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth) {
        onScreen.add(Number(tile.dataset.unit));
      }
    }
  }

  function painted(frameTime) {
    const started = performance.now();
    const now = probe.clock();
    const later = [];
    for (const change of waiting) {
      if (change.frame >= frameTime) {
        later.push(change);  // made in this very frame: painted at its end
      } else if (probe.recording) {
        probe.painted.push(now - change.ts);
        probe.shown.push(now - change.arrived);
      }
    }
    waiting = later;
    scheduled = false;
    schedule();
    probe.selfMs += performance.now() - started;
  }

  function schedule() {
    if (!scheduled && waiting.length) {
      scheduled = true;
      requestAnimationFrame(painted);
    }
  }

  function changed(records) {
    const started = performance.now();
    const frame = document.timeline.currentTime;
    for (const record of records) {
      const target = record.target;
      const node = target.nodeType === Node.ELEMENT_NODE ? target : target.parentElement;
      const tile = node && node.closest(".tile[data-unit]");
      const id = tile ? Number(tile.dataset.unit) : NaN;
      const ts = probe.ts.get(id);
      if (onScreen.has(id) && ts !== undefined && counted.get(id) !== ts) {
        counted.set(id, ts);
        waiting.push({ ts: ts, arrived: probe.arrived.get(id), frame: frame });
      }
    }
    schedule();
    probe.selfMs += performance.now() - started;
  }
  new MutationObserver(changed).observe(wall, {
    subtree: true, attributes: true, characterData: true, childList: true,
  });

  new PerformanceObserver((list) => {
    if (probe.recording) {
      list.getEntries().forEach((entry) => probe.longTasks.push(entry.duration));
    }
  }).observe({ type: "longtask" });

  // Frames rendered, to explain the latency: the wall animates all the time (meters, blinking
  // tiles), so counting them with requestAnimationFrame adds no frames of its own.
  function countFrame() {
    if (probe.recording) {
      probe.rendered += 1;
      requestAnimationFrame(countFrame);
    }
  }

  probe.start = () => {
    findOnScreen();
    Object.assign(probe, { painted: [], shown: [], received: [], longTasks: [],
                           frames: 0, updates: 0, rendered: 0, selfMs: 0, recording: true,
                           startedAt: performance.now() });
    requestAnimationFrame(countFrame);
    return onScreen.size;
  };
  probe.stop = () => {
    probe.recording = false;
    return {
      painted: probe.painted, shown: probe.shown, received: probe.received,
      longTasks: probe.longTasks, frames: probe.frames, updates: probe.updates,
      rendered: probe.rendered,
      selfMs: probe.selfMs, onScreen: onScreen.size,
      seconds: (performance.now() - probe.startedAt) / 1000,
      clockSkewMs: Date.now() - probe.clock(),
    };
  };
}
"""

ALL_TILES_LIVE = """
(count) => document.querySelectorAll('#wall[data-state="live"] .tile[data-stale="false"]')
  .length >= count
"""


@dataclass(frozen=True)
class BrowserConfig:
    """One wall of `tiles` units (ULXD4Q channels metering at 10 Hz) in one browser tab."""

    tiles: int = 500
    seconds: float = 20.0
    warmup: float = 5.0
    width: int = 1920
    height: int = 1080
    frame_ms: int = 25
    cpu_throttle: float = 1.0  # DevTools' CPU throttling rate: 4 is a slow TV stick

    def __post_init__(self) -> None:
        if self.tiles <= 0 or self.tiles % CHANNELS:
            raise ValueError(f"tiles must be a positive multiple of {CHANNELS} (one receiver each)")


@dataclass(frozen=True)
class Stack:
    base_url: str
    kiosk_token: str
    pids: dict[str, int]
    load: float


# ---------------------------------------------------------------- the server side


@contextmanager
def browser_stack(config: BrowserConfig) -> Iterator[Stack]:
    """bench_live's stack (on daphne, as the recorded results) with one group of
    `config.tiles` units; stopped when the block ends."""
    with live_stack(config.tiles // CHANNELS, 1, config.frame_ms, "daphne") as stack:
        pids = {"daphne" if name == "web" else name: pid for name, pid in stack.pids.items()}
        yield Stack(f"http://127.0.0.1:{stack.port}", stack.tokens[0], pids, stack.load)


# ---------------------------------------------------------------- the browser side


def serve_static(route: Route) -> None:
    """Answer /static/ from the staticfiles finders, as runserver would: daphne with
    DEBUG=False serves only a collected STATIC_ROOT, which a bench run does not build."""
    from django.contrib.staticfiles import finders

    found = finders.find(urlsplit(route.request.url).path.removeprefix("/static/"))
    if isinstance(found, str):
        route.fulfill(path=found)
    else:
        route.fulfill(status=404)


def open_wall(browser: Browser, stack: Stack, config: BrowserConfig) -> Page:
    """Open the kiosk page of the wall and wait until every tile shows live values."""
    context = browser.new_context(viewport={"width": config.width, "height": config.height})
    context.route("**/static/**", serve_static)
    context.add_init_script(SOCKET_PROBE)
    page = context.new_page()
    page.goto(f"{stack.base_url}/kiosk/{stack.kiosk_token}/")
    page.wait_for_function(ALL_TILES_LIVE, arg=config.tiles, timeout=LIVE_TIMEOUT_MS)
    # Open alerts (up to 20 toasts) sit above the tiles in desk mode and can push them all
    # below the fold; look at the tiles, as a person at the wall would.
    page.evaluate("() => document.getElementById('wall-tiles').scrollIntoView()")
    return page


def chrome_metrics(cdp: CDPSession) -> dict[str, float]:
    return {item["name"]: item["value"] for item in cdp.send("Performance.getMetrics")["metrics"]}


def measure(page: Page, stack: Stack, config: BrowserConfig) -> dict[str, Any]:
    """Warm up, then record one window; return the page's samples and Chrome's metrics."""
    page.evaluate(PAINT_PROBE)
    cdp = page.context.new_cdp_session(page)
    if config.cpu_throttle > 1:  # before the warm-up, so the window sees a settled page
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": config.cpu_throttle})
    page.wait_for_timeout(config.warmup * 1000)  # the benchmark's warm-up, not a sync
    cdp.send("Performance.enable", {"timeDomain": "timeTicks"})
    cpu_before = {name: cpu_seconds(pid) for name, pid in stack.pids.items()}
    before = chrome_metrics(cdp)
    page.evaluate("() => window.__micboardBench.start()")
    page.wait_for_timeout(config.seconds * 1000)  # the measured window
    after = chrome_metrics(cdp)
    cpu_after = {name: cpu_seconds(pid) for name, pid in stack.pids.items()}
    samples = page.evaluate("() => window.__micboardBench.stop()")
    elapsed = after["Timestamp"] - before["Timestamp"]
    cpu = {name: (cpu_after[name] - cpu_before[name]) / elapsed for name in stack.pids}
    share = {
        name: (after[metric] - before[metric]) / elapsed
        for name, metric in (("busy", "TaskDuration"), ("cpu", "ThreadTime"),
                             ("renderer_cpu", "ProcessTime"), ("script", "ScriptDuration"),
                             ("style", "RecalcStyleDuration"), ("layout", "LayoutDuration"))
    }  # fmt: skip
    return {"samples": samples, "elapsed": elapsed, "cpu": cpu, "main_thread": share}


def distribution(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": percentile(ordered, 0.50),
        "p95": percentile(ordered, 0.95),
        "p99": percentile(ordered, 0.99),
        "max": ordered[-1] if ordered else float("nan"),
        "samples": len(ordered),
    }


def summarise(raw: dict[str, Any], stack: Stack, config: BrowserConfig) -> dict[str, Any]:
    """Chrome's shares are over its metrics window, the page's rates over the probe's."""
    samples, elapsed = raw["samples"], raw["samples"]["seconds"]
    long_tasks = samples["longTasks"]
    return {
        "tiles": config.tiles,
        "cpu_throttle": config.cpu_throttle,
        "tiles_on_screen": samples["onScreen"],
        "viewport": f"{config.width}x{config.height}",
        "seconds": elapsed,
        "load_before": stack.load,
        "load_after": os.getloadavg()[0],
        "pixels_ms": distribution(samples["painted"]),
        "received_ms": distribution(samples["received"]),
        "socket_to_pixels_ms": distribution(samples["shown"]),
        "main_thread_busy": raw["main_thread"]["busy"],
        "main_thread": raw["main_thread"],
        "probe_share": samples["selfMs"] / 1000 / elapsed,
        "long_tasks": len(long_tasks),
        "long_task_max_ms": max(long_tasks, default=0.0),
        "rendered_frames_per_s": samples["rendered"] / elapsed,
        "frames_per_s": samples["frames"] / elapsed,
        "updates_per_s": samples["updates"] / elapsed,
        "clock_skew_ms": samples["clockSkewMs"],
        "cpu": raw["cpu"],
    }


def run(config: BrowserConfig) -> dict[str, Any]:
    """Start the stack, open the wall in headless Chromium, measure one window, stop it all.

    Configures Django in this process (settings from the environment it sets), so call it
    once per process: bench/run_all.py runs each scenario in a fresh child process.
    """
    with browser_stack(config) as stack, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = open_wall(browser, stack, config)
            return summarise(measure(page, stack, config), stack, config)
        finally:
            browser.close()


# ---------------------------------------------------------------- report


def _ms(stats: dict[str, float]) -> str:
    return (f"{stats['p50']:.1f} / {stats['p95']:.1f} / {stats['p99']:.1f} / "
            f"{stats['max']:.1f} ms ({stats['samples']:,} samples)")  # fmt: skip


def rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The CLI's table rows for one `run()` result."""
    thread, cpu = result["main_thread"], result["cpu"]
    return [
        ("tiles on the wall / on screen", f"{result['tiles']} / {result['tiles_on_screen']}"),
        ("reading->pixels p50 / p95 / p99 / max", _ms(result["pixels_ms"])),
        ("reading->socket message in page", _ms(result["received_ms"])),
        ("socket message->pixels", _ms(result["socket_to_pixels_ms"])),
        ("main-thread busy (CDP TaskDuration)", f"{result['main_thread_busy']:.1%}"),
        ("main-thread CPU / renderer process CPU",
         f"{thread['cpu']:.1%} / {thread['renderer_cpu']:.1%}"),
        ("  busy: script / style / layout",
         f"{thread['script']:.1%} / {thread['style']:.1%} / {thread['layout']:.1%}"),
        ("  busy: the bench probes", f"{result['probe_share']:.1%}"),
        ("long tasks (count, worst)",
         f"{result['long_tasks']}, {result['long_task_max_ms']:.0f} ms"),
        ("frames rendered per s (requestAnimationFrame)",
         f"{result['rendered_frames_per_s']:.0f}"),
        ("delta frames / unit updates received per s",
         f"{result['frames_per_s']:,.0f} / {result['updates_per_s']:,.0f}"),
        ("poller / daphne / simulators CPU (one core)",
         f"{cpu['poller']:.0%} / {cpu['daphne']:.0%} / {cpu['devices']:.0%}"),
        ("page clock - Date.now()", f"{result['clock_skew_ms']:.1f} ms"),
        ("load average before -> after",
         f"{result['load_before']:.2f} -> {result['load_after']:.2f}"),
        *target_rows(result),
    ]  # fmt: skip


def target_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The issue-18 frame-rate targets this run's shape has, each with its verdict."""
    fps, busy = result["rendered_frames_per_s"], result["main_thread_busy"]
    throttled = result["cpu_throttle"] > 1
    targets: list[tuple[str, bool]] = []
    if result["tiles"] <= 100 and not throttled:
        targets += [(">= 55 frames/s", fps >= 55), ("main thread <= 30 % busy", busy <= 0.30)]
    elif result["tiles"] <= 100:
        targets.append((">= 30 frames/s at 4x CPU throttling", fps >= 30))
    else:
        targets.append((f">= 30 frames/s at {result['tiles']} tiles", fps >= 30))
    return [(f"target: {name}", "met" if met else "NOT met") for name, met in targets]


def parse_config() -> BrowserConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="the measured window")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--tiles", type=int, default=500)
    parser.add_argument("--viewport", default="1920x1080", help="WIDTHxHEIGHT in CSS pixels")
    parser.add_argument("--frame-ms", type=int, default=25, help="the poller's coalescing tick")
    parser.add_argument("--cpu-throttle", type=float, default=1.0, help="DevTools CPU slowdown")
    args = parser.parse_args()
    width, height = (int(side) for side in args.viewport.split("x"))
    return BrowserConfig(
        tiles=args.tiles, seconds=args.seconds, warmup=args.warmup,
        width=width, height=height, frame_ms=args.frame_ms, cpu_throttle=args.cpu_throttle,
    )  # fmt: skip


def main() -> None:
    config = parse_config()
    result = run(config)
    title = (
        f"Micboard wall in headless Chromium: {config.tiles} tiles metering at 10 Hz, "
        f"viewport {result['viewport']}, CPU throttled {config.cpu_throttle:g}x, "
        f"{result['seconds']:.0f} s window after "
        f"{config.warmup:g} s warm-up, {os.cpu_count()} cores"
    )
    print_table(rows(result), title)


if __name__ == "__main__":
    main()
