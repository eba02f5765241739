"""Measure the live path under load: reading-to-browser latency, messages/s, lost updates.

Everything runs on loopback: a private redis-server; N ULXD4Q simulators (4 channels each,
metering at 10 Hz) in a child process; one poller (`manage.py run_poller`); daphne (or
uvicorn, `--server uvicorn`) serving `micboard.asgi`; and C WebSocket clients (the
`websockets` library, in this process) spread over G monitoring groups, half as signed-in
users on /ws/groups/, half as kiosks.

Latency is a client's receive time minus the `ts` of each UnitState in a delta: the moment
the poller's protocol client received that reading (the Shure wire format carries no time
of its own, and the simulator-to-poller hop is one loopback write). After the window the
simulators stop; once every wall has been quiet for a while, each client's view (snapshot
plus deltas, applied by seq as live.js does) is compared with the states in Redis.

    .venv/bin/python bench/bench_live.py [--seconds 30] [--devices 250] [--clients 200]
                                         [--server daphne|uvicorn]

`run(LiveConfig(...))` does the same from Python and returns the raw numbers (bench/run_all.py).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import itertools
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import msgpack
import orjson
import redis
import redis.asyncio as aioredis
import uvloop
import websockets

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a plain script

from micboard.webserver import UVICORN_OPTIONS  # noqa: E402  (needs the path above)

MODEL = "ULXD4Q"
CHANNELS = 4
WARMUP = 5.0
QUIET = 3.0  # a wall with no change (but restated times) for this long has settled
BATTERY_STEP_EVERY = 0.1  # seconds between battery steps (one pack each) in the window
PREFIX = "bench"
TCPI_BYTES_RECEIVED = slice(128, 136)  # where struct tcp_info keeps it (Linux 4.1 and later)


def page_origin(socket_base: str) -> websockets.Origin:
    """The Origin a browser sends from a page of the site the socket is on."""
    return websockets.Origin(socket_base.replace("ws://", "http://", 1).rstrip("/"))


# ---------------------------------------------------------------- child: the devices


def serve_simulators(count: int, pipe: Connection) -> None:
    uvloop.run(_simulators(count, pipe))


async def _simulators(count: int, pipe: Connection) -> None:
    from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator

    devices = [ShureTcpSimulator(MODEL, seed=1000 + i) for i in range(count)]
    for device in devices:
        await device.start()
    pipe.send([device.port for device in devices])
    loop = asyncio.get_running_loop()
    # ("battery", device, channel, bars) steps a pack as its receiver would report it;
    # "stop" ends the run. When each step was pushed to the poller goes back at the end:
    # the command's own trip here (a pipe read by a thread) is not the live path's time.
    pushed: list[float] = []
    while (command := await loop.run_in_executor(None, pipe.recv)) != "stop":
        _, device, channel, bars = command
        devices[device].set_battery(channel, bars=bars)
        pushed.append(time.time())
    await asyncio.gather(*(device.stop() for device in devices))
    pipe.send(pushed)


# ---------------------------------------------------------------- processes


def free_port() -> int:
    """Return a port free right now (redis-server is started on it at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening_socket() -> socket.socket:
    """Bind and listen here, then hand the socket to the web server: a port merely found
    free could be taken by one of the 250 simulators before the server binds it, and the
    clients' handshakes would then go to a Shure simulator and time out."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def web_server_command(server: str, fd: int, workers: int = 1) -> list[str]:
    """The command that serves micboard.asgi on an inherited listening socket (uvicorn
    with `workers` processes sharing it)."""
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "--fd", str(fd), "micboard.asgi:application"]
    return [
        sys.executable, "-m", "uvicorn", "--fd", str(fd), *UVICORN_OPTIONS,
        "--workers", str(workers),
        "--no-access-log", "--log-level", "warning", "micboard.asgi:application",
    ]  # fmt: skip


def wait_until(check: Any, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.2).ping())
    except redis.ConnectionError:
        return False


def server_answers(port: int) -> bool:
    """True once the web server answers HTTP (its socket listens before it serves)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status > 0
    except OSError:
        return False
    finally:
        connection.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (0 if it has gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---------------------------------------------------------------- the stage


def build_stage(ports: list[int], groups: int) -> tuple[list[int], list[str], str, list[int]]:
    """Create devices, units, groups and assignments; return group ids, kiosk tokens, a
    session cookie and the unit ids (device by device, channel by channel; unit i is on
    group i % groups). Bulk inserts: this is benchmark scaffolding, not a live change."""
    from django.contrib.auth.models import User
    from django.test import Client

    from micboard.models import (
        MonitoringGroup,
        Organization,
        Performer,
        PerformerAssignment,
        RFChannel,
        WirelessChassis,
        WirelessUnit,
    )
    from micboard.services import KioskService

    org = Organization.default()
    chassis = WirelessChassis.objects.bulk_create(
        WirelessChassis(organization=org, manufacturer="Shure", model=MODEL, name=f"RX{i:03d}",
                        protocol="shure_tcp", host="127.0.0.1", port=port)
        for i, port in enumerate(ports)
    )  # fmt: skip
    channels = RFChannel.objects.bulk_create(
        RFChannel(organization=org, chassis=c, number=n)
        for c in chassis
        for n in range(1, CHANNELS + 1)
    )
    units = WirelessUnit.objects.bulk_create(
        WirelessUnit(organization=org, base_chassis_id=ch.chassis_id, rf_channel=ch,
                     slot=f"U{i:04d}")
        for i, ch in enumerate(channels)
    )  # fmt: skip
    walls = MonitoringGroup.objects.bulk_create(
        MonitoringGroup(organization=org, name=f"Wall {g:02d}") for g in range(groups)
    )
    performers = Performer.objects.bulk_create(
        Performer(organization=org, name=f"Performer {i}") for i in range(len(units))
    )
    PerformerAssignment.objects.bulk_create(
        PerformerAssignment(organization=org, performer=p, wireless_unit=u,
                            monitoring_group=walls[i % groups])
        for i, (p, u) in enumerate(zip(performers, units, strict=True))
    )  # fmt: skip
    tokens = [KioskService.create_link(wall, "bench").token for wall in walls]
    admin = User.objects.create_superuser("bench", password=None)
    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    return [w.pk for w in walls], tokens, client.cookies["sessionid"].value, [u.pk for u in units]


# ---------------------------------------------------------------- clients


@dataclass
class Wall:
    """One WebSocket client applying frames as the browser script does."""

    group: int
    path: str
    headers: list[tuple[str, str]]
    view: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None
    frames: int = 0
    updates: int = 0
    gaps: int = 0
    last_change: float = 0.0  # the last delta that changed more than times (after the window)
    latencies: array = field(default_factory=lambda: array("d"))
    recording: bool = False
    steps: BatterySteps | None = None
    doubted: bool = False  # an older snapshot was dropped and a resync sent
    compression: str | None = None  # "deflate": offer permessage-deflate, as browsers do
    payload_bytes: int = 0  # the frames' text while recording
    sock: Any = None  # the TCP socket, to read how many bytes the wire carried

    async def run(self, base: str, connected: asyncio.Event) -> None:
        async with websockets.connect(
            base + self.path, origin=page_origin(base), additional_headers=self.headers,
            compression=self.compression, max_size=None, open_timeout=30,
        ) as ws:  # fmt: skip
            self.sock = ws.transport.get_extra_info("socket")
            connected.set()
            async for message in ws:
                if self.recording:
                    self.payload_bytes += len(message)
                await self.apply(ws, orjson.loads(message), time.time())

    def wire_bytes(self) -> int:
        """Bytes the TCP connection has received so far (Linux `tcpi_bytes_received`):
        WebSocket framing included, after permessage-deflate when it was negotiated."""
        info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
        return int.from_bytes(info[TCPI_BYTES_RECEIVED], sys.byteorder)

    async def apply(self, ws: Any, frame: dict[str, Any], now: float) -> None:
        kind = frame["type"]
        if kind == "snapshot":
            if self.seq is not None and frame["seq"] < self.seq and not self.doubted:
                self.doubted = True  # taken if the answer is older too: a restarted counter
                await ws.send('{"type":"resync"}')
                return
            self.doubted = False
            self.view, self.seq = frame["units"], frame["seq"]
        elif kind == "delta":
            if self.seq is not None and frame["seq"] <= self.seq:
                return
            if self.seq is not None and frame["seq"] != self.seq + 1:
                self.gaps += 1
                await ws.send('{"type":"resync"}')
            self.seq = frame["seq"]
            # The poller restates unchanged units every few seconds; only other changes
            # count against settling (looked at after the window only: it costs).
            if self.recording or any(
                without_ts(state) != without_ts(self.view.get(key))
                for key, state in frame["units"].items()
            ):
                self.last_change = now
            self.view.update(frame["units"])
            if self.recording:
                self.frames += 1
                self.updates += len(frame["units"])
                self.latencies.extend(now - state["ts"] for state in frame["units"].values())
                if self.steps is not None:
                    self.steps.seen(self, frame["units"], now)


@dataclass
class BatteryStep:
    index: int  # the how-manieth step of the run
    bars: int
    at: float  # when the bench asked the simulator for it
    walls: set[int] = field(default_factory=set)


@dataclass
class BatterySteps:
    """Steps one pack at a time, the way a receiver reports a changed battery bar, and
    times each step from the moment it was made to each wall's first delta showing it.

    Units alternate between 4 and 5 bars (both GOOD): no alerts, only the tile changes.
    """

    units: list[tuple[int, int]]  # (i, unit id): channel i % 4 + 1 of device i // 4
    step: Callable[[int, int, int], None]  # (device, channel, bars)
    views: dict[int, dict[str, Any]]  # unit id -> the view of one wall that shows it
    pending: dict[int, BatteryStep] = field(default_factory=dict)
    asked: array = field(default_factory=lambda: array("d"))  # each step's `at`, in order
    shown: list[tuple[int, float]] = field(default_factory=list)  # (step, seen at) per wall

    async def run(self, every: float) -> None:
        for index, unit in itertools.cycle(self.units):
            shown = self.views[unit].get(str(unit), {}).get("bars")
            bars = 4 if shown == 5 else 5
            self.pending[unit] = BatteryStep(len(self.asked), bars, time.time())
            self.asked.append(self.pending[unit].at)
            self.step(index // CHANNELS, index % CHANNELS + 1, bars)
            await asyncio.sleep(every)  # the pace of the steps, not a synchronisation

    def seen(self, wall: Wall, states: dict[str, Any], now: float) -> None:
        for key, state in states.items():
            step = self.pending.get(int(key))
            if step is not None and state["bars"] == step.bars and id(wall) not in step.walls:
                step.walls.add(id(wall))
                self.shown.append((step.index, now))

    def latencies(self, since: array | list[float]) -> list[float]:
        """Each step's time to each wall, from the times in `since` (the bench's asks, or
        the simulator's pushes), sorted, in ms."""
        return sorted(1000 * (seen - since[i]) for i, seen in self.shown if i < len(since))


@dataclass
class LayerProbe:
    """Listens on the channel layer's Redis channels: how old a state is when the poller
    publishes it, which splits the end-to-end latency into poller and web-process parts."""

    latencies: array = field(default_factory=lambda: array("d"))
    recording: bool = False

    async def run(self, url: str, groups: list[int]) -> None:
        client = aioredis.Redis.from_url(url)
        async with client.pubsub() as pubsub:
            await pubsub.subscribe(*(f"{PREFIX}.layer__group__mg.{g}" for g in groups))
            async for message in pubsub.listen():
                if message["type"] == "message" and self.recording:
                    self.record(msgpack.unpackb(message["data"]), time.time())

    def record(self, message: dict[str, Any], now: float) -> None:
        frame = orjson.loads(message["text"]) if message.get("type") == "live.frame" else {}
        if frame.get("type") == "delta":
            self.latencies.extend(now - state["ts"] for state in frame["units"].values())


async def connect_walls(walls: list[Wall], base: str) -> list[asyncio.Task[None]]:
    tasks = []
    for start in range(0, len(walls), 20):  # a few handshakes at a time
        batch = walls[start : start + 20]
        events = [asyncio.Event() for _ in batch]
        new = [asyncio.create_task(w.run(base, e)) for w, e in zip(batch, events, strict=True)]
        tasks += new
        await _connected(events, new)
    return tasks


async def _connected(events: list[asyncio.Event], tasks: list[asyncio.Task[None]]) -> None:
    """Wait until every wall of a batch is connected; a failed handshake fails at once,
    with its own error, instead of as a timeout of the whole batch."""
    waits = [asyncio.create_task(e.wait()) for e in events]
    pending = set(waits) | set(tasks)
    async with asyncio.timeout(30):
        while not all(e.is_set() for e in events):
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done & set(tasks):
                task.result()  # raises the handshake's error
                raise RuntimeError("a wall's socket closed before it connected")
    for wait in waits:
        wait.cancel()


async def wait_for_quiet(walls: list[Wall], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.time() - max(w.last_change for w in walls) < QUIET:
        if time.monotonic() > deadline:
            raise RuntimeError("walls never went quiet")
        await asyncio.sleep(0.2)


def without_ts(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return a unit state without its time (restated every few seconds, even when idle)."""
    return None if state is None else {k: v for k, v in state.items() if k != "ts"}


def views_matching_redis(walls: list[Wall], url: str) -> tuple[int, int]:
    """Return (walls whose view equals Redis but for times, units that differ in total)."""
    client = redis.Redis.from_url(url)
    matching = differing = 0
    for wall in walls:
        members = sorted(int(m) for m in client.smembers(f"{PREFIX}:group:{wall.group}:units"))
        values = client.mget([f"{PREFIX}:unit:{m}" for m in members])
        stored = {str(m): orjson.loads(v) for m, v in zip(members, values, strict=True) if v}
        keys = stored.keys() | wall.view.keys()
        wrong = sum(
            1 for key in keys if without_ts(stored.get(key)) != without_ts(wall.view.get(key))
        )
        matching += wrong == 0
        differing += wrong
    return matching, differing


# ---------------------------------------------------------------- report


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def print_table(rows: list[tuple[str, str]], title: str) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}\n")
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 14}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


# ---------------------------------------------------------------- main


@dataclass(frozen=True)
class LiveConfig:
    """One live-path scenario: `devices` x 4 channels metering at 10 Hz, `clients` sockets."""

    devices: int = 250
    clients: int = 200
    groups: int = 40
    seconds: float = 30.0
    frame_ms: int = 25
    warmup: float = WARMUP
    server: str = "daphne"  # or "uvicorn"
    compression: str | None = None  # the clients offer "deflate" (permessage-deflate) or not


async def measure(args: LiveConfig, stack: LiveStack) -> dict[str, Any]:
    walls = [
        Wall(
            group=stack.groups[i % len(stack.groups)],
            path=(f"/ws/groups/{stack.groups[i % len(stack.groups)]}/" if i % 2 == 0
                  else f"/ws/kiosk/{stack.tokens[i % len(stack.groups)]}/"),
            headers=[("Cookie", f"sessionid={stack.cookie}")] if i % 2 == 0 else [],
            compression=args.compression,
        )
        for i in range(args.clients)
    ]  # fmt: skip
    tasks = await connect_walls(walls, f"ws://127.0.0.1:{stack.port}")
    by_group = {wall.group: wall.view for wall in walls}
    watched = [  # with fewer walls than groups, only the watched units
        (i, unit)
        for i, unit in enumerate(stack.units)
        if stack.groups[i % len(stack.groups)] in by_group
    ]
    views = {unit: by_group[stack.groups[i % len(stack.groups)]] for i, unit in watched}
    steps = BatterySteps(watched, stack.step_battery, views)
    probe = LayerProbe()
    tasks.append(asyncio.create_task(probe.run(stack.redis_url, stack.groups)))
    await asyncio.sleep(args.warmup)  # the benchmark's warm-up period, not a synchronisation
    pids = {
        "poller": stack.pids["poller"],
        "web": stack.pids["web"],
        "redis": stack.pids["redis"],
        "devices": stack.pids["devices"],
        "clients": os.getpid(),
    }
    beats = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    counts_before = poller_counts(beats)
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    recorders: list[Wall | LayerProbe] = [*walls, probe]
    wire_before = sum(wall.wire_bytes() for wall in walls)
    for recorder in recorders:
        recorder.recording = True
    for wall in walls:
        wall.steps = steps
    stepping = asyncio.create_task(steps.run(BATTERY_STEP_EVERY))
    started = time.monotonic()
    await asyncio.sleep(args.seconds)  # the measured window
    elapsed = time.monotonic() - started
    stepping.cancel()
    for recorder in recorders:
        recorder.recording = False
    wire = sum(wall.wire_bytes() for wall in walls) - wire_before
    cpu = {name: (cpu_seconds(pid) - cpu_before[name]) / elapsed for name, pid in pids.items()}
    counts = poller_counts(beats)
    beat: dict[str, str] = beats.hgetall(f"{PREFIX}:poller:bench")  # type: ignore[assignment]
    memory = {name: rss_mb(pid) for name, pid in pids.items()}
    load = os.getloadavg()[0]

    pushed = stack.stop_devices()
    await wait_for_quiet(walls)
    matching, differing = views_matching_redis(walls, stack.redis_url)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    ordered = sorted(v * 1000 for wall in walls for v in wall.latencies)
    published = sorted(v * 1000 for v in probe.latencies)
    battery = steps.latencies(steps.asked)
    from_push = steps.latencies(pushed)
    command = sorted(1000 * (p - a) for a, p in zip(steps.asked, pushed, strict=False))
    frames = sum(w.frames for w in walls)
    updates = sum(w.updates for w in walls)
    return {
        "channels": args.devices * CHANNELS,
        "devices": args.devices,
        "clients": args.clients,
        "groups": args.groups,
        "seconds": elapsed,
        "frame_ms": args.frame_ms,
        "load_before": stack.load,
        "load_after": load,
        "latency_ms": {
            "p50": percentile(ordered, 0.50),
            "p95": percentile(ordered, 0.95),
            "p99": percentile(ordered, 0.99),
            "max": ordered[-1] if ordered else float("nan"),
            "samples": len(ordered),
        },
        "published_ms": {"p50": percentile(published, 0.50), "p99": percentile(published, 0.99)},
        "battery_ms": {
            "p50": percentile(battery, 0.50),
            "p99": percentile(battery, 0.99),
            "samples": len(battery),
        },
        # From the moment the simulator pushed each step to the poller (what a receiver
        # does when a bar changes), and the bench's command's own trip to the simulator.
        "battery_pushed_ms": {
            "p50": percentile(from_push, 0.50),
            "p99": percentile(from_push, 0.99),
        },
        "battery_command_ms": {
            "p50": percentile(command, 0.50),
            "p99": percentile(command, 0.99),
        },
        "frames_per_s": frames / elapsed,
        # Per wall (the mean over all clients), kB = 1,000 bytes.
        "payload_kb_per_wall_s": sum(w.payload_bytes for w in walls) / len(walls) / elapsed / 1e3,
        "wire_kb_per_wall_s": wire / len(walls) / elapsed / 1e3,
        "compression": args.compression or "none",
        "updates_per_s": updates / elapsed,
        "expected_readings_per_s": args.devices * CHANNELS * 10,
        "server": args.server,
        "poller_readings_per_s": counts.rate("readings", counts_before),
        "poller_frames_per_s": counts.rate("frames", counts_before),
        "poller_reading_lag_ms": counts.lag_ms(counts_before),
        "poller_loop_lag_ms": _number(beat.get("loop_lag_ms")),
        "gaps": sum(w.gaps for w in walls),
        "cpu": cpu,
        "rss_mb": memory,
        "views_matching": matching,
        "views": len(walls),
        "units_differing": differing,
    }


@dataclass(frozen=True)
class PollerCounts:
    """The poller's running totals as of one heartbeat (which beats once a second)."""

    at: float  # seconds, the heartbeat's own time
    readings: float
    frames: float
    reading_lag_s: float

    def rate(self, name: str, before: PollerCounts) -> float | None:
        elapsed = self.at - before.at
        return (getattr(self, name) - getattr(before, name)) / elapsed if elapsed else None

    def lag_ms(self, before: PollerCounts) -> float | None:
        readings = self.readings - before.readings
        return 1000 * (self.reading_lag_s - before.reading_lag_s) / readings if readings else None


def poller_counts(client: redis.Redis) -> PollerCounts:
    """Read the bench poller's totals, so rates cover the whole window, not one second."""
    beat: dict[str, str] = client.hgetall(f"{PREFIX}:poller:bench")  # type: ignore[assignment]
    at_ms = client.zscore(f"{PREFIX}:pollers", "bench") or 0.0
    return PollerCounts(
        at=float(at_ms) / 1000,
        readings=float(beat.get("readings", 0)),
        frames=float(beat.get("frames", 0)),
        reading_lag_s=float(beat.get("reading_lag_total_s", 0)),
    )


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _text(value: float | None, unit: str = "") -> str:
    return "?" if value is None else f"{value:,.0f}{unit}"


def _decimals(value: float | None, unit: str = "") -> str:
    return "?" if value is None else f"{value:.2f}{unit}"


def rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The CLI's table rows for one `run()` result."""
    latency, published, cpu = result["latency_ms"], result["published_ms"], result["cpu"]
    battery, pushed = result["battery_ms"], result["battery_pushed_ms"]
    command = result["battery_command_ms"]
    return [
        ("reading->client latency p50", f"{latency['p50']:.1f} ms"),
        ("reading->client latency p95", f"{latency['p95']:.1f} ms"),
        ("reading->client latency p99", f"{latency['p99']:.1f} ms"),
        ("reading->client latency max", f"{latency['max']:.1f} ms"),
        ("latency samples", f"{latency['samples']:,}"),
        (
            "battery step->client latency p50 / p99",
            f"{battery['p50']:.1f} / {battery['p99']:.1f} ms ({battery['samples']:,} samples)",
        ),
        (
            "  of which: receiver pushed it->client p50 / p99",
            f"{pushed['p50']:.1f} / {pushed['p99']:.1f} ms",
        ),
        (
            "  of which: the bench's command->simulator p50 / p99",
            f"{command['p50']:.1f} / {command['p99']:.1f} ms",
        ),
        (
            "reading->published by poller p50 / p99",
            f"{published['p50']:.1f} / {published['p99']:.1f} ms",
        ),
        ("delta frames received/s (all clients)", f"{result['frames_per_s']:,.0f}"),
        (
            f"bytes to one wall/s: text / on the wire ({result['compression']})",
            f"{result['payload_kb_per_wall_s']:.1f} / {result['wire_kb_per_wall_s']:.1f} kB/s",
        ),
        ("unit updates received/s (all clients)", f"{result['updates_per_s']:,.0f}"),
        ("poller readings/s (whole window)", _text(result["poller_readings_per_s"])),
        ("poller frames sent/s (whole window)", _text(result["poller_frames_per_s"])),
        ("reading->handled by poller, mean", _decimals(result["poller_reading_lag_ms"], " ms")),
        (
            "poller loop lag, worst in last second (heartbeat)",
            _text(result["poller_loop_lag_ms"], " ms"),
        ),
        ("seq gaps seen by clients (resyncs)", str(result["gaps"])),
        ("poller CPU (share of one core)", f"{cpu['poller']:.0%}"),
        (f"{result['server']} CPU (share of one core)", f"{cpu['web']:.0%}"),
        ("redis-server CPU (share of one core)", f"{cpu['redis']:.0%}"),
        ("the stack: poller + web + redis", f"{cpu['poller'] + cpu['web'] + cpu['redis']:.0%}"),
        ("simulators CPU (share of one core)", f"{cpu['devices']:.0%}"),
        ("bench clients CPU (share of one core)", f"{cpu['clients']:.0%}"),
        (f"poller / {result['server']} memory (RSS)", f"{result['rss_mb']['poller']:.0f} / "
                                                    f"{result['rss_mb']['web']:.0f} MiB"),
        ("client views equal to Redis after the load",
         f"{result['views_matching']}/{result['views']}"),
        ("units differing from Redis", str(result["units_differing"])),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--devices", type=int, default=250)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--frame-ms", type=int, default=25, help="the poller's coalescing tick")
    parser.add_argument("--server", choices=("daphne", "uvicorn"), default="daphne")
    parser.add_argument(
        "--compression", choices=("none", "deflate"), default="none",
        help="clients offer permessage-deflate, as browsers do (default: none)",
    )  # fmt: skip
    args = parser.parse_args()
    config = LiveConfig(
        devices=args.devices, clients=args.clients, groups=args.groups,
        seconds=args.seconds, frame_ms=args.frame_ms, server=args.server,
        compression=None if args.compression == "none" else args.compression,
    )  # fmt: skip
    result = run(config)
    title = (
        f"Micboard live path: {args.devices * CHANNELS:,} channels ({args.devices} x {MODEL}) "
        f"metering at 10 Hz, {args.clients} clients over {args.groups} groups, "
        f"{args.seconds:g} s window, {args.frame_ms} ms frame tick, {args.server}, "
        f"{os.cpu_count()} cores, "
        f"load average before the run {result['load_before']:.2f}"
    )
    print_table(rows(result), title)


def show_log_tail(path: Path, lines: int = 30) -> None:
    """On failure, show what the poller and the web server said (the log is deleted after)."""
    if path.exists():
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- last lines of {path.name}:", *tail, sep="\n", file=sys.stderr)


def bench_environment(workdir: Path, redis_url: str) -> dict[str, str]:
    """The settings of this process and every child: production-like, on loopback."""
    return {
        "DJANGO_SETTINGS_MODULE": "micboard.settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "REDIS_URL": redis_url,
        "MICBOARD_REDIS_PREFIX": PREFIX,
        "LOG_LEVEL": "WARNING",
        "DEBUG": "False",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        # One admin session drives half the walls: a scale, not an abuse, so no cap.
        "MICBOARD_SOCKETS_PER_USER": "1000000",
        "MICBOARD_DISCOVERY": "False",  # a measurement listens to and asks nothing on the network
    }


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in reversed(processes):
        process.send_signal(signal.SIGTERM)
    for process in reversed(processes):
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class LiveStack:
    """What a scenario needs of the running stack."""

    port: int
    redis_url: str
    groups: list[int]
    tokens: list[str]
    cookie: str
    pids: dict[str, int]  # poller, web, redis, devices
    load: float  # 1-minute load average once everything ran
    stop_devices: Callable[[], list[float]]  # returns when each battery step was pushed
    units: list[int]
    step_battery: Callable[[int, int, int], None]  # (device, channel, bars)


@contextmanager
def live_stack(
    devices: int, groups: int, frame_ms: int, server: str, workers: int = 1
) -> Iterator[LiveStack]:
    """Run a private redis-server, `devices` ULXD4Q simulators, one poller and `server` on
    loopback (uvicorn: `workers` processes), with a throwaway SQLite database of `groups`
    monitoring groups.

    Configures Django in this process (settings from the environment it sets), so use it
    once per process. Every process it started is stopped when the block ends, also on error.
    """
    workdir = Path(tempfile.mkdtemp(prefix="micboard-bench-"))
    web_socket = listening_socket()  # held from now on: no simulator can take its port
    web_port = int(web_socket.getsockname()[1])
    redis_port = free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    os.environ.update(bench_environment(workdir, redis_url))
    processes: list[subprocess.Popen[bytes]] = []
    sims = None
    try:
        processes.append(subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL,
        ))  # fmt: skip
        wait_until(lambda: redis_answers(redis_url), "redis")

        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)

        parent, child = multiprocessing.Pipe()
        sims = multiprocessing.get_context("spawn").Process(
            target=serve_simulators, args=(devices, child), daemon=True
        )
        sims.start()
        group_ids, tokens, cookie, units = build_stage(parent.recv(), groups)

        log = (workdir / "services.log").open("ab")
        processes.append(subprocess.Popen(
            [sys.executable, "manage.py", "run_poller", "--id", "bench",
             "--frame-ms", str(frame_ms)], cwd=REPO, stdout=log, stderr=log,
        ))  # fmt: skip
        processes.append(subprocess.Popen(
            web_server_command(server, web_socket.fileno(), workers),
            cwd=REPO, stdout=log, stderr=log, pass_fds=(web_socket.fileno(),),
        ))  # fmt: skip
        beats = redis.Redis.from_url(redis_url)
        wait_until(lambda: server_answers(web_port), server)
        wait_until(
            lambda: beats.hget(f"{PREFIX}:poller:bench", "devices") == str(devices).encode(),
            "the poller to claim every device",
        )

        def stop_devices() -> list[float]:
            parent.send("stop")
            pushed: list[float] = parent.recv()
            return pushed

        def step_battery(device: int, channel: int, bars: int) -> None:
            parent.send(("battery", device, channel, bars))

        assert sims.pid is not None  # set by start()
        pids = {
            "poller": processes[1].pid, "web": processes[2].pid, "redis": processes[0].pid,
            "devices": sims.pid,
        }  # fmt: skip
        yield LiveStack(
            web_port, redis_url, group_ids, tokens, cookie, pids, os.getloadavg()[0],
            stop_devices, units, step_battery,
        )  # fmt: skip
    except BaseException:
        show_log_tail(workdir / "services.log")
        raise
    finally:
        stop_processes(processes)
        if sims is not None and sims.is_alive():
            sims.kill()
        web_socket.close()
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: LiveConfig) -> dict[str, Any]:
    """Start the whole stack on loopback, measure one window, stop everything, return numbers.

    Configures Django in this process, so call it once per process: bench/run_all.py runs
    each scenario in a fresh child process.
    """
    with live_stack(args.devices, args.groups, args.frame_ms, args.server) as stack:
        return uvloop.run(measure(args, stack))


if __name__ == "__main__":
    main()
