"""HTTP spoken by hand on a raw connection, for tests of how simulators treat sockets."""

from __future__ import annotations

import asyncio
import contextlib
import ssl


async def keep_alive_status(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send a request on a raw connection and read its answer off the wire."""
    writer.write(request)
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    assert "connection: keep-alive" in head
    length = int(head.partition("content-length:")[2].split()[0])
    await reader.readexactly(length)
    return int(head.split()[1])


async def read_until_closed(reader: asyncio.StreamReader) -> None:
    """Read until the server closes the connection, whether cleanly or with a reset."""
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        await reader.read()
