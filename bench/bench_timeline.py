"""Measure the timeline's storage: bytes per unit-day at 10 Hz for each way of keeping it.

Every option stores the same synthetic show: `--units` units read at 10 Hz for `--hours`
(RF wandering around -60 dBm, speech-like audio, a battery running down), folded into
per-second min/max/mean points by the recorder's own code (realtime/poller/recorder.py):

- chunks    the chosen store: one SQLite row per unit-minute of 1 s points and per unit-10 min
            of 10 s points, packed and compressed (micboard/timeline/codec.py)
- rows      one SQLite row per unit-second (12 small integer columns, indexed)
- stream    one Redis stream entry per unit-second (MEMORY USAGE of the streams)

    .venv/bin/python bench/bench_timeline.py [--units 20] [--hours 1]

Bytes per unit-day are the bytes measured scaled to 24 h, per tier; the budget column is
1,000 units with the default retention (24 h of 1 s points, 7 days of 10 s points;
docs/deploy.md). "unit-s written/s" is how many unit-seconds each store saves per second
of writing (the recorder needs one per unit per second).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a plain script

READING_RATE = 10  # Hz
SECOND_DAYS, TEN_SECOND_DAYS = 1, 7  # the default retention of each tier


@dataclass(frozen=True)
class Measured:
    """Bytes of the 1 s tier and of the 10 s tier for the whole run, and the write time."""

    second_bytes: float
    ten_second_bytes: float
    write_s: float

    @classmethod
    def one_tier(cls, second_bytes: float, write_s: float) -> Measured:
        """A store measured with 1 s points alone: its 10 s tier is taken as a tenth."""
        return cls(second_bytes, second_bytes / 10, write_s)


def synthetic_seconds(units: int, hours: float, start: int) -> tuple[list[list[Any]], Any]:
    """Return each second's closed points, from 10 Hz states folded by the recorder, and
    the writer's rows of every reading at full rate (realtime/poller/recorder.py)."""
    from realtime.poller.recorder import SecondAggregator, WindowBuilder, lane_values

    rng = random.Random(16)
    aggregator = SecondAggregator()
    full_rate = WindowBuilder()
    rf = [-60.0] * units
    out = []
    for second in range(int(hours * 3600)):
        for tick in range(READING_RATE):
            ts = start + second + tick / READING_RATE
            for unit in range(units):
                rf[unit] = max(-95.0, min(-30.0, rf[unit] + rng.gauss(0, 0.7)))
                state = _state(unit + 1, ts, rf[unit], rng, second / (hours * 3600))
                aggregator.observe(state)
                full_rate.add_readings([(state.id, (ts, lane_values(state)))])
        out.append(aggregator.close(start + second + 1.0))
    return out, full_rate


def measure_full_rate(full_rate: Any, workdir: Path) -> float:
    """Save every reading's minutes through the store; return the bytes they added (the
    units exist: measure_chunks made them)."""
    from django.db import connection

    from micboard.tenancy import system_context
    from micboard.timeline import store

    with system_context():
        _compact(connection)
        before = _size(workdir / "chunks.sqlite3")
        store.save_readings(full_rate.reading_rows())
        _compact(connection)
    return _size(workdir / "chunks.sqlite3") - before


def _state(unit_id: int, ts: float, rf: float, rng: random.Random, used: float) -> Any:
    from realtime.units.state import UnitState

    return UnitState(
        id=unit_id, status="GOOD", battery_status="GOOD", online=True, tx_on=True, bars=4,
        percent=round(100 - 60 * used), minutes=None, rf_a=round(rf), rf_b=round(rf - 3),
        antenna="AB", quality=None, audio=round(rng.uniform(-45, -12)), peak=None, clip=False,
        tx_offset=None, freq=None, name=None, ts=ts,
    )  # fmt: skip


def measure_chunks(seconds: list[list[Any]], workdir: Path, units: int) -> Measured:
    """Save through the real store into a fresh SQLite database: the bytes added, split
    between the tiers in proportion to their blobs, and the seconds the saving took."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum
    from django.db.models.functions import Length

    from micboard.models import Organization
    from micboard.tenancy import system_context
    from micboard.timeline import store
    from micboard.timeline.models import SampleChunk
    from realtime.poller.recorder import WindowBuilder
    from tests.factories import make_receiver

    call_command("migrate", verbosity=0)
    with system_context():
        make_receiver(Organization.default(), 2202, channels=units)
        _compact(connection)
        before = _size(workdir / "chunks.sqlite3")
        started = time.perf_counter()
        builder = WindowBuilder()
        for at, closed in enumerate(seconds):
            builder.add(closed)
            if at % 10 == 9:  # the writer's cadence: open windows saved every 10 s
                store.save_chunks(builder.chunks())
                builder.drop_finished()
        store.save_chunks(builder.chunks())
        took = time.perf_counter() - started
        _compact(connection)
        blobs = dict(
            SampleChunk.objects.values_list("resolution").annotate(size=Sum(Length("data")))
        )
    added = _size(workdir / "chunks.sqlite3") - before
    share = blobs[1] / (blobs[1] + blobs[10])
    return Measured(added * share, added * (1 - share), took)


def _compact(connection: Any) -> None:
    """Give back the free pages and fold the write-ahead log in, so the file is the data."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def measure_rows(seconds: list[list[Any]], workdir: Path) -> Measured:
    path = workdir / "rows.sqlite3"
    db = sqlite3.connect(path)
    lanes = ", ".join(f"{lane}_{part} INTEGER" for lane in ("a", "b", "au", "bt")
                      for part in ("lo", "hi", "mean"))  # fmt: skip
    db.execute(f"CREATE TABLE point (unit INTEGER, second INTEGER, {lanes})")
    db.execute("CREATE UNIQUE INDEX point_at ON point (unit, second)")
    db.commit()
    before = _size(path)
    started = time.perf_counter()
    for closed in seconds:
        db.executemany(
            "INSERT INTO point VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(unit, second, *_tenths(point)) for unit, second, point in closed],
        )
    db.commit()
    took = time.perf_counter() - started
    db.execute("VACUUM")
    db.close()
    return Measured.one_tier(_size(path) - before, took)


def measure_stream(seconds: list[list[Any]], workdir: Path) -> Measured:
    import redis

    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        _wait_for(client)
        started = time.perf_counter()
        for closed in seconds:
            pipe = client.pipeline(transaction=False)
            for unit, second, point in closed:
                fields = dict(zip("abcdefghijkl", _tenths(point), strict=True))
                pipe.xadd(f"tl:{unit}", fields, id=f"{second * 1000}-0")  # type: ignore[arg-type]
            pipe.execute()
        took = time.perf_counter() - started
        used = sum(int(client.memory_usage(key) or 0) for key in client.scan_iter("tl:*"))
        return Measured.one_tier(used, took)
    finally:
        server.terminate()
        server.wait(10)


def _tenths(point: Any) -> list[int]:
    return [round(v * 10) for span in point for v in (span.low, span.high, span.mean)]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(client: Any) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def setup_django(workdir: Path) -> None:
    """Configure Django on a throwaway SQLite database (the recorder's code needs it)."""
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'chunks.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "micboard.settings")
    import django

    django.setup()


def run(units: int, hours: float) -> tuple[list[tuple[str, Measured]], float]:
    """Return each store's measures, and the full-rate tier's bytes per unit-hour."""
    workdir = Path(tempfile.mkdtemp(prefix="micboard-bench-timeline-"))
    try:
        setup_django(workdir)
        seconds, full_rate = synthetic_seconds(units, hours, start=1_800_000_000)
        results = [
            ("chunks (chosen)", measure_chunks(seconds, workdir, units)),
            ("row per second", measure_rows(seconds, workdir)),
            ("Redis stream", measure_stream(seconds, workdir)),
        ]
        return results, measure_full_rate(full_rate, workdir) / (units * hours)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def bytes_per_unit_day(name: str, m: Measured, units: int, hours: float) -> dict[str, Any]:
    """Return one store's row: bytes per unit-day of each tier, the 1,000-unit budget."""
    unit_days = units * hours / 24
    per_day_1, per_day_10 = m.second_bytes / unit_days, m.ten_second_bytes / unit_days
    return {
        "store": name,
        "second": per_day_1,
        "ten_seconds": per_day_10,
        "budget_gb": 1000 * (per_day_1 * SECOND_DAYS + per_day_10 * TEN_SECOND_DAYS) / 1e9,
        "written_per_s": units * hours * 3600 / m.write_s,
    }


def print_table(
    results: list[tuple[str, Measured]], full_rate: float, units: int, hours: float
) -> None:
    print(f"\ntimeline storage: {units} units for {hours:g} h at {READING_RATE} Hz")
    print(
        f"{'store':<16} {'1 s B/unit-day':>15} {'10 s B/unit-day':>16} "
        f"{'1,000 units, 1 d + 7 d':>23} {'unit-s written/s':>17}"
    )
    for name, m in results:
        row = bytes_per_unit_day(name, m, units, hours)
        print(
            f"{name:<16} {row['second']:>15,.0f} {row['ten_seconds']:>16,.0f} "
            f"{row['budget_gb']:>20.2f} GB {row['written_per_s']:>17,.0f}"
        )
    print(
        f"full rate (every reading, the last hour): {full_rate:,.0f} B per unit-hour; "
        f"1,000 units: {1000 * full_rate / 1e9:.2f} GB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args()
    print_table(*run(args.units, args.hours), args.units, args.hours)


if __name__ == "__main__":
    main()
