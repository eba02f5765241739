"""A webhook receiver on loopback: a real HTTP/1.1 server that checks each delivery's
signature the way docs/integrations.md tells receivers to (tests, the bench, the demo).

It answers from a script of status codes (then 200), or never (`hang`), and keeps what
it received, each with whether its signature and timestamp held.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

MAX_AGE = 300  # s: an older timestamp is a replay
MAX_BODY = 1_000_000
REASONS = {200: "OK", 204: "No Content", 401: "Unauthorized", 500: "Internal Server Error"}


@dataclass(frozen=True, slots=True)
class Received:
    headers: dict[str, str]  # names in lower case
    body: bytes
    verified: bool
    at: float  # time.time() when the body was read

    @property
    def event(self) -> dict[str, Any]:
        value: dict[str, Any] = orjson.loads(self.body)
        return value


def signature_holds(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Check X-Micboard-Signature over "<timestamp>.<body>" and the timestamp's age."""
    timestamp = headers.get("x-micboard-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_AGE:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), headers.get("x-micboard-signature", ""))


@dataclass
class WebhookReceiver:
    secret: str
    answers: list[int] = field(default_factory=list)  # status codes to give, in order
    hang: bool = False  # read requests, never answer
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _connections: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._stopping.set()  # a hanging answer gives up: its connection closes
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()  # an idle kept-alive connection reads its end and finishes
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._connections.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        request_line = await reader.readline()
        if not request_line:
            return False
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if length > MAX_BODY:
            raise ValueError("body too large")
        body = await reader.readexactly(length)
        verified = signature_holds(self.secret, headers, body)
        self.received.append(Received(headers, body, verified, time.time()))
        if self.hang:
            await self._stopping.wait()
            return False
        status = self.answers.pop(0) if self.answers else 200
        if not verified:
            status = 401
        reason = REASONS.get(status, "Status")
        writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        return True
