"""Fixtures of the output tests: a throwaway `mosquitto` broker on a free loopback port.

- `MosquittoServer`: start, stop and restart a private broker (optionally with a password
  file), like `RedisServer` in tests/conftest.py.
- `mosquitto` (function): a started broker, stopped at the end of the test.
- `subscribed(broker, topic)`: a real MQTT client collecting what arrives, by topic.
- `osc_listener` (function): a UDP OSC receiver on loopback, and `type_tags` of a message.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import orjson
import pytest
from pythonosc.osc_message import OscMessage

from tests.conftest import free_port
from tests.waiting import wait_until, wait_until_async

MOSQUITTO_START_TIMEOUT = 10.0
WITHIN = 5.0  # s for a message to reach its receiver on a loaded machine


class MosquittoServer:
    """A mosquitto process on 127.0.0.1; with `users`, only those may connect; with `tls`
    (a certificate and key PEM file), it speaks TLS only."""

    def __init__(
        self,
        port: int | None = None,
        *,
        users: dict[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.users = users or {}
        self.tls = tls
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
        if self.tls:
            lines += [f"certfile {self.tls[0]}", f"keyfile {self.tls[1]}"]
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


@dataclass
class Subscriber:
    """Everything a real MQTT client subscribed to '#' has received, by topic."""

    messages: dict[str, list[aiomqtt.Message]] = field(default_factory=dict)
    arrived_at: dict[str, float] = field(default_factory=dict)  # first arrival, time.time()

    def last(self, topic: str) -> aiomqtt.Message | None:
        received = self.messages.get(topic)
        return received[-1] if received else None

    async def wait_for(self, topic: str, payload: bytes | None = None) -> aiomqtt.Message:
        def arrived() -> aiomqtt.Message | None:
            message = self.last(topic)
            if message is None or (payload is not None and message.payload != payload):
                return None
            return message

        message = await wait_until_async(arrived, WITHIN, f"a message on {topic}")
        assert message is not None  # wait_until_async returns only a truthy value
        return message

    async def json(self, topic: str) -> dict:
        payload = (await self.wait_for(topic)).payload
        assert isinstance(payload, bytes)
        return orjson.loads(payload)


@asynccontextmanager
async def subscribed(
    broker: MosquittoServer, topic: str = "#", *, ready: str | None = None
) -> AsyncIterator[Subscriber]:
    """Subscribe to `topic` and collect; with `ready`, wait for a retained message there
    (so the subscription is known to be in place before the test goes on)."""
    subscriber = Subscriber()
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier=f"t-{uuid.uuid4().hex}") as c:
        await c.subscribe(topic, qos=1)

        async def collect() -> None:
            async for message in c.messages:
                topic = str(message.topic)
                subscriber.arrived_at.setdefault(topic, time.time())
                subscriber.messages.setdefault(topic, []).append(message)

        task = asyncio.create_task(collect())
        try:
            if ready:
                await subscriber.wait_for(ready)
            yield subscriber
        finally:
            task.cancel()


class Listener(asyncio.DatagramProtocol):
    """A UDP OSC receiver: every datagram, decoded."""

    def __init__(self) -> None:
        self.received: list[tuple[OscMessage, bytes]] = []
        self.arrived_at: list[float] = []  # time.time() of each
        self.port = 0  # set once bound

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append((OscMessage(data), data))
        self.arrived_at.append(time.time())

    async def next(self, count: int = 1) -> list[tuple[OscMessage, bytes]]:
        await wait_until_async(lambda: len(self.received) >= count, WITHIN, f"{count} OSC msgs")
        return self.received[:count]


@pytest.fixture
async def osc_listener() -> AsyncIterator[tuple[Listener, int]]:
    """Yield a started listener and its port."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(Listener, local_addr=("127.0.0.1", 0))
    protocol.port = transport.get_extra_info("sockname")[1]
    yield protocol, protocol.port
    transport.close()


def type_tags(data: bytes) -> bytes:
    """Return the OSC type tag string of a raw message (",ssi" and so on)."""
    start = data.index(b",")
    return data[start : data.index(b"\0", start)]
