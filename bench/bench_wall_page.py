"""The wall page under load: a steady stream of page requests while walls stream frames.

The stack of bench/bench_live.py (a private redis-server, ULXD4Q simulators metering at
10 Hz, one poller) with uvicorn serving `micboard.asgi` as production does, with
`--workers` web processes (default: one per core, as `make run`, the Dockerfile and the
compose file run it). While `--clients` WebSocket walls take every frame, requests for a
wall page (signed in as an admin) are sent at `--rate` a second for `--seconds`, each at
its planned moment whether or not the ones before have answered (an open loop: a slow
server meets the same demand, as it would from real browsers). Each request's time is
from its planned moment to its last byte; an error is a failed request or any answer but
200.

    .venv/bin/python bench/bench_wall_page.py [--rate 50] [--seconds 20] [--workers N]
                                              [--devices 25] [--clients 20]

`run(PageLoadConfig(...))` does the same from Python and returns the raw numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvloop

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a plain script

from bench.bench_live import (  # noqa: E402  (needs the path above)
    CHANNELS,
    Wall,
    connect_walls,
    cpu_seconds,
    live_stack,
    percentile,
)

WARMUP = 3.0  # seconds of streaming before the first request


@dataclass(frozen=True)
class PageLoadConfig:
    rate: float = 50.0  # requests a second
    seconds: float = 20.0
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    devices: int = 25  # 100 channels
    clients: int = 20
    groups: int = 4


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children (uvicorn's workers are its children)."""
    total = cpu_seconds(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            total += cpu_seconds(int(stat.parent.name))
    return total


async def timed_get(client: httpx.AsyncClient, url: str, at: float) -> tuple[float, str | None]:
    """Wait until the planned moment, GET `url`; return (seconds from `at`, error or None)."""
    await asyncio.sleep(max(0.0, at - time.monotonic()))  # the plan's moment, not a wait
    try:
        response = await client.get(url)
    except httpx.HTTPError as error:
        return time.monotonic() - at, repr(error)
    failed = None if response.status_code == 200 else f"HTTP {response.status_code}"
    return time.monotonic() - at, failed


async def measure(config: PageLoadConfig, port: int, cookie: str, walls: list[Wall]) -> dict:
    tasks = await connect_walls(walls, f"ws://127.0.0.1:{port}")
    await asyncio.sleep(WARMUP)  # the walls stream for a while first: a warm-up
    for wall in walls:
        wall.recording = True  # count their frames from here on
    url = f"/walls/{walls[0].group}/"
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", cookies={"sessionid": cookie}, timeout=60,
        limits=limits,
    ) as client:  # fmt: skip
        start = time.monotonic() + 0.1
        count = int(config.rate * config.seconds)
        results = await asyncio.gather(
            *(timed_get(client, url, start + i / config.rate) for i in range(count))
        )
        elapsed = time.monotonic() - start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    times = sorted(1000 * seconds for seconds, _ in results)
    errors = [error for _, error in results if error is not None]
    return {
        "requests": count,
        "errors": len(errors),
        "first_errors": errors[:5],
        "p50_ms": percentile(times, 0.50),
        "p99_ms": percentile(times, 0.99),
        "max_ms": times[-1] if times else float("nan"),
        "elapsed_s": elapsed,
        "frames": sum(wall.frames for wall in walls),
    }


def run(config: PageLoadConfig) -> dict[str, Any]:
    """Start the stack, load the wall page, stop everything; return the numbers."""
    with live_stack(config.devices, config.groups, 25, "uvicorn", config.workers) as stack:
        walls = [
            Wall(
                group=stack.groups[i % len(stack.groups)],
                path=f"/ws/kiosk/{stack.tokens[i % len(stack.groups)]}/",
                headers=[],
            )
            for i in range(config.clients)
        ]
        web = stack.pids["web"]
        cpu_before, load_before = tree_cpu_seconds(web), os.getloadavg()[0]
        result = uvloop.run(measure(config, stack.port, stack.cookie, walls))
        result["web_cpu"] = (tree_cpu_seconds(web) - cpu_before) / result["elapsed_s"]
        result["load"] = (load_before, os.getloadavg()[0])
    return {**result, "config": config.__dict__}


def rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("requests (planned)", f"{result['requests']:,}"),
        ("errors (failed or not 200)", f"{result['errors']:,}"),
        ("request time p50 / p99 / max", f"{result['p50_ms']:.0f} / {result['p99_ms']:.0f} / "
                                          f"{result['max_ms']:.0f} ms"),
        ("frames the walls took meanwhile", f"{result['frames']:,}"),
        ("web processes' CPU (share of one core)", f"{100 * result['web_cpu']:.0f}%"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    defaults = PageLoadConfig()
    parser.add_argument("--rate", type=float, default=defaults.rate)
    parser.add_argument("--seconds", type=float, default=defaults.seconds)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--devices", type=int, default=defaults.devices)
    parser.add_argument("--clients", type=int, default=defaults.clients)
    args = parser.parse_args()
    config = PageLoadConfig(args.rate, args.seconds, args.workers, args.devices, args.clients)
    result = run(config)
    load = result["load"]
    print(
        f"Micboard wall page: {config.rate:g} requests/s for {config.seconds:g} s, uvicorn with "
        f"{config.workers} web process(es), {config.devices * CHANNELS} channels at 10 Hz, "
        f"{config.clients} walls streaming; {os.cpu_count()} cores, load {load[0]:.2f}->"
        f"{load[1]:.2f}"
    )
    table = rows(result)
    width = max(len(name) for name, _ in table)
    print(f"{'metric':<{width}}  value\n{'-' * width}  {'-' * 14}")
    for name, value in table:
        print(f"{name:<{width}}  {value}")
    for error in result["first_errors"]:
        print(f"error: {error}")


if __name__ == "__main__":
    main()
