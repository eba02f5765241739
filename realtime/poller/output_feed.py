"""The poller's side of the outputs' feed: transitions in unit states become entries
on `{p}:outputs` (realtime/outputs/feed.py). Cheap, in the event loop: a comparison per
changed state; one pipelined XADD per interval; a bounded buffer while Redis is away."""

from __future__ import annotations

import collections
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from micboard.integrations.types import OutputEventKind
from micboard.timeline.models import EventKind as TimelineKind
from realtime import keys
from realtime.outputs.feed import FIELD, STREAM_MAXLEN, entry
from realtime.poller.detector import UnitDetector
from realtime.units.state import UnitState

logger = logging.getLogger(__name__)

BUFFER = 1_000  # entries kept while Redis is away (the newest win)


class _Seen:
    """What the feed last saw of one unit."""

    __slots__ = ("bars", "detector", "online")

    def __init__(self, state: UnitState, rf_threshold: float) -> None:
        self.online = state.online
        self.bars = state.bars
        self.detector = UnitDetector(state.id, rf_threshold)
        self.detector.observe(state)


class UnitFeed:
    """Turns each watched unit's state changes into output events."""

    def __init__(self, redis: aioredis.Redis, rf_threshold: float) -> None:
        self._redis = redis
        self._rf_threshold = rf_threshold
        self._seen: dict[int, _Seen] = {}
        self._buffer: collections.deque[bytes] = collections.deque(maxlen=BUFFER)

    def observe(self, state: UnitState, group_ids: tuple[int, ...]) -> None:
        """Note one changed state of a unit watched by `group_ids`."""
        seen = self._seen.get(state.id)
        if seen is None:  # the first state after a start: a baseline, no event
            self._seen[state.id] = _Seen(state, self._rf_threshold)
            return
        if not group_ids:
            seen.online, seen.bars = state.online, state.bars
            seen.detector.observe(state)
            return
        for kind, payload in self._transitions(seen, state):
            self._buffer.append(entry(kind, group_ids, unit_id=state.id, payload=payload))

    def _transitions(self, seen: _Seen, state: UnitState) -> list[tuple[str, dict[str, Any]]]:
        found: list[tuple[str, dict[str, Any]]] = []
        if state.online != seen.online:
            kind = OutputEventKind.UNIT_ONLINE if state.online else OutputEventKind.UNIT_OFFLINE
            found.append((kind, {"status": state.status}))
        if state.bars is not None and seen.bars is not None and state.bars != seen.bars:
            found.append(
                (
                    OutputEventKind.BATTERY_STEP,
                    {"from_bars": seen.bars, "to_bars": state.bars, "percent": state.percent},
                )
            )
        for event in seen.detector.observe(state):
            if event.kind == TimelineKind.DROPOUT and event.ended is None:  # a dropout began
                found.append((OutputEventKind.DROPOUT, {"rf_a": state.rf_a, "rf_b": state.rf_b}))
        seen.online = state.online
        if state.bars is not None:
            seen.bars = state.bars
        return found

    async def flush(self) -> None:
        """XADD what has gathered, in one round trip; kept for the next try if Redis fails."""
        if not self._buffer:
            return
        batch = list(self._buffer)
        self._buffer.clear()
        pipe = self._redis.pipeline(transaction=False)
        for data in batch:
            pipe.xadd(keys.outputs(), {FIELD: data}, maxlen=STREAM_MAXLEN, approximate=True)
        try:
            await pipe.execute()
        except (RedisError, OSError):
            logger.info("outputs feed: Redis unavailable, %d events wait", len(batch))
            kept = [*batch, *self._buffer][-BUFFER:]  # entries that came in meanwhile last
            self._buffer = collections.deque(kept, maxlen=BUFFER)
