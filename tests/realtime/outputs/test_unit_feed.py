"""The poller's side of the feed keeps its events while Redis is away, and sends them
once it is back (a private redis-server, stopped and started again)."""

from __future__ import annotations

import orjson
import redis.asyncio as aioredis

from realtime import keys
from realtime.poller.output_feed import UnitFeed
from realtime.units.state import UnitState
from tests.conftest import RedisServer


def state(bars: int, *, online: bool = True) -> UnitState:
    return UnitState(
        id=7, status="GOOD", battery_status="GOOD", online=online, tx_on=True, bars=bars,
        percent=None, minutes=None, rf_a=-50.0, rf_b=-52.0, antenna="A", quality=None,
        audio=-20.0, peak=None, clip=False, tx_offset=None, freq=None, name=None, ts=1.0,
    )  # fmt: skip


async def test_events_seen_while_redis_is_away_are_sent_when_it_is_back(live_settings):
    server = RedisServer()
    server.start()
    client = aioredis.Redis.from_url(server.url, socket_timeout=1, socket_connect_timeout=1)
    try:
        feed = UnitFeed(client, rf_threshold=-90.0)
        feed.observe(state(5), (3,))  # the first state: a baseline
        server.stop()
        feed.observe(state(4), (3,))
        feed.observe(state(4, online=False), (3,))
        await feed.flush()  # fails: kept for the next try, and returns
        server.start()
        await feed.flush()
        entries = await client.xrange(keys.outputs())
    finally:
        await client.aclose()
        server.cleanup()
    sent = [orjson.loads(fields[b"e"]) for _, fields in entries]
    assert [(e["kind"], e["unit"], e["groups"]) for e in sent] == [
        ("battery.step", 7, [3]),
        ("unit.offline", 7, [3]),
    ]
    assert (sent[0]["payload"]["from_bars"], sent[0]["payload"]["to_bars"]) == (5, 4)
