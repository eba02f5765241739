"""A small HTTPS/1.1 server with a WebSocket upgrade, for the System API simulator.

Plain asyncio streams carry the bytes. TLS starts after the TCP accept (`start_tls`), so an
"unreachable" server can drop connections before any handshake. REST requests are parsed
here (keep-alive, Content-Length bodies); a GET on the push path is handed, bytes and all,
to websockets' sans-I/O `ServerProtocol`, which does the handshake and the framing on the
same connection, as the real server does on its REST port.
"""

from __future__ import annotations

import asyncio
import http
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
_CLIENT_GONE = (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One parsed HTTP request; header names are lower-case."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes = b""
    head: bytes = b""  # the raw request head, replayed into the WebSocket handshake

    @property
    def path(self) -> str:
        """Return the raw (still percent-encoded) path without the query."""
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        """Return the query parameters (last value wins)."""
        return dict(parse_qsl(urlsplit(self.target).query))


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One HTTP response to serialise."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"

    def encode(self, *, keep_alive: bool) -> bytes:
        """Serialise status line, headers and body."""
        lines = [f"HTTP/1.1 {self.status} {http.HTTPStatus(self.status).phrase}"]
        if self.status != 204:  # a 204 must not carry Content-Length
            lines.append(f"Content-Length: {len(self.body)}")
        if self.body:
            lines.append(f"Content-Type: {self.content_type}")
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + self.body


class PushSocket:
    """One accepted WebSocket, driven through websockets' sans-I/O protocol."""

    def __init__(
        self, protocol: ServerProtocol, writer: asyncio.StreamWriter, flowing: asyncio.Event
    ) -> None:
        self._protocol = protocol
        self._writer = writer
        self._flowing = flowing

    @classmethod
    def accept(
        cls, request_head: bytes, writer: asyncio.StreamWriter, flowing: asyncio.Event
    ) -> PushSocket | None:
        """Answer the handshake; return the open socket, or None when the upgrade failed."""
        protocol = ServerProtocol()
        protocol.receive_data(request_head)
        handshake = next(iter(protocol.events_received()), None)
        if not isinstance(handshake, Request):
            return None
        response = protocol.accept(handshake)  # answers 426/400 itself for a bad upgrade
        protocol.send_response(response)
        socket = cls(protocol, writer, flowing)
        socket._flush()
        return socket if response.status_code == http.HTTPStatus.SWITCHING_PROTOCOLS else None

    def send_text(self, text: str, *, split: bool = False) -> None:
        """Send one text message; `split` sends it as two fragments (a split frame)."""
        if not self._can_send():
            return
        data = text.encode()
        if split and len(data) > 1:
            self._protocol.send_text(data[: len(data) // 2], fin=False)
            self._protocol.send_continuation(data[len(data) // 2 :], fin=True)
        else:
            self._protocol.send_text(data)
        self._flush()

    def abort(self) -> None:
        """Drop the connection without a closing handshake (a pulled cable)."""
        self._writer.transport.abort()

    async def serve(self, reader: asyncio.StreamReader) -> None:
        """Read until the socket closes; pings and close frames are answered on the way."""
        while self._protocol.state is not State.CLOSED:
            data = await reader.read(65536)
            await self._flowing.wait()  # while stalled, even pings go unanswered
            if not data:
                self._protocol.receive_eof()
                self._flush()
                return
            self._protocol.receive_data(data)
            self._protocol.events_received()  # clients send nothing the server acts on
            self._flush()

    def _can_send(self) -> bool:
        open_ = self._protocol.state is State.OPEN and not self._writer.is_closing()
        return open_ and self._flowing.is_set()

    def _flush(self) -> None:
        for chunk in self._protocol.data_to_send():
            if chunk:
                self._writer.write(chunk)
            else:  # sans-I/O asks for a half-close, which TLS streams cannot do: close
                self._writer.close()


RequestHandler = Callable[[HttpRequest], Awaitable[HttpResponse]]
PushOpened = Callable[[PushSocket], None]
PushClosed = Callable[[PushSocket], None]


class HttpsServer:
    """Serve REST over keep-alive HTTPS and upgrade GETs on `push_path` to WebSockets."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext,
        push_path: str,
        on_request: RequestHandler,
        on_push_opened: PushOpened,
        on_push_closed: PushClosed,
    ) -> None:
        self.host, self.port = host, port
        self.accepting = True
        # Cleared to stall: connections stay open but nothing is read, answered or pushed.
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._ssl_context = ssl_context
        self._push_path = push_path
        self._on_request = on_request
        self._on_push_opened = on_push_opened
        self._on_push_closed = on_push_closed
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[object]] = set()

    async def start(self) -> None:
        """Listen; with port 0 the bound port is stored in `port`."""
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=MAX_HEAD_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, drop every connection and wait for their handlers to end.

        Handlers are left to see their dropped socket and return: cancelling one makes
        asyncio (3.11) log an "Exception in callback" error for it. Dropping rather than
        closing politely keeps stop() prompt even when a client never reads again.
        """
        self.accepting = False  # a connection accepted from now on is dropped at once
        self.drop_connections()
        self.flowing.set()  # a stalled handler must run on to notice its socket is gone
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()  # from 3.12 this waits for open connections too
        # A failed handler has already been reported by asyncio; stopping goes on regardless.
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def drop_connections(self) -> None:
        """Abort every open connection, REST and push alike."""
        for writer in list(self._writers):
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.accepting:
            writer.transport.abort()  # refused before TLS, like a host that is gone
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self.flowing.wait()  # a stalled host accepts TCP but never answers TLS
            await writer.start_tls(self._ssl_context)
            await self._serve_requests(reader, writer)
        except (*_CLIENT_GONE, ssl.SSLError, ValueError) as exc:
            log.debug("simulator connection ended: %r", exc)
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
            if task is not None:
                self._tasks.discard(task)

    async def _serve_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (request := await read_request(reader)) is not None:
            await self.flowing.wait()
            if request.method == "GET" and request.path == self._push_path:
                await self._serve_push(request, reader, writer)
                return
            response = await self._on_request(request)
            keep_alive = request.headers.get("connection", "").lower() != "close"
            writer.write(response.encode(keep_alive=keep_alive))
            await writer.drain()
            if not keep_alive:
                return

    async def _serve_push(
        self, request: HttpRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        socket = PushSocket.accept(request.head, writer, self.flowing)
        if socket is None:
            return
        self._on_push_opened(socket)
        try:
            await socket.serve(reader)
        finally:
            self._on_push_closed(socket)


async def read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    """Read one request; return None on a clean end of stream, raise ValueError on garbage."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise
        return None
    request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    length = int(headers.get("content-length", "0"))
    if not 0 <= length <= MAX_BODY_BYTES:
        raise ValueError(f"refusing a {length}-byte body")
    body = await reader.readexactly(length) if length else b""
    return HttpRequest(method=method, target=target, headers=headers, body=body, head=head)
