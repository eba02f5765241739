"""Encoding of server-to-browser frames and validation of browser-to-server frames.

Frames are encoded once, where they are made (the poller, a receiver), and forwarded as
text by every consumer; see docs/live-protocol.md for their shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson

from realtime.units.state import UnitState

MAX_CLIENT_FRAME = 256  # bytes; the longest valid client frame is about 20
CLIENT_FRAME_TYPES = frozenset({"resync", "ping"})

_OPTIONS = orjson.OPT_NON_STR_KEYS
_SEQ_ZERO = '"seq":0,'  # how a seq of 0 reads in a frame; "type" and "group" come first


class BadClientFrame(ValueError):
    """A browser sent something the contract does not allow."""


class ClientFrameTooLarge(BadClientFrame):
    """A browser frame longer than any valid one."""


def encode_state(state: UnitState) -> bytes:
    return orjson.dumps(state)


def delta(group_id: int, seq: int, encoded_states: Mapping[int, bytes]) -> str:
    """Build a delta from states already encoded (as written to Redis)."""
    return _units_frame("delta", group_id, seq, encoded_states)


def delta_around_seq(group_id: int, encoded_states: Mapping[int, bytes]) -> tuple[str, str]:
    """Return a delta's text before and after its seq, for a sender that numbers it."""
    before, mark, after = delta(group_id, 0, encoded_states).partition(_SEQ_ZERO)
    return before + mark[:-2], mark[-1] + after


def snapshot(group_id: int, seq: int, encoded_states: Mapping[int, bytes]) -> str:
    """Build a snapshot from states already encoded (as stored in Redis)."""
    return _units_frame("snapshot", group_id, seq, encoded_states)


def snapshot_parts(group_id: int) -> tuple[str, str, str]:
    """Return a snapshot's text before its seq, between its seq and its units, and after
    its units, for a sender that numbers it and splices the stored states in itself."""
    before, mark, after = snapshot(group_id, 0, {}).partition(_SEQ_ZERO)
    units_open, units_close = after[:-2], after[-2:]  # after is '"units":{}}'
    return before + mark[:-2], mark[-1] + units_open, units_close


def structure(group_id: int, unit_ids: Iterable[int] | None) -> str:
    units = None if unit_ids is None else sorted(unit_ids)
    return _text({"type": "structure", "group": group_id, "units": units})


def alert_raised(
    *,
    alert_id: int,
    unit_id: int,
    kind: str,
    severity: str,
    message: str,
    created_at: datetime,
) -> str:
    body = {
        "id": alert_id,
        "unit": unit_id,
        "kind": kind,
        "severity": severity,
        "message": message,
        "created_at": created_at,
    }
    return _text({"type": "alert", "alert": body})


def alert_acknowledged(*, alert_id: int, unit_id: int) -> str:
    return _text({"type": "alert.acknowledged", "alert": {"id": alert_id, "unit": unit_id}})


def alert_resolved(*, alert_id: int, unit_id: int) -> str:
    return _text({"type": "alert.resolved", "alert": {"id": alert_id, "unit": unit_id}})


PONG = '{"type":"pong"}'


def parse_client_frame(text: str) -> str:
    """Return the type of a valid client frame; raise BadClientFrame otherwise."""
    if len(text) > MAX_CLIENT_FRAME:
        raise ClientFrameTooLarge(f"{len(text)} characters")
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise BadClientFrame("not JSON") from None
    if not isinstance(frame, dict) or set(frame) != {"type"}:
        raise BadClientFrame("expected exactly {'type': ...}")
    kind = frame["type"]
    if not isinstance(kind, str) or kind not in CLIENT_FRAME_TYPES:
        raise BadClientFrame(f"unknown type {kind!r}")
    return str(kind)


def _units_frame(kind: str, group_id: int, seq: int, encoded: Mapping[int, bytes]) -> str:
    # Fragments splice the stored JSON in as is: each state is encoded once, ever.
    units = {unit_id: orjson.Fragment(raw) for unit_id, raw in encoded.items()}
    return _text({"type": kind, "group": group_id, "seq": seq, "units": units})


def _text(frame: Any) -> str:
    return orjson.dumps(frame, option=_OPTIONS).decode()
