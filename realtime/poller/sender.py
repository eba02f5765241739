"""Sending pre-encoded frames to the channel-layer groups `mg.<id>`.

With RedisPubSubChannelLayer, `group_send(group, message)` is exactly one PUBLISH of the
serialized message on the group's Redis channel, made under a lock held across the round
trip: the 40 groups of one frame tick would cost 40 round trips in a row, and the tick
would run late. When the layer lives on the poller's own Redis (our settings),
FrameSender PUBLISHes the same bytes on the same channels in one pipeline instead, and
numbers deltas inside Redis (a script INCRs each group's seq and PUBLISHes its frame
with that seq spliced in), so a frame tick is one round trip. With Sentinel the same
holds when the layer names our master service on our Sentinels. Any other layer setup
(another server, sharding) gets INCRs and then plain `group_send` calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgpack
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.client import Pipeline

from realtime import frames, keys
from realtime.redis_client import redis_target

PUBSUB_BACKEND = "channels_redis.pubsub.RedisPubSubChannelLayer"
GroupFrame = tuple[int, str]
SplitFrame = tuple[int, str, str]  # a group's frame text before and after its seq

# KEYS: the groups' seq keys. ARGV[1]: the serialized layer message up to its text (a
# msgpack str comes last); then per group its channel and the text before/after the seq.
NUMBER_AND_PUBLISH = """
for i, key in ipairs(KEYS) do
  local text = ARGV[3 * i] .. redis.call('INCR', key) .. ARGV[3 * i + 1]
  redis.call('PUBLISH', ARGV[3 * i - 1], ARGV[1] .. cmsgpack.pack(text))
end
return #KEYS
"""

# KEYS[1]: the group's seq key, then its units' state keys. ARGV: the layer message head,
# the group's channel, the snapshot text's three parts (frames.snapshot_parts), then the
# units' ids in KEYS order. Numbering, reading and publishing in one script keeps a
# snapshot in seq order with the deltas another poller numbers meanwhile.
SNAPSHOT = """
local seq = redis.call('INCR', KEYS[1])
local units = {}
if #KEYS > 1 then
  local states = redis.call('MGET', unpack(KEYS, 2))
  for i = 1, #states do
    if states[i] then units[#units + 1] = '"' .. ARGV[5 + i] .. '":' .. states[i] end
  end
end
local text = ARGV[3] .. seq .. ARGV[4] .. table.concat(units, ',') .. ARGV[5]
redis.call('PUBLISH', ARGV[2], ARGV[1] .. cmsgpack.pack(text))
return seq
"""


class FrameSender:
    def __init__(self, redis: aioredis.Redis, layer: Any) -> None:
        self.redis = redis
        self.layer = layer
        self.prefix = direct_publish_prefix()
        self.head = message_head(layer) if self.prefix is not None else None

    async def send(self, group_frames: Sequence[GroupFrame]) -> None:
        """Send each text to its group, in order."""
        if self.prefix is None:
            for group_id, text in group_frames:
                await self.layer.group_send(keys.layer_group(group_id), live_frame(text))
            return
        pipe = self.redis.pipeline(transaction=False)
        for group_id, text in group_frames:
            channel = pubsub_channel(self.prefix, group_id)
            pipe.publish(channel, self.layer.serialize(live_frame(text)))
        await pipe.execute()

    async def send_numbered(self, pipe: Pipeline, split_frames: Sequence[SplitFrame]) -> None:
        """Run `pipe` (writes the seqs must follow), then give each group's frame the
        group's next seq and send it; all in one round trip when Redis can number them."""
        if not split_frames:
            await pipe.execute()
        elif self.prefix is None or self.head is None:
            await self._number_then_send(pipe, split_frames)
        else:
            seq_keys = [keys.group_seq(group_id) for group_id, _, _ in split_frames]
            args: list[str | bytes] = [self.head]
            for group_id, before, after in split_frames:
                args += [pubsub_channel(self.prefix, group_id), before, after]
            pipe.eval(NUMBER_AND_PUBLISH, len(seq_keys), *seq_keys, *args)
            await pipe.execute()

    async def send_snapshots(self, members: Sequence[tuple[int, Sequence[int]]]) -> int:
        """Send each (group, unit ids) a snapshot of its units' stored states, numbered
        with the group's next seq; return how many were sent."""
        if self.prefix is None or self.head is None:
            return await self._read_then_send_snapshots(members)
        pipe = self.redis.pipeline(transaction=False)
        for group_id, unit_ids in members:
            state_keys = [keys.unit_state(unit_id) for unit_id in unit_ids]
            channel = pubsub_channel(self.prefix, group_id)
            parts = frames.snapshot_parts(group_id)
            ids = [str(unit_id) for unit_id in unit_ids]
            pipe.eval(
                SNAPSHOT, 1 + len(state_keys), keys.group_seq(group_id), *state_keys,
                self.head, channel, *parts, *ids,
            )  # fmt: skip
        await pipe.execute()
        return len(members)

    async def _read_then_send_snapshots(self, members: Sequence[tuple[int, Sequence[int]]]) -> int:
        # Seqs first, then the states: any delta numbered after a snapshot wrote its states
        # after the snapshot's seq was taken, so the snapshot is never newer than it.
        unit_ids = sorted({unit_id for _, units in members for unit_id in units})
        pipe = self.redis.pipeline(transaction=False)
        for group_id, _ in members:
            pipe.incr(keys.group_seq(group_id))
        if unit_ids:
            pipe.mget([keys.unit_state(unit_id) for unit_id in unit_ids])
        results = await pipe.execute()
        seqs, values = results[: len(members)], results[len(members) :] or [[]]
        stored = {u: raw for u, raw in zip(unit_ids, values[0], strict=True) if raw}
        snapshots = [
            (group_id, frames.snapshot(group_id, seq, {u: stored[u] for u in units if u in stored}))
            for (group_id, units), seq in zip(members, seqs, strict=True)
        ]
        await self.send(snapshots)
        return len(snapshots)

    async def _number_then_send(self, pipe: Pipeline, split_frames: Sequence[SplitFrame]) -> None:
        for group_id, _, _ in split_frames:
            pipe.incr(keys.group_seq(group_id))
        seqs = (await pipe.execute())[-len(split_frames) :]
        numbered = zip(split_frames, seqs, strict=True)
        await self.send([(g, f"{before}{seq}{after}") for (g, before, after), seq in numbered])


def live_frame(text: str) -> dict[str, str]:
    return {"type": "live.frame", "text": text}


def message_head(layer: Any) -> bytes | None:
    """Return the layer's serialized live frame up to its text, or None when the layer's
    format does not end with a plain msgpack string (encrypted, say)."""
    head = layer.serialize(live_frame(""))[: -len(msgpack.packb(""))]
    probe = "x" * 300  # long enough to need a longer msgpack length header
    try:
        fits = layer.deserialize(head + msgpack.packb(probe)) == live_frame(probe)
    except Exception:
        fits = False
    return head if fits else None


def pubsub_channel(prefix: str, group_id: int) -> str:
    """Return the Redis channel the pubsub layer subscribes a group's members to."""
    return layer_pubsub_channel(prefix, keys.layer_group(group_id))


def layer_pubsub_channel(prefix: str, layer_group: str) -> str:
    """Return the Redis channel of any channel-layer group (as channels_redis names it)."""
    return f"{prefix}__group__{layer_group}"


def direct_publish_prefix() -> str | None:
    """Return the pubsub layer's channel prefix when it shares our Redis, else None."""
    layer: dict[str, Any] = settings.CHANNEL_LAYERS.get("default", {})
    config: dict[str, Any] = layer.get("CONFIG", {})
    if layer.get("BACKEND") != PUBSUB_BACKEND or not on_our_redis(config.get("hosts")):
        return None
    return str(config.get("prefix", "asgi"))


def on_our_redis(hosts: Any) -> bool:
    """Whether layer `hosts` are our one Redis: REDIS_URL, or with Sentinel the same master
    service on the same Sentinels (the database number does not matter to pub/sub)."""
    target = redis_target()
    if not target.sentinels:
        return bool(hosts == [target.url])
    if not isinstance(hosts, list) or len(hosts) != 1 or not isinstance(hosts[0], dict):
        return False
    sentinels = {tuple(address) for address in hosts[0].get("sentinels", ())}
    return hosts[0].get("master_name") == target.master and sentinels == set(target.sentinels)
