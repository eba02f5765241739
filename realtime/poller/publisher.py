"""Everything the poller writes to Redis and sends to walls.

Per flush: the changed units' states (MSET), one INCR of each affected group's seq,
then one pre-encoded `delta` per group. While the poller is idle a change is flushed as
soon as the loop is free; under load (more state changes per second than `eager_below`)
changes wait for the next frame tick and leave coalesced, one delta per group per tick.
Every second: one history point per changed unit. Every few seconds: a full `snapshot` per
group. Writes precede the seq they belong to, which is what lets a consumer read a
consistent snapshot (see live_store).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis

from realtime import frames, keys
from realtime.poller.sender import FrameSender, GroupFrame
from realtime.poller.stats import Stats
from realtime.poller.topology import Topology
from realtime.units.state import UnitState

SLICE = 100  # units per pipeline in once-a-second work, so no frame tick waits long


class Publisher:
    """Coalesces state changes and publishes them per monitoring group."""

    def __init__(
        self,
        redis: aioredis.Redis,
        layer: Any,
        stats: Stats,
        history_maxlen: int,
        *,
        eager_below: float = 0.0,
    ):
        self.redis = redis
        self.sender = FrameSender(redis, layer)
        self.stats = stats
        self.history_maxlen = history_maxlen
        self._dirty: dict[int, UnitState] = {}
        self._history: dict[int, UnitState] = {}
        # Held from taking seqs to sending their frames: deltas and snapshots come from
        # different tasks, and a group's frames must leave in seq order.
        self._in_seq_order = asyncio.Lock()
        self.eager_below = eager_below
        self.eager = eager_below > 0  # flush each change at once (idle) or on the tick
        self._changed = asyncio.Event()
        self._marks = 0  # states marked since the last `pace`

    def mark(self, state: UnitState) -> None:
        """Queue a changed state for the next delta and the next history point."""
        self._dirty[state.id] = state
        self._history[state.id] = state
        self._marks += 1
        if self.eager:
            self._changed.set()

    def pace(self, elapsed: float) -> None:
        """Decide, from the changes of the last `elapsed` seconds, whether the next ones
        leave at once (idle) or wait for the frame tick (under load: one delta per group
        per tick keeps the walls' frame rate bounded however many devices report)."""
        rate = self._marks / elapsed if elapsed > 0 else float("inf")
        self._marks = 0
        self.eager = rate < self.eager_below

    async def next_change(self) -> None:
        """Wait until a state is marked while flushing at once."""
        await self._changed.wait()
        self._changed.clear()

    async def flush_deltas(self, topology: Topology) -> None:
        """Write the changed states and send one delta per affected group."""
        async with self._in_seq_order:
            await self._flush_deltas(topology)

    async def _flush_deltas(self, topology: Topology) -> None:
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        encoded = {unit_id: frames.encode_state(state) for unit_id, state in dirty.items()}
        by_group: defaultdict[int, dict[int, bytes]] = defaultdict(dict)
        for unit_id, raw in encoded.items():
            for group_id in topology.groups_of(unit_id):
                by_group[group_id][unit_id] = raw
        pipe = self.redis.pipeline(transaction=False)
        pipe.mset({keys.unit_state(unit_id): raw for unit_id, raw in encoded.items()})
        deltas = [(g, *frames.delta_around_seq(g, by_group[g])) for g in sorted(by_group)]
        try:
            await self.sender.send_numbered(pipe, deltas)
        except BaseException:
            self._dirty = {**dirty, **self._dirty}  # retry; anything newer wins
            raise
        self.stats.frames += len(deltas)

    async def send_snapshots(self, topology: Topology, group_ids: Iterable[int]) -> None:
        """Send each group a full snapshot read back from Redis (all pollers' units)."""
        async with self._in_seq_order:
            await self._send_snapshots(topology, sorted(group_ids))

    async def _send_snapshots(self, topology: Topology, groups: list[int]) -> None:
        members = [(g, sorted(topology.units_by_group.get(g, ()))) for g in groups]
        self.stats.frames += await self.sender.send_snapshots(members)

    async def write_history(self) -> None:
        """Add one point per unit that changed since the last call (best effort)."""
        if not self._history:
            return
        batch, self._history = list(self._history.values()), {}
        # In slices: packing a thousand XADDs at once would hold the loop for ~25 ms.
        for start in range(0, len(batch), SLICE):
            pipe = self.redis.pipeline(transaction=False)
            for state in batch[start : start + SLICE]:
                pipe.xadd(
                    keys.unit_history(state.id),
                    history_point(state),  # type: ignore[arg-type]
                    maxlen=self.history_maxlen,
                    approximate=True,
                )
            await pipe.execute()

    async def restore(self, states: Iterable[UnitState], topology: Topology) -> None:
        """Write back everything Redis lost in a restart: states and group sets."""
        encoded = {keys.unit_state(state.id): frames.encode_state(state) for state in states}
        if encoded:
            await self.redis.mset(encoded)
        await self.write_group_sets(topology, ())

    async def write_group_sets(self, topology: Topology, old_groups: Iterable[int]) -> None:
        """Make every `{p}:group:{id}:units` set match the topology."""
        pipe = self.redis.pipeline(transaction=True)
        for group_id in set(old_groups) | set(topology.units_by_group):
            pipe.delete(keys.group_units(group_id))
            units = topology.units_by_group.get(group_id)
            if units:
                pipe.sadd(keys.group_units(group_id), *units)
        await pipe.execute()

    async def send(self, group_id: int, text: str) -> None:
        await self.send_all([(group_id, text)])

    async def send_all(self, group_frames: list[GroupFrame]) -> None:
        await self.sender.send(group_frames)
        self.stats.frames += len(group_frames)


def history_point(state: UnitState) -> dict[str, str]:
    """Return the contract's history fields of a state, leaving out unknowns."""
    values = {
        "b": state.bars,
        "p": state.percent,
        "a": state.rf_a,
        "bb": state.rf_b,
        "au": state.audio,
        "s": state.status,
    }
    return {name: str(value) for name, value in values.items() if value is not None}
