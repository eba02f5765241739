"""Fixtures of the output tests: a throwaway `mosquitto` broker on a free loopback port.

- `MosquittoServer`: start, stop and restart a private broker (optionally with a password
  file), like `RedisServer` in tests/conftest.py.
- `mosquitto` (function): a started broker, stopped at the end of the test.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.waiting import wait_until

MOSQUITTO_START_TIMEOUT = 10.0


class MosquittoServer:
    """A mosquitto process on 127.0.0.1; with `users`, only those may connect."""

    def __init__(self, port: int | None = None, *, users: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.users = users or {}
        self.directory = Path(tempfile.mkdtemp(prefix="micboard-mosquitto-"))
        self.process: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence false",
            # Run as root, mosquitto drops to the `mosquitto` user, who cannot read this
            # private directory: stay the user who started it.
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
        ]
        if self.users:
            passwords = self.directory / "passwords"
            passwords.write_text("")
            for user, password in self.users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwords), user, password], check=True
                )
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        config = self.directory / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n")
        return config

    def start(self) -> None:
        executable = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
        assert executable, "mosquitto is not installed (apt-get install mosquitto)"
        self.process = subprocess.Popen(
            [executable, "-c", str(self._write_config())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._accepts, MOSQUITTO_START_TIMEOUT, f"mosquitto on port {self.port}")

    def _accepts(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {self.process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def mosquitto() -> Iterator[MosquittoServer]:
    server = MosquittoServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
