"""Measure how often each protocol client yields a reading per channel, against the rate asked.

One simulator and one client per row, in one event loop on loopback: a Shure TCP ULXD4Q
metering at 100 ms and at 200 ms (the METER_RATE the client sets), a Sennheiser EW-DX
EM 4 pushing every 50 ms, an ew G4 EM asked for its cyclic attributes every 100 ms over
UDP, and a Digital 6000 EM 6000 subscribed to its meters every 100 ms (SSCv1, UDP). The
functional tests check that readings arrive and in what order; how many arrive per second
is measured here, where a loaded machine shows as a number. The two UDP rows run a little
above the asked rate: warnings and battery steps are pushed at once, between the cycles.

    .venv/bin/python bench/bench_rates.py [--seconds 5] [--warmup 1]

`run(seconds, warmup)` does the same from Python (bench/run_all.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from realtime.protocols.base import Reading
from realtime.protocols.sennheiser_ew import SennheiserEwClient
from realtime.protocols.sennheiser_ssc.client import SennheiserSscClient
from realtime.protocols.sennheiser_ssc1 import SennheiserSsc1Client
from realtime.protocols.shure_tcp import ShureTcpClient
from realtime.simulation.sennheiser_ew import SennheiserEwSimulator
from realtime.simulation.sennheiser_ssc.simulator import SennheiserSscSimulator
from realtime.simulation.sennheiser_ssc1 import SennheiserSsc1Simulator
from realtime.simulation.shure_tcp import ShureTcpSimulator

SSC_PASSWORD = "Bench-Rates-42!"

# A running client's readings, and how to stop the client and its simulator.
Started = tuple[AsyncIterator[Reading], Callable[[], Awaitable[None]]]
Start = Callable[[], Awaitable[Started]]


async def _shure_tcp(interval_ms: int) -> Started:
    sim = ShureTcpSimulator("ULXD4Q", seed=2)
    await sim.start()
    client = ShureTcpClient(sim.host, sim.port, model="ULXD4Q", meter_interval_ms=interval_ms)

    async def stop() -> None:
        await client.close()
        await sim.stop()

    return client.readings(), stop


async def _sennheiser(push_interval: float) -> Started:
    sim = SennheiserSscSimulator(password=SSC_PASSWORD, push_interval=push_interval)
    await sim.start()
    client = SennheiserSscClient(
        sim.host, sim.port, password=SSC_PASSWORD, verify=sim.client_ssl_context()
    )

    async def stop() -> None:
        await client.close()
        await sim.stop()

    return client.readings(), stop


async def _evolution_wireless(cycle_ms: int) -> Started:
    sim = SennheiserEwSimulator()
    await sim.start()
    client = SennheiserEwClient(sim.host, sim.port, cycle_ms=cycle_ms)

    async def stop() -> None:
        await client.close()
        await sim.stop()

    return client.readings(), stop


async def _digital_6000(interval_ms: int) -> Started:
    sim = SennheiserSsc1Simulator()
    await sim.start()
    client = SennheiserSsc1Client(sim.host, sim.port, meter_interval_ms=interval_ms)

    async def stop() -> None:
        await client.close()
        await sim.stop()

    return client.readings(), stop


# (label, readings per second per channel asked for, how to start it)
ROWS: list[tuple[str, float, Start]] = [
    ("Shure TCP ULXD4Q, METER_RATE 100 ms", 10.0, lambda: _shure_tcp(100)),
    ("Shure TCP ULXD4Q, METER_RATE 200 ms", 5.0, lambda: _shure_tcp(200)),
    ("Sennheiser EW-DX EM 4, push 50 ms", 20.0, lambda: _sennheiser(0.05)),
    ("Sennheiser ew G4 EM, Push cycle 100 ms", 10.0, lambda: _evolution_wireless(100)),
    ("Sennheiser EM 6000 (SSCv1), mm 100 ms", 10.0, lambda: _digital_6000(100)),
]


async def _count(start: Start, seconds: float, warmup: float) -> dict[int, float]:
    """Return readings per second of each channel over a window after `warmup` seconds."""
    readings, stop = await start()
    counts: Counter[int] = Counter()
    loop = asyncio.get_running_loop()
    window_starts = loop.time() + warmup
    window_ends = window_starts + seconds
    try:
        async for reading in readings:
            now = loop.time()
            if now >= window_ends:
                break
            if now >= window_starts and reading.rx_reachable:
                counts[reading.channel] += 1
    finally:
        await stop()
    return {channel: count / seconds for channel, count in sorted(counts.items())}


def run(seconds: float = 5.0, warmup: float = 1.0) -> list[dict[str, Any]]:
    """Measure every row in turn; return label, asked and per-channel rates for each."""
    results = []
    for label, asked, start in ROWS:
        per_channel = asyncio.run(_count(start, seconds, warmup))
        results.append({"label": label, "asked_per_s": asked, "per_channel_per_s": per_channel})
    return results


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'client and rate':38} {'asked/s':>8} {'min/s':>7} {'max/s':>7} {'channels':>8}")
    for row in results:
        rates = list(row["per_channel_per_s"].values()) or [0.0]
        print(
            f"{row['label']:38} {row['asked_per_s']:8.1f} {min(rates):7.1f} {max(rates):7.1f}"
            f" {len(row['per_channel_per_s']):8d}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    print_table(run(args.seconds, args.warmup))


if __name__ == "__main__":
    main()
