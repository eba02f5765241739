"""Start the whole Micboard demo with one command: Redis, devices (and the demo's Planning
Center simulator), the poller, the outputs worker, the roster sync and the web server.

Each part runs as a child process and is restarted (with backoff) if it dies, so a demo
wall or a kiosk keeps going; Ctrl-C stops every child cleanly.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from micboard.webserver import UVICORN_OPTIONS

RESTART_BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0  # a child that ran this long before it stopped starts afresh: 2 s
DEMO_PCO_PORT = 8765  # the Planning Center simulator of the demo (docs/rosters.md)
STOP_GRACE = 15.0  # seconds a child gets to stop on SIGTERM before it is killed


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    failures: int = 0
    next_start: float = 0.0
    started_at: float = 0.0
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env={**os.environ, **self.env})
        self.started_at = time.monotonic()

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)


class Command(BaseCommand):
    help = (
        "Start Redis (if needed), the simulated stage, the poller, the outputs worker, "
        "the roster sync and uvicorn together."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="skip the simulated stage")

    def handle(self, *args: Any, **options: Any) -> None:
        run_dir = Path(settings.BASE_DIR) / ".run"
        run_dir.mkdir(exist_ok=True)
        redis_child = self._ensure_redis(run_dir)
        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)  # whitenoise serves it
        if not options["no_demo"]:
            call_command("seed_demo")
            call_command("seed_roster_demo")
        children = self._children(options, run_dir)
        if redis_child is not None:
            children.insert(0, redis_child)
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"Micboard is starting at {url}  (Ctrl-C stops it)"))
        self._supervise(children)

    def _children(self, options: dict[str, Any], run_dir: Path) -> list[Child]:
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        children = [
            Child("poller", [*manage, "run_poller"]),
            Child("outputs", [*manage, "run_outputs"]),  # webhooks, MQTT, OSC
            Child(
                "web",
                # The production server and options (Dockerfile, docs/deploy.md).
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "micboard.asgi:application",
                    "--host",
                    options["host"],
                    "--port",
                    str(options["port"]),
                    # One web process serves a handful of busy walls; one per core keeps
                    # page loads quick while the others stream frames.
                    "--workers",
                    str(os.cpu_count() or 1),
                    *UVICORN_OPTIONS,
                ],
            ),
        ]
        every = str(settings.MICBOARD_ROSTER_SYNC_MINUTES)
        children.append(Child("rosters", [*manage, "sync_rosters", "--every", every]))
        if not options["no_demo"]:
            stage_file = run_dir / "stage.json"
            children.insert(
                0, Child("devices", [*manage, "simulate_devices", "--write", str(stage_file)])
            )
            port = str(DEMO_PCO_PORT)
            children.insert(0, Child("pco", [*manage, "run_pco_simulator", "--port", port]))
            # The demo's rosters come from the simulator, for the pages and the schedule.
            for child in children:
                child.env["MICBOARD_PCO_URL"] = f"http://127.0.0.1:{port}"
        return children

    def _ensure_redis(self, run_dir: Path) -> Child | None:
        """Use the Redis at REDIS_URL when it answers; otherwise start a local one."""
        if _redis_answers(settings.REDIS_URL):
            return None
        server = shutil.which("redis-server")
        if server is None:
            raise CommandError(
                f"No Redis answers at {settings.REDIS_URL} and redis-server is not installed "
                "(Debian: apt-get install redis-server)."
            )
        port = redis.connection.parse_url(settings.REDIS_URL).get("port", 6379)
        child = Child(
            "redis",
            [
                server,
                "--bind",
                "127.0.0.1",  # this Redis has no password: nothing off this machine reaches it
                "--port",
                str(port),
                "--dir",
                str(run_dir),
                "--save",
                "60 1",
                "--loglevel",
                "warning",
            ],
        )
        child.start()
        _wait_for_redis(settings.REDIS_URL)
        return child

    def _supervise(self, children: list[Child]) -> None:
        stopping = False

        def request_stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        for child in children:
            if child.process is None:
                child.start()
        while not stopping:
            self._restart_exited(children)
            time.sleep(0.5)  # supervision tick, not synchronisation
        self.stdout.write("Stopping...")
        stop_all(children)

    def _restart_exited(self, children: list[Child]) -> None:
        now = time.monotonic()
        for child in children:
            if not child.exited() or now < child.next_start:
                continue
            if now - child.started_at >= STABLE_AFTER:
                child.failures = 0  # it had been running fine: this is a new failure
            child.failures += 1
            delay = min(RESTART_BACKOFF_MAX, 2.0**child.failures)
            self.stderr.write(f"{child.name} stopped; restarting it in {delay:.0f} s")
            child.next_start = now + delay
            child.process = None
        for child in children:
            if child.process is None and now >= child.next_start:
                child.start()


def stop_all(children: list[Child], grace: float = STOP_GRACE) -> None:
    """Stop every child, always: SIGTERM (the last started first), then SIGKILL for any
    still running after `grace` seconds. A child that ignores SIGTERM must not leave
    run_stack dying with TimeoutExpired and itself running on."""
    for child in reversed(children):
        child.stop()
    deadline = time.monotonic() + grace
    for child in reversed(children):
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _wait_for_redis(url: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _redis_answers(url):
            return
        time.sleep(0.1)
    raise CommandError(f"redis-server did not start answering at {url}")
