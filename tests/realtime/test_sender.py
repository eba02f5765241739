"""Snapshots as the poller sends them, on both sending paths, through a real Redis and the
real channel layer: what a wall receives is exactly `frames.snapshot` of the stored states."""

from __future__ import annotations

import orjson
import pytest
from channels.layers import channel_layers, get_channel_layer

from realtime import frames, keys
from realtime.poller.sender import FrameSender
from realtime.redis_client import async_client

GROUP = 5


@pytest.fixture(params=["numbered in Redis", "numbered then sent"])
def sender_path(request, live_settings):
    """The direct path (layer on our Redis) or the plain one (a layer URL that is the same
    server spelt differently, so the sender cannot tell it shares our Redis)."""
    if request.param == "numbered then sent":
        layer = live_settings.CHANNEL_LAYERS["default"]
        layer["CONFIG"]["hosts"] = [layer["CONFIG"]["hosts"][0] + "?protocol=2"]
    channel_layers.backends.clear()  # the layer is built from the settings above
    yield request.param
    channel_layers.backends.clear()


async def test_a_snapshot_carries_the_stored_states_and_the_next_seq(sender_path):
    stored = {1: b'{"id":1,"status":"GOOD"}', 2: b'{"id":2,"status":"CRITICAL"}'}
    redis = async_client()
    await redis.mset({keys.unit_state(u): raw for u, raw in stored.items()})
    await redis.set(keys.group_seq(GROUP), 41)
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(keys.layer_group(GROUP), channel)

    sender = FrameSender(redis, layer)
    assert (sender.prefix is not None) == (sender_path == "numbered in Redis")
    sent = await sender.send_snapshots([(GROUP, [1, 2, 3])])  # unit 3 has no state yet

    message = await layer.receive(channel)
    assert sent == 1
    assert message["text"] == frames.snapshot(GROUP, 42, stored)
    assert orjson.loads(message["text"])["units"] == {
        "1": {"id": 1, "status": "GOOD"},
        "2": {"id": 2, "status": "CRITICAL"},
    }
    await layer.group_discard(keys.layer_group(GROUP), channel)
