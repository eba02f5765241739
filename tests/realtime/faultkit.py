"""Helpers of the fault tests (tests/realtime/test_faults_*.py).

- `TcpProxy`: a loopback TCP proxy that fails on demand (cut, stall, black hole, flood),
  and with several upstreams a round-robin load balancer.
- `start_program` / `start_web`: the real web process, daphne or uvicorn (and any
  manage.py program), pointed at this test's database, Redis and key prefix.
- `LiveClient`: a WebSocket client that behaves like static/js/live.js (reconnect with
  backoff, watchdog, snapshot then deltas, resync on a gap); `views_match_redis` compares
  what clients show with the live state in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
import websockets
from django.conf import settings

from bench.bench_live import Wall, page_origin, without_ts
from micboard.webserver import UVICORN_OPTIONS
from realtime import live_store
from realtime.redis_client import async_client
from tests.conftest import free_port, shared_database_url
from tests.e2e.live import stop_program, wait_for_port
from tests.waiting import wait_until_async

REPO = Path(__file__).resolve().parents[2]
READ_SIZE = 65536
FLOOD_EVERY = 0.01  # seconds between two bursts of a flooding device

PASS, CUT, STALL, BLACKHOLE = "pass", "cut", "stall", "blackhole"


# ---------------------------------------------------------------- a proxy that fails


@dataclass(eq=False)
class Link:
    """One client connection and, once connected, its upstream connection."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    port: int = 0  # the upstream's
    fault: str = PASS  # what happened to this link: it never recovers from a fault
    meters: bytes = b""  # the upstream's latest chunk of whole meter frames (for floods)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for task in self.tasks:
            task.cancel()
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()


class TcpProxy:
    """A loopback TCP proxy between a client and one or more servers.

    - PASS forwards both ways. With several upstreams each new connection goes to the
      next one in turn, skipping one that refuses it (a load balancer's failover).
    - `cut()`: drop every connection and refuse new ones (the port is closed).
    - `stall()`: connections stay open and are read, but nothing is forwarded either way
      (a device that accepts and never answers); new connections are treated the same.
    - `blackhole()`: the peer vanishes: nothing is read or written any more, and no FIN
      or RST is sent; new connections are accepted and ignored.
    - `flood(copies)`: besides forwarding, send the client the upstream's latest meter
      frames `copies` times over every 10 ms.
    - `heal()`: back to PASS for new connections. Links that were stalled or black-holed
      stay dead: the peer that held them is gone.
    """

    def __init__(self, *upstream_ports: int) -> None:
        self.upstreams = list(upstream_ports)
        self.port = 0
        self.mode = PASS
        self.flood_copies = 0
        self.flooded = 0  # bytes sent by flood() on top of what was forwarded
        self.links: set[Link] = set()
        self._turn = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._close_server()
        for link in list(self.links):
            link.abort()
        self.links.clear()

    async def cut(self) -> None:
        self.mode = CUT
        self._close_server()
        for link in list(self.links):
            link.abort()
        self.links.clear()

    def stall(self) -> None:
        self._fail_links(STALL)

    def blackhole(self) -> None:
        self._fail_links(BLACKHOLE)

    def flood(self, copies: int) -> None:
        self.flood_copies = copies
        for link in self.links:
            self._start_flood(link)

    async def heal(self) -> None:
        self.flood_copies = 0
        if self.mode == CUT:
            await self.start()
        self.mode = PASS

    def links_to(self, port: int) -> int:
        """Return how many connections are being forwarded to the upstream on `port`."""
        return sum(1 for link in self.links if link.fault == PASS and link.port == port)

    def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _fail_links(self, fault: str) -> None:
        self.mode = fault
        for link in self.links:
            link.fault = fault

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = Link(writer, fault=self.mode)
        self.links.add(link)
        if link.fault == PASS:
            upstream = await self._connect_upstream()
            if upstream is None:
                self.links.discard(link)
                writer.transport.abort()
                return
            link.upstream = upstream[1]
            link.port = upstream[1].get_extra_info("peername")[1]
            link.tasks.append(asyncio.create_task(self._pump(upstream[0], link, down=True)))
            if self.flood_copies:
                self._start_flood(link)
        link.tasks.append(asyncio.create_task(self._pump(reader, link, down=False)))

    async def _connect_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in self.upstreams:
            port = self.upstreams[self._turn % len(self.upstreams)]
            self._turn += 1
            with contextlib.suppress(OSError):
                return await asyncio.open_connection("127.0.0.1", port)
        return None

    async def _pump(self, reader: asyncio.StreamReader, link: Link, *, down: bool) -> None:
        """Forward one direction of a link until it ends or a fault takes it."""
        target = link.client if down else link.upstream
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(READ_SIZE):
                if link.fault == BLACKHOLE:
                    await asyncio.Event().wait()  # read no more, write nothing, ever
                if link.fault != PASS or target is None:
                    continue  # stalled: swallowed
                if down and b"SAMPLE" in data and data.rstrip().endswith(b">"):
                    link.meters = data
                target.write(data)
                await target.drain()
        if link.fault == PASS:  # an orderly end on one side ends the whole link
            self.links.discard(link)
            link.abort()

    def _start_flood(self, link: Link) -> None:
        link.tasks.append(asyncio.create_task(self._flood(link)))

    async def _flood(self, link: Link) -> None:
        with contextlib.suppress(ConnectionError):
            while self.flood_copies and link.fault == PASS:
                if link.meters:
                    link.client.write(link.meters * self.flood_copies)
                    self.flooded += len(link.meters) * self.flood_copies
                    await link.client.drain()
                await asyncio.sleep(FLOOD_EVERY)  # the flood's own pace


# ---------------------------------------------------------------- programs


def program_env(**overrides: str) -> dict[str, str]:
    """Return the environment of a program sharing this test's Redis, prefix and database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "micboard.settings",
        "REDIS_URL": str(settings.REDIS_URL),
        "MICBOARD_REDIS_PREFIX": str(settings.MICBOARD_REDIS_PREFIX),
        "DATABASE_URL": shared_database_url(),
        "LOG_LEVEL": "WARNING",
        "MICBOARD_ALERT_GRACE": "0",  # the tests raise alerts at once
        **overrides,
    }


def start_program(args: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    """Start `python <args>` in the repository, its output appended to `log`."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, *args], cwd=REPO, env=program_env(**env), stdout=output, stderr=output
        )


WEB_SERVERS = {
    "daphne": ["-m", "daphne", "micboard.asgi:application", "-b", "127.0.0.1", "-p"],
    # The production server (docs/deploy.md), with the options the Dockerfile gives it.
    "uvicorn": [
        "-m", "uvicorn", "micboard.asgi:application", *UVICORN_OPTIONS,
        "--host", "127.0.0.1", "--port",
    ],
}  # fmt: skip


async def start_web(
    log: Path, server: str = "daphne", **env: str
) -> tuple[subprocess.Popen[bytes], int]:
    """Start `server` serving micboard.asgi on a free port; return it once it listens."""
    port = free_port()
    process = start_program([*WEB_SERVERS[server], str(port)], log, **env)
    await asyncio.to_thread(wait_for_port, "127.0.0.1", port, process)
    return process, port


async def stop_programs(processes: list[subprocess.Popen[bytes]]) -> None:
    await asyncio.gather(*(asyncio.to_thread(stop_program, p) for p in processes))


def log_tails(directory: Path, lines: int = 25) -> str:
    """Return the end of every program log in `directory` (for a failing test's message)."""
    parts = []
    for log in sorted(directory.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append("\n".join([f"--- {log.name}", *tail]))
    return "\n".join(parts)


# ---------------------------------------------------------------- clients like live.js

WATCHDOG = 10.0  # live.js: 10 s without a frame is a dead link
BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0


@dataclass(eq=False)
class LiveClient(Wall):
    """A wall as static/js/live.js runs it, over a real WebSocket.

    It reconnects with live.js's full-jitter backoff (reset by a snapshot), gives up on
    a link silent for 10 s, drops deltas until the first snapshot of each connection,
    and asks for a resync on a gap (Wall.apply). Every delta received is kept in `deltas`.
    """

    base: str = ""
    attempt: int = 0  # reconnections since the last snapshot
    connects: int = 0
    drops: int = 0  # connections that ended, or failed to open
    snapshots: int = 0
    close_codes: list[int] = field(default_factory=list)
    deltas: list[dict[str, Any]] = field(default_factory=list)
    live: asyncio.Event = field(default_factory=asyncio.Event)
    lost: asyncio.Event = field(default_factory=asyncio.Event)

    async def run_forever(self) -> None:
        while True:
            try:
                await self._session()
            except (OSError, TimeoutError, websockets.WebSocketException) as error:
                if isinstance(error, websockets.ConnectionClosed) and error.rcvd:
                    self.close_codes.append(error.rcvd.code)
            self.drops += 1
            self.seq, self.doubted = None, False
            self.live.clear()
            self.lost.set()
            ceiling = min(BACKOFF_MAX, BACKOFF_BASE * 2**self.attempt)
            self.attempt += 1
            await asyncio.sleep(BACKOFF_BASE / 2 + random.random() * ceiling)  # the backoff

    async def _session(self) -> None:
        async with websockets.connect(
            self.base + self.path,
            origin=page_origin(self.base),
            additional_headers=self.headers,
            compression=None,
            open_timeout=10,
        ) as ws:
            self.connects += 1
            while True:
                async with asyncio.timeout(WATCHDOG):
                    frame = orjson.loads(await ws.recv())
                if frame["type"] == "snapshot":
                    self.attempt = 0
                    self.snapshots += 1
                    self.live.set()
                    self.lost.clear()
                elif frame["type"] == "delta":
                    self.deltas.append(frame)
                    if self.seq is None:
                        continue  # before this connection's first snapshot
                await self.apply(ws, frame, time.time())


async def start_clients(clients: list[LiveClient], batch: int = 20) -> list[asyncio.Task[None]]:
    """Start clients a batch at a time; return once every one has had its first snapshot."""
    tasks = []
    for start in range(0, len(clients), batch):
        group = clients[start : start + batch]
        tasks += [asyncio.create_task(client.run_forever()) for client in group]
        await wait_all_live(group, limit=60)
    return tasks


async def wait_all_live(clients: list[LiveClient], limit: float) -> None:
    live = f"{len(clients)} clients live"
    await wait_until_async(lambda: all(c.live.is_set() for c in clients), limit, live)


async def stop_tasks(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def redis_view(group_id: int, redis: aioredis.Redis | None = None) -> dict[str, Any]:
    """Return the group's live state as stored in Redis, as a client's view holds it."""
    redis = redis or async_client()
    units = await live_store.group_unit_ids(redis, group_id)
    states = await live_store.encoded_states(redis, units)
    return {str(unit): orjson.loads(raw) for unit, raw in states.items()}


async def views_match_redis(clients: list[LiveClient], redis: aioredis.Redis | None = None) -> bool:
    """Return True if every client is live and shows what Redis holds (but for the times of
    states the poller restates)."""
    views = {group: await redis_view(group, redis) for group in {c.group for c in clients}}
    return all(c.live.is_set() and _same(c.view, views[c.group]) for c in clients)


def _same(view: dict[str, Any], stored: dict[str, Any]) -> bool:
    return view.keys() == stored.keys() and all(
        without_ts(state) == without_ts(stored[key]) for key, state in view.items()
    )
