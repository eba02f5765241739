"""Read 500 simulated Shure channels at 10 Hz from one event loop and print what it costs.

125 ULXD4Q simulators (4 channels each) run in a child process, so the CPU figure is the
client side alone: 125 ShureTcpClient sessions in one asyncio loop, each metering at
100 ms. Lag is how late the loop runs a 50 ms timer: bytes waiting in a socket wait at
least that long before a reading is made from them.

    .venv/bin/python bench/bench_shure_tcp.py --seconds 60 [--devices 125] [--uvloop]

`run(devices, seconds, warmup, use_uvloop)` does the same from Python (bench/run_all.py).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

from realtime.protocols.shure_tcp import ShureTcpClient
from realtime.simulation.shure_tcp import SimulatorFleet

MODEL = "ULXD4Q"
CHANNELS_PER_DEVICE = 4
METER_MS = 100
LAG_PROBE_SECONDS = 0.05


def _simulators(count: int, pipe: Connection) -> None:
    """Child process: run the fleet, send its ports, report its CPU when told to stop."""
    asyncio.run(_serve(count, pipe))


async def _serve(count: int, pipe: Connection) -> None:
    async with SimulatorFleet(count, MODEL, seed=100) as fleet:
        pipe.send([device.port for device in fleet.devices])
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, pipe.recv)  # "measure": start of the window
        started = time.process_time()
        await loop.run_in_executor(None, pipe.recv)  # "stop"
        pipe.send(time.process_time() - started)


class Tally:
    """Counters the consumers and the lag probe fill during the measured window."""

    def __init__(self) -> None:
        self.readings = 0
        self.unreachable = 0
        self.lags: list[float] = []

    def reset(self) -> None:
        self.readings = self.unreachable = 0
        self.lags.clear()


async def _consume(client: ShureTcpClient, tally: Tally) -> None:
    async for reading in client.readings():
        tally.readings += 1
        tally.unreachable += not reading.rx_reachable


async def _probe_lag(tally: Tally) -> None:
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(LAG_PROBE_SECONDS)
        tally.lags.append(loop.time() - started - LAG_PROBE_SECONDS)


@dataclass(frozen=True, slots=True)
class Result:
    wall: float
    cpu: float
    readings: int
    unreachable: int
    lags: list[float]


async def _measure(ports: list[int], pipe: Connection, seconds: float, warmup: float) -> Result:
    tally = Tally()
    clients = [ShureTcpClient("127.0.0.1", port, model=MODEL) for port in ports]
    tasks = [asyncio.create_task(_consume(client, tally)) for client in clients]
    tasks.append(asyncio.create_task(_probe_lag(tally)))
    await asyncio.sleep(warmup)  # connections, full dumps, meters starting
    tally.reset()
    pipe.send("measure")
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    pipe.send("stop")
    result = Result(wall, cpu, tally.readings, tally.unreachable, list(tally.lags))
    await asyncio.gather(*(client.close() for client in clients))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _print_table(args: argparse.Namespace, result: Result, sim_cpu: float) -> None:
    channels = args.devices * CHANNELS_PER_DEVICE
    expected = channels * 1000 / METER_MS
    received = result.readings / result.wall
    lags_ms = [lag * 1000 for lag in result.lags]
    rows = [
        ("devices x channels", f"{args.devices} x {CHANNELS_PER_DEVICE} = {channels}"),
        ("measured window", f"{result.wall:.1f} s (after {args.warmup:.0f} s warm-up)"),
        ("readings/s expected", f"{expected:.0f}"),
        ("readings/s received", f"{received:.0f} ({100 * received / expected:.1f} %)"),
        ("client CPU (one core)", f"{100 * result.cpu / result.wall:.1f} %"),
        ("simulator CPU (other process)", f"{100 * sim_cpu / result.wall:.1f} %"),
        ("loop lag p50 / p99 / max", _lag_cell(lags_ms)),
        ("unreachable readings", str(result.unreachable)),
        ("event loop", "uvloop" if args.uvloop else "asyncio"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


def _lag_cell(lags_ms: list[float]) -> str:
    if not lags_ms:
        return "n/a"
    p50, p99 = statistics.median(lags_ms), _percentile(lags_ms, 0.99)
    return f"{p50:.1f} / {p99:.1f} / {max(lags_ms):.1f} ms"


def _loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if not use_uvloop:
        return None
    import uvloop

    return uvloop.new_event_loop


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--devices", type=int, default=125)
    parser.add_argument("--uvloop", action="store_true")
    return parser.parse_args()


def run(
    devices: int = 125, seconds: float = 60.0, warmup: float = 3.0, use_uvloop: bool = False
) -> tuple[Result, float]:
    """Measure one window; return the client side's result and the simulators' CPU seconds."""
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=_simulators, args=(devices, theirs), daemon=True
    )
    child.start()
    try:
        ports = ours.recv()
        with asyncio.Runner(loop_factory=_loop_factory(use_uvloop)) as runner:
            result = runner.run(_measure(ports, ours, seconds, warmup))
        sim_cpu = ours.recv()
        child.join(timeout=10)
    finally:
        if child.is_alive():
            child.kill()
            child.join(timeout=10)
    return result, sim_cpu


def main() -> None:
    args = _arguments()
    result, sim_cpu = run(args.devices, args.seconds, args.warmup, args.uvloop)
    _print_table(args, result, sim_cpu)


if __name__ == "__main__":
    main()
