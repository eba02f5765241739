"""Measure discovery: from the first announcement to every receiver listed and identified.

A stage of simulated receivers (Shure TCP over SLP, EW-DX over mDNS) announces itself on
loopback, as `make run`'s does; one Discovery (the poller's) listens on loopback only and
records what it finds in a throwaway redis-server. The table gives, per family, how long
after discovery started each receiver was identified (SLP asks at start, so nobody waits
for the 10 s announcement interval) and how long one probe took.

    .venv/bin/python bench/bench_discovery.py [--shure 12] [--ewdx 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

PASSWORD = "Bench-Discovery-1!"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _configure(redis_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="micboard.settings",
        DATABASE_URL=f"sqlite:///{tempfile.mkdtemp(prefix='bench-discovery-')}/db.sqlite3",
        REDIS_URL=redis_url,
        MICBOARD_REDIS_PREFIX="benchdisc",
        MICBOARD_SSC_PASSWORD=PASSWORD,
        LOG_LEVEL="ERROR",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


async def _measure(shure: int, ewdx: int) -> dict[str, list[float]]:
    from micboard.devices import Protocol
    from realtime.discovery.found import Sighting
    from realtime.discovery.service import Discovery
    from realtime.redis_client import new_async_client
    from realtime.simulation.announce import StageAnnouncer
    from realtime.simulation.sennheiser_ssc.simulator import SennheiserSscSimulator
    from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator

    simulators: list[Any] = [ShureTcpSimulator("ULXD4Q", seed=n) for n in range(shure)]
    simulators += [SennheiserSscSimulator(seed=100 + n, password=PASSWORD) for n in range(ewdx)]
    for simulator in simulators:
        await simulator.start()
    slp_port = _free_port()
    announcer = StageAnnouncer(simulators, slp_port=slp_port)
    await announcer.start()
    redis_client = new_async_client()
    discovery = Discovery(
        redis_client, lambda _: False, slp_port=slp_port, interfaces=["127.0.0.1"]
    )
    started = time.time()
    task = asyncio.create_task(discovery.run())
    wanted = {Sighting(s.device_info().protocol, "127.0.0.1", s.port, ""): s for s in simulators}
    found_at: dict[str, list[float]] = {p.value: [] for p in Protocol}
    probe_s: dict[str, list[float]] = {p.value: [] for p in Protocol}
    deadline = started + 60
    while wanted and time.time() < deadline:
        for sighting in list(wanted):  # polled: the bench reads what the page would read
            found = await discovery.registry.get(sighting)
            if found is not None and found.info is not None:
                family = sighting.protocol.value
                found_at[family].append(found.probed_at - started)
                probe_s[family].append(found.probed_at - found.first_seen)
                del wanted[sighting]
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await announcer.stop()
    for simulator in simulators:
        await simulator.stop()
    await redis_client.aclose()
    return {
        "missing": [float(len(wanted))],
        **{f"{k} found": v for k, v in found_at.items()},
        **{f"{k} probe": v for k, v in probe_s.items()},
    }


def _wait_for_redis(port: int) -> None:
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # polling the server, not standing in for it


def print_table(result: dict[str, list[float]]) -> None:
    print(f"{'measure':34} {'count':>5} {'p50 s':>7} {'max s':>7}")
    for name, values in result.items():
        if name == "missing" or not values:
            continue
        ordered = sorted(values)
        print(f"{name:34} {len(values):5d} {ordered[len(values) // 2]:7.2f} {ordered[-1]:7.2f}")
    print(f"{'receivers never identified':34} {int(result['missing'][0]):5d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shure", type=int, default=12)
    parser.add_argument("--ewdx", type=int, default=2)
    args = parser.parse_args()
    port = _free_port()
    directory = tempfile.mkdtemp(prefix="bench-discovery-redis-")
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            directory,
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for_redis(port)
        _configure(f"redis://127.0.0.1:{port}/0")
        print_table(asyncio.run(_measure(args.shure, args.ewdx)))
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
