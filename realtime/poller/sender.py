"""Sending pre-encoded frames to the channel-layer groups `mg.<id>`.

With RedisPubSubChannelLayer, `group_send(group, message)` is exactly one PUBLISH of the
serialized message on the group's Redis channel, made under a lock held across the round
trip: the 40 groups of one frame tick would cost 40 round trips in a row, and the tick
would run late. When the layer lives on the poller's own Redis (our settings),
FrameSender PUBLISHes the same bytes on the same channels in one pipeline instead. Any
other layer setup (another server, sharding, Sentinel) gets plain `group_send` calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings

from realtime import keys

PUBSUB_BACKEND = "channels_redis.pubsub.RedisPubSubChannelLayer"
GroupFrame = tuple[int, str]


class FrameSender:
    def __init__(self, redis: aioredis.Redis, layer: Any) -> None:
        self.redis = redis
        self.layer = layer
        self.prefix = direct_publish_prefix()

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


def live_frame(text: str) -> dict[str, str]:
    return {"type": "live.frame", "text": text}


def pubsub_channel(prefix: str, group_id: int) -> str:
    """Return the Redis channel the pubsub layer subscribes a group's members to."""
    return f"{prefix}__group__{keys.layer_group(group_id)}"


def direct_publish_prefix() -> str | None:
    """Return the pubsub layer's channel prefix when it shares our Redis, else None."""
    layer: dict[str, Any] = settings.CHANNEL_LAYERS.get("default", {})
    config: dict[str, Any] = layer.get("CONFIG", {})
    if layer.get("BACKEND") != PUBSUB_BACKEND or config.get("hosts") != [settings.REDIS_URL]:
        return None
    return str(config.get("prefix", "asgi"))
