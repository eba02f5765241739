"""The browser-test stage: daphne (ChannelsLiveServerTestCase), a private Redis, a Shure
TCP simulator, a real poller process, and Debian's Chromium driven by Playwright.

- daphne is forked by ChannelsLiveServerTestCase after the Redis settings are overridden,
  so it uses this class's Redis; the poller is `manage.py run_poller` in a subprocess
  pointed at the same Redis and the test database file.
- The simulator runs in a thread with its own event loop, so a test can change what the
  "device" reports (`self.device(...)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import redis
from channels.testing import ChannelsLiveServerTestCase
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import override_settings
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from micboard.models import (
    MonitoringGroup,
    Organization,
    WirelessUnit,
)
from micboard.services import PerformerAssignmentService, PerformerService
from realtime.simulation.shure_tcp.simulator import ShureTcpSimulator
from tests import factories
from tests.conftest import RedisServer, shared_database_url
from tests.factories import TEST_PASSWORD
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
# The docs' screenshots change only when asked (MICBOARD_UPDATE_SCREENSHOTS=1), so an
# ordinary test run leaves the work tree clean; otherwise they land in a scratch folder.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("MICBOARD_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "micboard-screenshots"
)
PASSWORD = TEST_PASSWORD
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
T = TypeVar("T")
LIVE_TIMEOUT_MS = 20_000  # first frames wait for the poller to start and read the device


class SimulatorThread:
    """A simulator (a ShureTcpSimulator unless given) serving from its own event loop in a
    background thread."""

    def __init__(self, model: str = "ULXD4Q", *, simulator: Any = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.simulator = simulator or ShureTcpSimulator(model, seed=7)
        self.run(self.simulator.start())

    @property
    def port(self) -> int:
        return self.simulator.port

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def call(self, control: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Call a simulator control (set_battery, …) inside its loop, and wait for it."""
        done: Future[None] = Future()

        def apply() -> None:
            try:
                control(*args, **kwargs)
                done.set_result(None)
            except Exception as error:  # pragma: no cover - surfaced by result()
                done.set_exception(error)

        self.loop.call_soon_threadsafe(apply)
        done.result(timeout=10)

    def stop(self) -> None:
        self.run(self.simulator.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class ServerProgram:
    """A daphne started with subprocess, stopped the way the test case stops its own."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def terminate(self) -> None:
        self.process.terminate()

    def join(self) -> None:
        stop_program(self.process)


def wait_for_port(host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    def listening() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return True
        return False

    wait_until(listening, 30, f"daphne listening on {host}:{port}")


def stop_program(process: subprocess.Popen[bytes], *, grace: float = 15) -> None:
    """Ask a program to stop (SIGTERM); kill it if it has not within `grace` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


def off_the_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ORM and service code in a worker thread.

    Playwright's event loop owns the test thread, and the services' change receivers use
    async_to_sync, which refuses to run beside a running loop.
    """

    def run() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


class LiveWallTestCase(ChannelsLiveServerTestCase):
    """Base class of the browser tests; see the module docstring."""

    serve_static = True
    redis_server: ClassVar[RedisServer | None] = None
    redis_url: ClassVar[str]
    media_root: ClassVar[str]
    playwright: ClassVar[Playwright]
    browser: ClassVar[Browser]

    @classmethod
    def setUpClass(cls) -> None:
        # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
        # make between browser steps are synchronous and safe.
        cls._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        cls._start_redis()
        cls.media_root = tempfile.mkdtemp(prefix="micboard-e2e-media-")  # uploads land here
        prefix = f"e2e{uuid.uuid4().hex[:8]}"
        cls._redis_settings = override_settings(
            MEDIA_ROOT=cls.media_root,
            REDIS_URL=cls.redis_url,
            MICBOARD_REDIS_PREFIX=prefix,
            CHANNEL_LAYERS={
                "default": {
                    "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                    "CONFIG": {"hosts": [cls.redis_url], "prefix": f"{prefix}.layer"},
                }
            },
        )
        cls._redis_settings.enable()
        super().setUpClass()
        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.browser.close()
        cls.playwright.stop()
        super().tearDownClass()
        cls._redis_settings.disable()
        shutil.rmtree(cls.media_root, ignore_errors=True)
        if cls.redis_server is not None:
            cls.redis_server.cleanup()
        if cls._async_unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    @classmethod
    def _start_redis(cls) -> None:
        external = os.environ.get("MICBOARD_TEST_REDIS_URL")
        if external:
            cls.redis_url = external
            return
        cls.redis_server = RedisServer()
        cls.redis_server.start()
        cls.redis_url = cls.redis_server.url

    @classmethod
    def stop_server(cls) -> None:
        """Stop daphne, as a deploy or a crash would."""
        cls._server_process.terminate()
        cls._server_process.join()

    @classmethod
    def start_server(cls) -> None:
        """Start daphne again on the same port, as its own program this time.

        Forking another DaphneProcess now would hand the child Playwright's pipes, and
        the browser driver would then never see them close.
        """
        command = [sys.executable, "-m", "daphne", "-b", cls.host, "-p", str(cls._port)]
        process = subprocess.Popen(
            [*command, "micboard.asgi:application"], env=cls.stack_env(), cwd=ROOT
        )
        cls._server_process = ServerProgram(process)
        wait_for_port(cls.host, cls._port, process)

    @classmethod
    def stack_env(cls) -> dict[str, str]:
        """Return the environment that points a program at this test's database and Redis."""
        return {
            **os.environ,
            "DATABASE_URL": shared_database_url(),
            "REDIS_URL": cls.redis_url,
            "MICBOARD_REDIS_PREFIX": settings.MICBOARD_REDIS_PREFIX,
            "MEDIA_ROOT": cls.media_root,
            "LOG_LEVEL": "WARNING",
            # The tests raise alerts at once; the start-up grace has tests of its own.
            "MICBOARD_ALERT_GRACE": "0",
        }

    def setUp(self) -> None:
        super().setUp()
        redis.Redis.from_url(self.redis_url).flushdb()
        self.simulators: list[SimulatorThread] = []
        self.poller: subprocess.Popen[bytes] | None = None
        self.context: BrowserContext = self.browser.new_context(
            viewport={"width": 1400, "height": 900}
        )
        self.context.set_default_timeout(LIVE_TIMEOUT_MS)
        self.page: Page = self.context.new_page()

    def tearDown(self) -> None:
        self.context.close()
        if self.poller is not None:
            stop_program(self.poller)
        for simulator in self.simulators:
            simulator.stop()
        super().tearDown()

    # ------------------------------------------------------------------ the stage

    def start_device(self, model: str = "ULXD4Q") -> SimulatorThread:
        simulator = SimulatorThread(model)
        self.simulators.append(simulator)
        return simulator

    def start_poller(self, **env: str) -> None:
        """Run the real poller against this test's database file and Redis (and `env`)."""
        command = [sys.executable, str(ROOT / "manage.py"), "run_poller"]
        self.poller = subprocess.Popen(command, env={**self.stack_env(), **env}, cwd=ROOT)

    def url(self, path: str) -> str:
        return f"{self.live_server_url}{path}"

    def sign_in(self, user: User, page: Page | None = None) -> Page:
        """Sign in through the login page, as a person would."""
        page = page or self.page
        page.goto(self.url("/accounts/login/"))
        page.get_by_label("Username").fill(user.get_username())
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(self.url("/"))
        return page

    def screenshot(self, name: str, page: Page | None = None) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (page or self.page).screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def make_receiver(port: int, *, slots: list[str]) -> list[WirelessUnit]:
    """Register the simulated receiver at `port` with one unit per channel."""
    return factories.make_receiver(Organization.default(), port, name="Rack A", slots=slots)[1]


def make_group(name: str, *members: User) -> MonitoringGroup:
    group = MonitoringGroup.objects.create(organization=Organization.default(), name=name)
    group.users.add(*members)
    return group


def assign(name: str, unit: WirelessUnit, group: MonitoringGroup, **options: Any) -> None:
    performer = PerformerService.create_performer(name, title=options.pop("title", ""))
    PerformerAssignmentService.create_assignment(performer, unit, group, **options)
