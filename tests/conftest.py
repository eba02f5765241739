"""Fixtures shared by every test package.

- `django_db_modify_db_settings`: each pytest process gets its own test database (an
  SQLite file, or a PostgreSQL database named after the process), so several runs on one
  machine (or one run plus a live server) do not collide.
- `redis_server` (session): a throwaway `redis-server` on a free loopback port, stopped at
  the end; set MICBOARD_TEST_REDIS_URL to use a server you run yourself instead.
- `live_settings`: points REDIS_URL, MICBOARD_REDIS_PREFIX and the channel layer at that
  server under a prefix unique to the test, and deletes the test's keys afterwards.
- `RedisServer`: start, stop and restart a private server (for tests that restart Redis).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

from tests.waiting import wait_until

REDIS_START_TIMEOUT = 10.0
# Pollers the tests start (subprocesses inherit this) listen for and ask after no receivers
# on the network; the discovery tests turn it on, on loopback alone.
os.environ["MICBOARD_DISCOVERY"] = "False"


def shared_database_url() -> str:
    """Return a DATABASE_URL naming the test database this process has set up.

    Programs a test starts (daphne, run_poller) use it to share the test's database.
    """
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}"
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A redis-server process on loopback; with no persistence (the default) a restart
    loses all, with `appendonly` it keeps its data in an append-only file. `options` are
    more command-line options (`--replicaof host port`, say)."""

    def __init__(
        self, port: int | None = None, *, appendonly: bool = False, options: Sequence[str] = ()
    ) -> None:
        self.port = port or free_port()
        self.appendonly = appendonly
        self.options = list(options)
        self.directory = Path(tempfile.mkdtemp(prefix="micboard-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable, "redis-server is not installed (apt-get install redis-server)"
        self.process = subprocess.Popen(
            [
                *(executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "yes" if self.appendonly else "no"),
                *("--dir", str(self.directory)),
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_redis(self.url, self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def wait_for_redis(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    """Return once the server answers PING; fail after REDIS_START_TIMEOUT."""
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)

    def answers() -> bool:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(answers, REDIS_START_TIMEOUT, f"redis-server answering at {url}")
    finally:
        client.close()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
) -> Iterator[None]:
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if not database["ENGINE"].endswith("sqlite3"):
        # Named explicitly so that a live server process (Channels' DaphneProcess, which
        # derives the name from TEST NAME) opens this very database, not test_test_...
        test["NAME"] = f"test_{database['NAME']}_{os.getpid()}"
        yield
        return
    if not test.get("NAME"):
        yield
        return
    test["NAME"] = name = f"{test['NAME']}.{os.getpid()}"
    yield
    # Django removes the database file itself; WAL mode leaves these two beside it.
    for leftover in (f"{name}-wal", f"{name}-shm"):
        Path(leftover).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """Yield the URL of a Redis server for the whole run."""
    external = os.environ.get("MICBOARD_TEST_REDIS_URL")
    if external:
        wait_for_redis(external)
        yield external
        return
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.cleanup()


def use_redis(settings: object, url: str, prefix: str) -> None:
    """Point the live path's settings at `url` with every key under `prefix`."""
    settings.REDIS_URL = url  # type: ignore[attr-defined]
    settings.MICBOARD_REDIS_PREFIX = prefix  # type: ignore[attr-defined]
    settings.CHANNEL_LAYERS = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": f"{prefix}.layer"},
        }
    }


@pytest.fixture
def live_settings(settings, redis_server: str) -> Iterator[object]:
    """Give the test its own key prefix on the shared server; clean up afterwards."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    use_redis(settings, redis_server, prefix)
    yield settings
    client = redis.Redis.from_url(redis_server)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest) -> Iterator[None]:
    """Hash test passwords cheaply: every persona costs a PBKDF2 run otherwise.

    Browser tests keep the real hasher, since their server runs in another process
    with the production settings and must verify what the test stored.
    """
    if request.node.get_closest_marker("e2e"):
        yield
        return
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield
