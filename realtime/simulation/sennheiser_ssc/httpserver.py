"""Serve HTTP/1.1 over asyncio streams: keep-alive requests and chunked event streams.

Just enough HTTP for a device simulator: Content-Length request bodies, JSON replies, and
long-lived `text/event-stream` replies sent as chunked transfer encoding. It can also stall
every connection (a pulled cable), drop them all (a crash) and stop listening (a reboot).
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import ssl
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

import orjson

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
_NETWORK_ERRORS = (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError)


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed HTTP request."""

    method: str
    path: str  # without the query string
    version: str
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""

    @property
    def keep_alive(self) -> bool:
        """Tell whether the client wants the connection kept open after the reply."""
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


@dataclass(frozen=True, slots=True)
class Response:
    """A complete reply with a body of known length."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, payload: object, *extra: tuple[str, str]) -> Response:
        """Build a JSON reply."""
        headers = (("Content-Type", "application/json"), *extra)
        return cls(status, orjson.dumps(payload), headers)


@dataclass(frozen=True, slots=True)
class EventStream:
    """A streamed `text/event-stream` reply; every item of `chunks` is written at once."""

    chunks: AsyncGenerator[bytes, None]
    headers: tuple[tuple[str, str], ...] = ()


Handler = Callable[[Request], Awaitable[Response | EventStream]]


class BadRequest(Exception):
    """The bytes on the wire were no HTTP request we can serve."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request; None when the client closed the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial:
            raise BadRequest(400, "truncated request head") from error
        return None
    except asyncio.LimitOverrunError as error:
        raise BadRequest(431, "request head too large") from error
    method, path, version, headers = parse_head(head)
    body = await reader.readexactly(_content_length(headers))
    return Request(method, path, version, headers, body)


def parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    """Split a request head into method, path, version and lower-cased headers."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, f"bad request line {lines[0]!r}")
    headers = {}
    for line in filter(None, lines[1:]):
        name, colon, value = line.partition(":")
        if not colon:
            raise BadRequest(400, f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1].partition("?")[0], parts[2], headers


def _content_length(headers: dict[str, str]) -> int:
    """Return the declared body length; chunked request bodies are not supported."""
    if "transfer-encoding" in headers:
        raise BadRequest(501, "chunked request bodies are not supported")
    length = headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        raise BadRequest(400, f"bad Content-Length {length!r}")
    return int(length)


def encode_head(status: int, headers: tuple[tuple[str, str], ...]) -> bytes:
    """Encode a status line and headers."""
    lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def encode_response(response: Response, *, keep_alive: bool) -> bytes:
    """Encode a complete reply with its Content-Length."""
    headers = (
        *response.headers,
        ("Content-Length", str(len(response.body))),
        ("Connection", "keep-alive" if keep_alive else "close"),
    )
    return encode_head(response.status, headers) + response.body


def encode_chunk(data: bytes) -> bytes:
    """Frame bytes as one HTTP chunk."""
    return b"%x\r\n%s\r\n" % (len(data), data)


class HttpServer:
    """Accept TLS connections and hand every request to one async handler."""

    def __init__(self, handler: Handler, *, ssl_context: ssl.SSLContext | None) -> None:
        self._handler = handler
        self._ssl_context = ssl_context
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._online = asyncio.Event()
        self._online.set()

    async def listen(self, host: str, port: int) -> int:
        """Start accepting connections; return the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(
            self._serve_connection, host, port, ssl=self._ssl_context
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def stop_listening(self) -> None:
        """Refuse new connections (a powered-off device) and drop the open ones."""
        # Forgotten first, so a handshake that completes while we wait is dropped at once.
        server, self._server = self._server, None
        if server is not None:
            server.close()
            self.drop_connections()
            await server.wait_closed()  # from 3.12 this waits for open connections too

    def stall(self, stalled: bool) -> None:
        """Hold every request unanswered while stalled, as a pulled cable would."""
        if stalled:
            self._online.clear()
        else:
            self._online.set()

    def drop_connections(self) -> None:
        """Reset every open connection at once."""
        for writer in list(self._writers):
            writer.transport.abort()

    async def close(self) -> None:
        """Stop listening, drop every connection and wait for their handlers to end.

        Handlers are left to see their dropped socket and return: cancelling one makes
        asyncio (3.11) log an "Exception in callback" error for it. Dropping rather than
        closing politely keeps stop() prompt even when a client never reads again.
        """
        self._online.set()  # a stalled handler must run on to notice its socket is gone
        await self.stop_listening()
        # A failed handler has already been reported by asyncio; stopping goes on regardless.
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve requests on one connection until either side closes it."""
        if self._server is None:  # its TLS handshake finished after we stopped listening
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None  # a stream callback always runs inside a task
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            while await self._serve_request(reader, writer):
                pass
        except BadRequest as error:
            await self._reject(writer, error)
        except _NETWORK_ERRORS as error:
            logger.debug("simulator connection ended: %r", error)
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def _serve_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; return whether the connection stays open for another."""
        await self._online.wait()
        request = await read_request(reader)
        if request is None:
            return False
        await self._online.wait()
        reply = await self._answer(request)
        if isinstance(reply, EventStream):
            await self._stream(reader, writer, reply)
            return False
        writer.write(encode_response(reply, keep_alive=request.keep_alive))
        await writer.drain()
        return request.keep_alive

    async def _answer(self, request: Request) -> Response | EventStream:
        """Run the handler; a bug in it becomes a 500, as on the device, not a dead socket."""
        try:
            return await self._handler(request)
        except Exception:
            logger.exception("simulator handler failed on %s %s", request.method, request.path)
            return Response.json(500, {"path": request.path, "error": 500})

    async def _reject(self, writer: asyncio.StreamWriter, error: BadRequest) -> None:
        """Answer a request we cannot parse, then let the connection close."""
        logger.info("simulator rejected a request: %s", error)
        reply = Response.json(error.status, {"error": error.status})
        with contextlib.suppress(*_NETWORK_ERRORS):
            writer.write(encode_response(reply, keep_alive=False))
            await writer.drain()

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stream: EventStream
    ) -> None:
        """Send an event stream until it ends or the client goes away."""
        headers = (*stream.headers, ("Transfer-Encoding", "chunked"), ("Connection", "close"))
        writer.write(encode_head(200, headers))
        await writer.drain()
        pump = asyncio.create_task(self._pump(writer, stream.chunks))
        # An SSE client never sends on this connection, so any read result means it left.
        hangup = asyncio.create_task(reader.read(1))
        _, pending = await asyncio.wait({pump, hangup}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(pump, hangup, return_exceptions=True)

    async def _pump(
        self, writer: asyncio.StreamWriter, chunks: AsyncGenerator[bytes, None]
    ) -> None:
        """Write each item as its own chunk, then the terminating empty chunk."""
        async with contextlib.aclosing(chunks):
            async for data in chunks:
                writer.write(encode_chunk(data))
                await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
