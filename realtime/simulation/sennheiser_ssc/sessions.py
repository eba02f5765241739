"""Hold the simulator's SSE subscription sessions and frame what they send.

A session remembers the paths in the form the client sent them (with or without `/api`),
and the last value it pushed for each, so every push carries only what changed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field

import orjson

from realtime.protocols.sennheiser_ssc.wire import SUBSCRIPTIONS_PATH, Located

CLOSE_FRAME = b"event:close\ndata:{}\n\n"

# What a misbehaving device might put on the wire; clients must skip all of it.
GARBAGE_FRAMES = (
    b'event:message\ndata:{"/api/channel/0/level":{"val\n\n',
    b"event:message\ndata:not json at all\n\n",
    b"\xff\xfe\x00\x81garbage\r\n\r\n",
    b"event:mystery\ndata:{}\n\n",
    b'event:message\ndata:{"/api/channel/0/level":{"value":"loud"}}\n\n',
    b'event:message\ndata:{"/api/channel/9/level":{"value":-20.0}}\n\n',
    b": a comment line\n\nevent:message\ndata:[1,2,3]\n\n",
)


def sse_frame(event: str, data: bytes) -> bytes:
    """Frame one event the way the device does (no space after the colons)."""
    return b"event:" + event.encode() + b"\ndata:" + data + b"\n\n"


def message_data(values: dict[str, bytes]) -> bytes:
    """Join pre-encoded JSON values into one `{path: value}` object."""
    members = (orjson.dumps(path) + b":" + value for path, value in values.items())
    return b"{" + b",".join(members) + b"}"


@dataclass(slots=True)
class Session:
    """One open subscription stream and what it has been sent so far."""

    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    paths: dict[str, Located] = field(default_factory=dict)
    sent: dict[str, bytes] = field(default_factory=dict)
    outbox: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    split_next: bool = False

    @property
    def path(self) -> str:
        """Return the address that manages this session."""
        return f"{SUBSCRIPTIONS_PATH}/{self.uuid}"

    def open_frame(self) -> bytes:
        """Frame the first event of the stream: the session's path and uuid."""
        return sse_frame("open", orjson.dumps({"path": self.path, "sessionUUID": self.uuid}))

    def push_changes(self, value_of: Callable[[Located], bytes]) -> None:
        """Queue one message with every subscribed value that differs from what was sent."""
        changed: dict[str, bytes] = {}
        for wire_path, located in self.paths.items():
            encoded = value_of(located)
            if self.sent.get(wire_path) != encoded:
                self.sent[wire_path] = changed[wire_path] = encoded
        if changed:
            self.outbox.put_nowait(sse_frame("message", message_data(changed)))

    def end(self) -> None:
        """Queue the close event and the end of the stream."""
        self.outbox.put_nowait(CLOSE_FRAME)
        self.outbox.put_nowait(None)

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """Yield the open event, then queued frames until the session ends."""
        try:
            yield self.open_frame()
            while (frame := await self.outbox.get()) is not None:
                for piece in self._pieces(frame):
                    yield piece
        finally:
            self.finished.set()

    def _pieces(self, frame: bytes) -> tuple[bytes, ...]:
        """Split the frame in two when a split fault is pending, else keep it whole."""
        if not self.split_next or len(frame) < 2:
            return (frame,)
        self.split_next = False
        middle = len(frame) // 2
        return frame[:middle], frame[middle:]
