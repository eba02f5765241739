"""Units' live state for the API: the same Redis values the walls' snapshots are made of."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import redis

from realtime import keys, redis_client

logger = logging.getLogger(__name__)


def live_states(unit_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return each unit's stored UnitState; none at all when Redis cannot be read."""
    if not unit_ids:
        return {}
    client = redis_client.sync_client()
    try:
        values = client.mget([keys.unit_state(unit_id) for unit_id in unit_ids])
    except redis.RedisError:
        logger.warning("Could not read the live state of %d units", len(unit_ids), exc_info=True)
        return {}
    return {
        unit_id: orjson.loads(raw) for unit_id, raw in zip(unit_ids, values, strict=True) if raw
    }
