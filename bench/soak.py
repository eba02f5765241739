"""Soak the whole live stack with device faults on, then say whether it stayed flat.

Everything runs on loopback, as in production but smaller: a private redis-server; the
stage of bench/soak_stage.toml (every device family, power cycles, pulled cables, reboots,
slow answers, malformed and split frames) served by `manage.py simulate_devices`; two
pollers sharing the devices through leases; two web processes, daphne and uvicorn (the
production server); C WebSocket clients (half signed-in users, half kiosks, half on each
web process) that stay connected and apply frames as static/js/live.js does; a wall page,
a kiosk page and /healthz fetched every few seconds; and socket churn: every second one
more socket, on each web process in turn, takes its snapshot and a frame and then goes
mid-stream (its TCP connection dropped without a close, or closed cleanly), the way
kiosks that reconnect for days do.

After a warm-up under full load, every few seconds it samples each process's RSS and
open file descriptors by kind (/proc/<pid>/fd: pipes, files, TCP sockets by state and by
which process holds the other end), each poller's asyncio task count (from its heartbeat),
the number of Redis keys and of pub/sub channels (a socket that left a subscription behind
adds one for ever). The window is cut into fifths: a figure is flat when the median of
the last fifth is at most a tolerance above the median of the second (the first may still
be settling; the web processes' memory within 5 %). The open links between pollers and
devices are left out of the fd figures: the faults swing them by dozens within a minute,
inside the clients' pool limits, while a leaked socket is not one of them (its other end
is gone), so it still counts.

At the end the devices stop, the walls settle, every client's view is compared with
Redis, and every process's log is scanned for tracebacks and errors: those logged under
load fail the soak; those as the devices, clients and processes stop are counted and
shown. It prints a verdict table and exits 1 on any failure.

    .venv/bin/python bench/soak.py [--minutes 30] [--clients 20] [--pollers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import NamedTuple

import httpx
import orjson
import redis
import uvloop
import websockets

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a plain script

from bench.bench_live import (  # noqa: E402 - needs the path above
    Wall,
    connect_walls,
    free_port,
    listening_socket,
    page_origin,
    redis_answers,
    rss_mb,
    server_answers,
    wait_for_quiet,
    wait_until,
)

STAGE = REPO / "bench" / "soak_stage.toml"
PREFIX = "soak"
GROUPS = 4
PAGE_EVERY = 5.0  # seconds between rounds of page loads
CHURN_EVERY = 1.0  # seconds between two sockets that go mid-stream
CHURN_TIMEOUT = 10.0  # for one churned socket's handshake, snapshot and frame
WEB_SERVERS = ("daphne", "uvicorn")
# Lines that mean something went wrong, in any process's log.
TROUBLE = re.compile(
    r"Traceback \(most recent call last\)|\bERROR\b|\bCRITICAL\b"
    r"|Task exception was never retrieved|Exception in callback|Unhandled exception"
)
NEW_ENTRY = re.compile(r"\n(?=\d{4}-\d\d-\d\d \d\d:)")  # a log line starts with its time


# ---------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class Tolerance:
    """How far the last fifth's median may sit above the second fifth's: the larger of
    an absolute amount and a fraction (memory is noisy in MiB, fds and tasks in units)."""

    absolute: float
    relative: float

    def limit(self, baseline: float) -> float:
        return baseline + max(self.absolute, self.relative * baseline)


MEMORY = Tolerance(absolute=8.0, relative=0.10)  # MiB
WEB_MEMORY = Tolerance(absolute=0.0, relative=0.05)  # the issue-13 bar: flat within 5 %
COUNT = Tolerance(absolute=5.0, relative=0.10)  # fds, tasks, Redis keys


@dataclass(frozen=True)
class Check:
    name: str
    value: str
    limit: str
    ok: bool


def flat(name: str, samples: list[float], tolerance: Tolerance, unit: str = "") -> Check:
    """Compare the median of the last fifth of `samples` with that of the second fifth."""
    fifth = len(samples) // 5
    if fifth < 2:
        return Check(name, f"{len(samples)} samples", "10 or more", False)
    second = median(samples[fifth : 2 * fifth])
    last = median(samples[-fifth:])
    limit = tolerance.limit(second)
    return Check(name, f"{second:.1f} -> {last:.1f}{unit}", f"<= {limit:.1f}{unit}", last <= limit)


def exact(name: str, got: int, wanted: int) -> Check:
    return Check(name, str(got), str(wanted), got == wanted)


def print_verdict(checks: list[Check], title: str) -> None:
    header = ("check", "value (2nd fifth -> last fifth)", "limit", "verdict")
    rows = [(c.name, c.value, c.limit, "ok" if c.ok else "FAIL") for c in checks]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    print(f"\n{title}\n")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    failed = sum(not c.ok for c in checks)
    print(f"\n{'PASS' if not failed else f'FAIL: {failed} check(s)'}")


# ---------------------------------------------------------------- processes


@dataclass
class Stack:
    """The running processes, each with its own log file."""

    workdir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(
        self, name: str, argv: list[str], fds: tuple[int, ...] = ()
    ) -> subprocess.Popen[bytes]:
        with (self.workdir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, pass_fds=fds
            )
        self.processes[name] = process
        return process

    def stop(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            if self.processes[name].poll() is None:
                self.stop(name)

    def exited(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def log_sizes(self) -> dict[str, int]:
        """Where each log ends now: marks the boundary between two phases of the soak."""
        return {name: (self.workdir / f"{name}.log").stat().st_size for name in self.processes}

    def trouble(self, start: dict[str, int], end: dict[str, int] | None = None) -> list[str]:
        """Log entries (a line and the traceback under it) between two marks that report
        an error, each prefixed with its process's name."""
        found = []
        for name in self.processes:
            with (self.workdir / f"{name}.log").open("rb") as log:
                log.seek(start.get(name, 0))
                size = None if end is None else end[name] - start.get(name, 0)
                text = log.read(size).decode(errors="replace")
            found += [f"[{name}] {e}" for e in NEW_ENTRY.split(text) if TROUBLE.search(e)]
        return found


def configure(workdir: Path, redis_url: str) -> None:
    """Settings for this process and every child: production-like, on loopback."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="micboard.settings",
        DATABASE_URL=f"sqlite:///{workdir / 'soak.sqlite3'}",
        REDIS_URL=redis_url,
        MICBOARD_REDIS_PREFIX=PREFIX,
        LOG_LEVEL="INFO",
        DEBUG="False",
        SECRET_KEY="soak-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-soak",
        ALLOWED_HOSTS="localhost,127.0.0.1",
        MICBOARD_DISCOVERY="False",  # a measurement listens to and asks nothing on the network
    )


def start_stack(stack: Stack, pollers: int, redis_port: int) -> dict[str, int]:
    """Start every process; return each web server's port."""
    python = sys.executable
    devices = stack.workdir / "devices.json"
    stack.start("redis", [
        "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--dir", str(stack.workdir),
    ])  # fmt: skip
    wait_until(lambda: redis_answers(os.environ["REDIS_URL"]), "redis")
    stack.start("devices", [
        python, "manage.py", "simulate_devices", "--config", str(STAGE), "--write", str(devices),
    ])  # fmt: skip
    wait_until(devices.exists, "the simulated stage")
    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger().setLevel(logging.WARNING)  # INFO is for the children's logs
    call_command("migrate", verbosity=0)
    call_command("import_devices", str(devices), stdout=io.StringIO())
    for n in range(1, pollers + 1):
        stack.start(f"poller-{n}", [python, "manage.py", "run_poller", "--id", f"soak-{n}"])
    ports = {server: start_web(stack, server) for server in WEB_SERVERS}
    for server, port in ports.items():
        wait_until(lambda port=port: server_answers(port), server)
    return ports


def start_web(stack: Stack, server: str) -> int:
    """Start one web server on a socket bound here and inherited (a port merely found
    free could go to a simulator first); return its port."""
    from micboard.webserver import UVICORN_OPTIONS

    with listening_socket() as sock:
        fd = str(sock.fileno())
        options = (
            ["-m", "daphne", "--fd", fd, "--websocket_timeout", "-1"]
            if server == "daphne"
            else ["-m", "uvicorn", "--fd", fd, *UVICORN_OPTIONS, "--no-access-log"]
        )
        stack.start(server, [sys.executable, *options, "micboard.asgi:application"],
                    fds=(sock.fileno(),))  # fmt: skip
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Audience:
    """Who watches: the walls, their kiosk tokens and a signed-in admin's session."""

    groups: list[int]
    tokens: list[str]
    cookie: str


def build_audience() -> Audience:
    """Assign every imported unit to a performer on one of GROUPS walls, through the
    services, as an admin would."""
    from django.contrib.auth.models import User
    from django.test import Client

    from micboard.models import MonitoringGroup, WirelessUnit
    from micboard.services import KioskService, PerformerAssignmentService, PerformerService
    from micboard.services.inventory import InventoryService

    walls = [MonitoringGroup(name=f"Wall {g}") for g in range(GROUPS)]
    for wall in walls:
        InventoryService.save_row(wall)
    for i, unit in enumerate(WirelessUnit.objects.order_by("pk")):
        performer = PerformerService.create_performer(f"Performer {i}")
        PerformerAssignmentService.create_assignment(performer, unit, walls[i % GROUPS])
    tokens = [KioskService.create_link(wall, "soak").token for wall in walls]
    admin = User.objects.create_superuser("soak", password=None)
    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    return Audience([w.pk for w in walls], tokens, client.cookies["sessionid"].value)


def wait_for_leases(beats: redis.Redis, pollers: int) -> None:
    from micboard.models import WirelessChassis

    wanted = WirelessChassis.objects.count()
    wait_until(lambda: sum(heartbeats(beats, pollers, "devices")) == wanted, "every lease")


def heartbeats(beats: redis.Redis, pollers: int, name: str) -> list[float]:
    values = [beats.hget(f"{PREFIX}:poller:soak-{n}", name) for n in range(1, pollers + 1)]
    return [float(v) if v is not None else 0.0 for v in values]


# ---------------------------------------------------------------- sampling


# The state column of /proc/net/tcp (include/net/tcp_states.h).
TCP_STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
    "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
    "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}  # fmt: skip


class TcpSocket(NamedTuple):
    state: str
    local: str  # address:port, hex as /proc writes it
    remote: str


def tcp_sockets() -> dict[str, TcpSocket]:
    """Return every TCP socket of this network namespace (the whole soak is on loopback)."""
    sockets = {}
    for table in ("tcp", "tcp6"):
        for row in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            cells = row.split()
            state = TCP_STATES.get(cells[3], cells[3])
            sockets[cells[9]] = TcpSocket(state, cells[1], cells[2])
    return sockets


def fd_links(pid: int) -> list[str]:
    """Return what each open fd of a process points at (none once it has gone)."""
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return []
    links = []
    for name in names:
        with suppress(FileNotFoundError):  # closed between the listing and the reading
            links.append(os.readlink(f"/proc/{pid}/fd/{name}"))
    return links


def fd_kinds(pids: dict[str, int], ports: dict[int, str] | None = None) -> dict[str, Counter[str]]:
    """Count each process's open fds by kind: pipe, file, anon inode, unix socket, or a TCP
    socket by state and by which of these processes holds its other end. An end no process
    holds is named by `ports` (its port) or else "nobody"."""
    links = {name: fd_links(pid) for name, pid in pids.items()}
    tcp = tcp_sockets()
    unix = unix_sockets()
    ports = ports or {}
    held_by = {
        tcp[inode].local: name
        for name, targets in links.items()
        for inode in map(socket_inode, targets)
        if inode in tcp
    }
    kinds: dict[str, Counter[str]] = {}
    for name, targets in links.items():
        counts = kinds[name] = Counter()
        for target in targets:
            inode = socket_inode(target)
            found = tcp.get(inode)
            if found is None:
                counts["unix socket" if inode in unix else link_kind(target)] += 1
            elif found.state == "LISTEN":
                counts["tcp LISTEN"] += 1
            else:
                peer = held_by.get(found.remote) or ports.get(int(found.remote[-4:], 16))
                counts[f"tcp {found.state} to {peer or 'nobody'}"] += 1
    return kinds


def unix_sockets() -> set[str]:
    return {row.split()[6] for row in Path("/proc/net/unix").read_text().splitlines()[1:]}


def device_links(name: str, kinds: Counter[str]) -> int:
    """Count the open connections between a poller and the devices, seen from either end.

    Their number follows the faults (a pulled cable drops a device's links, a slow answer
    opens another pooled one) within the clients' pool limits, so it swings by dozens
    within a minute; a leaked socket is not one of them: its other end is gone.
    """
    if name == "devices":
        return sum(n for kind, n in kinds.items() if kind.startswith("tcp ESTABLISHED to poller-"))
    return kinds["tcp ESTABLISHED to devices"] if name.startswith("poller-") else 0


def socket_inode(target: str) -> str:
    return target[len("socket:[") : -1] if target.startswith("socket:[") else ""


def link_kind(target: str) -> str:
    if target.startswith("socket:["):
        # No longer in the kernel's TCP tables: reset by its peer, or never connected.
        return "tcp socket without a connection"
    if target.startswith("pipe:["):
        return "pipe"
    if target.startswith("anon_inode:"):
        return target[len("anon_inode:") :].strip("[]")  # eventpoll, eventfd, io_uring
    return "file"


@dataclass
class Samples:
    series: dict[str, list[float]] = field(default_factory=dict)
    fds: dict[str, list[Counter[str]]] = field(default_factory=dict)  # by process, by kind

    def add(self, name: str, value: float) -> None:
        self.series.setdefault(name, []).append(value)

    def take(self, stack: Stack, beats: redis.Redis, pollers: int) -> None:
        pids = {name: process.pid for name, process in stack.processes.items()}
        kinds = fd_kinds({**pids, "soak": os.getpid()})  # the soak's own: the clients
        for name, pid in pids.items():
            self.add(f"{name} RSS", rss_mb(pid))
            self.fds.setdefault(name, []).append(kinds[name])
        for n, tasks in enumerate(heartbeats(beats, pollers, "tasks"), start=1):
            self.add(f"poller-{n} asyncio tasks", tasks)
        self.add("Redis keys", float(beats.dbsize()))
        self.add("Redis pub/sub channels", float(len(beats.pubsub_channels())))


# ---------------------------------------------------------------- the audience at work


def make_walls(audience: Audience, clients: int) -> list[Wall]:
    walls = []
    for i in range(clients):
        g = i % len(audience.groups)
        signed_in = i % 2 == 0
        walls.append(Wall(
            group=audience.groups[g],
            path=f"/ws/groups/{audience.groups[g]}/" if signed_in
            else f"/ws/kiosk/{audience.tokens[g]}/",
            headers=[("Cookie", f"sessionid={audience.cookie}")] if signed_in else [],
        ))  # fmt: skip
    return walls


@dataclass
class PageLoads:
    """Fetch a wall page, a kiosk page and /healthz, again and again; count what failed."""

    done: int = 0
    failed: list[str] = field(default_factory=list)

    async def run(self, base: str, audience: Audience) -> None:
        urls = ["/healthz"]
        urls += [f"/walls/{g}/" for g in audience.groups]
        urls += [f"/kiosk/{t}/" for t in audience.tokens]
        cookies = {"sessionid": audience.cookie}
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
            while True:
                for url in urls:
                    await self.load(client, url)
                await asyncio.sleep(PAGE_EVERY)  # the pace of the loads, not synchronisation

    async def load(self, client: httpx.AsyncClient, url: str) -> None:
        self.done += 1
        try:
            response = await client.get(url)
        except httpx.HTTPError as error:
            self.failed.append(f"{url}: {error!r}")
            return
        if response.status_code != 200:
            self.failed.append(f"{url}: HTTP {response.status_code}")


@dataclass
class Churn:
    """Every second one socket on the next web process takes its snapshot and a frame,
    then goes mid-stream: dropped (no close frame, no FIN) or closed cleanly, in turn."""

    done: Counter[str] = field(default_factory=Counter)  # by server
    failed: list[str] = field(default_factory=list)

    async def run(self, bases: dict[str, str], path: str) -> None:
        for n in itertools.count():
            server = WEB_SERVERS[n % len(WEB_SERVERS)]
            await self.once(server, bases[server], path, drop=n // len(WEB_SERVERS) % 2 == 0)
            await asyncio.sleep(CHURN_EVERY)  # the pace of the churn, not synchronisation

    async def once(self, server: str, base: str, path: str, *, drop: bool) -> None:
        try:
            async with asyncio.timeout(CHURN_TIMEOUT):
                socket = await websockets.connect(base + path, origin=page_origin(base))
                await socket.recv()  # the snapshot
                await socket.recv()  # and a frame: it is mid-stream now
                if drop:
                    socket.transport.abort()
                else:
                    await socket.close()
        except (OSError, TimeoutError, websockets.WebSocketException) as error:
            self.failed.append(f"{server}: {error!r}")
            return
        self.done[server] += 1


async def settled_views(walls: list[Wall], beats: redis.Redis, limit: float = 30.0) -> int:
    """How many views equal Redis once the walls settle. The stopped devices' last
    transitions (offline after each family's silence timeout) can still be on their way
    after a quiet spell, so look again until all match or `limit` seconds pass."""
    deadline = time.monotonic() + limit
    while True:
        matching = views_equal_redis(walls, beats)
        if matching == len(walls) or time.monotonic() > deadline:
            return matching
        await asyncio.sleep(0.5)  # the polling interval of this wait


def sockets_left_to_devices(stack: Stack, pollers: int) -> Counter[str]:
    """Return the poller sockets still open to the stopped devices, by process and kind.

    Idle pooled HTTP connections stay open (CLOSE_WAIT) until their client next uses its
    pool, so some are expected: shown, not judged.
    """
    from micboard.devicelist import read_device_list

    pids = {name: process.pid for name, process in stack.processes.items()}
    devices = read_device_list(stack.workdir / "devices.json")
    ports = {d.info.port: f"stopped {d.info.protocol.value}" for d in devices}
    names = {f"poller-{n}" for n in range(1, pollers + 1)}
    return Counter(
        {
            f"{name} {kind}": n
            for name, counts in fd_kinds(pids, ports).items()
            if name in names
            for kind, n in counts.items()
            if kind.startswith("tcp ") and not kind.endswith(" to redis")
        }
    )


def views_equal_redis(walls: list[Wall], beats: redis.Redis) -> int:
    """How many clients' views equal the unit states in Redis for their wall."""
    matching = 0
    for wall in walls:
        members = sorted(int(m) for m in beats.smembers(f"{PREFIX}:group:{wall.group}:units"))
        values = beats.mget([f"{PREFIX}:unit:{m}" for m in members])
        stored = {str(m): orjson.loads(v) for m, v in zip(members, values, strict=True) if v}
        matching += stored == wall.view
    return matching


@dataclass(frozen=True)
class Config:
    minutes: float = 30.0  # the measured window, after the warm-up
    clients: int = 20
    pollers: int = 2
    interval: float = 5.0  # seconds between samples
    warmup: float = 60.0  # seconds of load before sampling: pools and caches fill up


@dataclass
class Outcome:
    samples: Samples
    walls: list[Wall]
    pages: PageLoads
    churn: Churn
    connected_at_end: int = 0
    matching: int = 0
    # Poller sockets still open after the devices stopped, by process and kind.
    left_to_devices: Counter[str] = field(default_factory=Counter)
    exited: list[str] = field(default_factory=list)
    marks: list[dict[str, int]] = field(default_factory=list)  # window start, end, clients gone
    during: list[str] = field(default_factory=list)  # errors logged under load
    leaving: list[str] = field(default_factory=list)  # ... as the devices and clients left
    shutdown: list[str] = field(default_factory=list)  # ... as the processes stopped


async def soak(config: Config, stack: Stack, audience: Audience, ports: dict[str, int]) -> Outcome:
    beats = redis.Redis.from_url(os.environ["REDIS_URL"])
    walls = make_walls(audience, config.clients)
    bases = {server: f"ws://127.0.0.1:{port}" for server, port in ports.items()}
    tasks = []
    for n, server in enumerate(WEB_SERVERS):  # half the walls on each web process
        tasks += await connect_walls(walls[n :: len(WEB_SERVERS)], bases[server])
    outcome = Outcome(Samples(), walls, PageLoads(), Churn())
    pages = asyncio.create_task(
        outcome.pages.run(f"http://127.0.0.1:{ports[WEB_SERVERS[0]]}", audience)
    )
    churn = asyncio.create_task(outcome.churn.run(bases, f"/ws/kiosk/{audience.tokens[0]}/"))
    await asyncio.sleep(config.warmup)  # the warm-up under full load, not synchronisation
    outcome.marks.append(stack.log_sizes())
    deadline = time.monotonic() + config.minutes * 60
    while time.monotonic() < deadline:
        outcome.samples.take(stack, beats, config.pollers)
        await asyncio.sleep(config.interval)  # the sampling interval: measurement
    outcome.marks.append(stack.log_sizes())
    pages.cancel()
    churn.cancel()
    outcome.connected_at_end = sum(not task.done() for task in tasks)
    outcome.exited = stack.exited()
    stack.stop("devices")  # no more readings: the walls settle on the final state
    await wait_for_quiet(walls)
    outcome.matching = await settled_views(walls, beats)
    outcome.left_to_devices = sockets_left_to_devices(stack, config.pollers)
    for task in tasks:
        task.cancel()
    await asyncio.gather(pages, churn, *tasks, return_exceptions=True)
    return outcome


def verdict(outcome: Outcome, config: Config) -> list[Check]:
    checks = []
    for name, samples in outcome.samples.series.items():
        if name.endswith("RSS") and name.split()[0] in WEB_SERVERS:
            checks.append(flat(f"{name} flat (5 %)", samples, WEB_MEMORY, " MiB"))
        elif name.endswith("RSS") and not name.startswith("redis"):
            checks.append(flat(f"{name} flat", samples, MEMORY, " MiB"))
        elif not name.endswith("RSS"):
            checks.append(flat(f"{name} flat", samples, COUNT))
    for name, counts in outcome.samples.fds.items():
        settled = [float(c.total() - device_links(name, c)) for c in counts]
        checks.append(flat(f"{name} fds besides device links flat", settled, COUNT))
    checks += [
        exact("processes that died", len(outcome.exited), 0),
        exact("errors/tracebacks logged under load", len(outcome.during), 0),
        exact("page loads that failed", len(outcome.pages.failed), 0),
        exact("churned sockets that failed", len(outcome.churn.failed), 0),
        exact("clients connected at the end", outcome.connected_at_end, config.clients),
        exact("client views equal to Redis", outcome.matching, config.clients),
        # Redis stays up in a soak, so any gap is a frame lost or delivered out of order
        # (two pollers once interleaved their seqs this way).
        exact("seq gaps seen by clients", sum(w.gaps for w in outcome.walls), 0),
    ]
    return checks


def info_rows(outcome: Outcome) -> list[Check]:
    """Figures worth seeing that have no pass mark."""
    redis_rss = outcome.samples.series["redis RSS"]
    all_fds = [
        flat(f"{name} fds, device links too", [float(c.total()) for c in counts], COUNT)
        for name, counts in outcome.samples.fds.items()
    ]
    return [
        *(Check(c.name, c.value, "info", True) for c in all_fds),
        Check(
            "poller sockets to the devices once they stopped and the walls settled",
            ", ".join(f"{kind} {n}" for kind, n in sorted(outcome.left_to_devices.items())) or "0",
            "info",
            True,
        ),
        Check("redis-server RSS (history streams fill for an hour)",
              f"{redis_rss[0]:.1f} -> {redis_rss[-1]:.1f} MiB", "info", True),
        Check("errors/tracebacks as devices and clients left", str(len(outcome.leaving)),
              "info", True),
        Check("errors/tracebacks while stopping the processes", str(len(outcome.shutdown)),
              "info", True),
        Check("page loads", str(outcome.pages.done), "info", True),
        Check("sockets churned (gone mid-stream)",
              ", ".join(f"{s} {n}" for s, n in sorted(outcome.churn.done.items())) or "0",
              "info", True),
    ]  # fmt: skip


# ---------------------------------------------------------------- main


def show_log_tails(stack: Stack, lines: int = 20) -> None:
    """When the soak itself fails, show what each process said (the logs go with it)."""
    for name in stack.processes:
        text = (stack.workdir / f"{name}.log").read_text(errors="replace")
        print(f"--- last lines of {name}.log:", *text.splitlines()[-lines:], sep="\n")


def show_fd_kinds(samples: Samples) -> None:
    """Print each process's open fds by kind: at the first sample, at most, at the last."""
    print("\nopen fds by kind: first sample / most / last sample")
    for name, counts in samples.fds.items():
        kinds = sorted(set().union(*counts))
        cells = [f"{k} {counts[0][k]}/{max(c[k] for c in counts)}/{counts[-1][k]}" for k in kinds]
        print(f"  {name}: {', '.join(cells)}")


def show_entries(what: str, entries: list[str], lines: int = 30) -> None:
    if entries:
        print(f"\n--- {len(entries)} error(s) {what}; the first ones:")
        for entry in entries[:3]:
            print("\n".join(entry.splitlines()[:lines]))


@contextmanager
def running_stack(config: Config) -> Iterator[tuple[Stack, dict[str, int]]]:
    workdir = Path(tempfile.mkdtemp(prefix="micboard-soak-"))
    redis_port = free_port()
    configure(workdir, f"redis://127.0.0.1:{redis_port}/0")
    stack = Stack(workdir)
    try:
        yield stack, start_stack(stack, config.pollers, redis_port)
    except BaseException:
        stack.stop_all()
        show_log_tails(stack)
        raise
    finally:
        stack.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


def soak_and_read_logs(config: Config) -> Outcome:
    with running_stack(config) as (stack, ports):
        audience = build_audience()
        wait_for_leases(redis.Redis.from_url(os.environ["REDIS_URL"]), config.pollers)
        outcome = uvloop.run(soak(config, stack, audience, ports))
        start, end = outcome.marks
        gone = stack.log_sizes()
        stack.stop_all()
        outcome.during = stack.trouble(start, end)
        outcome.leaving = stack.trouble(end, gone)
        outcome.shutdown = stack.trouble(gone)
    return outcome


def run(config: Config) -> bool:
    """Soak, print the verdict table, return whether every check passed."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per page load otherwise
    outcome = soak_and_read_logs(config)
    checks = verdict(outcome, config)
    title = (
        f"Micboard soak: {config.warmup:g} s warm-up, then {config.minutes:g} min measured; "
        f"{STAGE.name} (faults on), {config.pollers} pollers, {config.clients} clients; "
        f"{len(outcome.samples.series['redis RSS'])} samples, one every {config.interval:g} s"
    )
    print_verdict([*checks, *info_rows(outcome)], title)
    show_fd_kinds(outcome.samples)
    show_entries("under load", outcome.during)
    show_entries("as devices and clients left", outcome.leaving)
    show_entries("while stopping the processes", outcome.shutdown)
    for failure in outcome.pages.failed[:10]:
        print(f"page load failed: {failure}")
    for failure in outcome.churn.failed[:10]:
        print(f"churned socket failed: {failure}")
    return all(check.ok for check in checks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="the measured window")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before sampling")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--pollers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    args = parser.parse_args()
    config = Config(args.minutes, args.clients, args.pollers, args.interval, args.warmup)
    sys.exit(0 if run(config) else 1)


if __name__ == "__main__":
    main()
