"""What the Chargers page shows: each charger the user may see, with its bays as the poller
last wrote them to Redis (`realtime/poller/chargers.py`); with Redis away the page still
lists the chargers and says their bays are unknown."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from redis.exceptions import RedisError

from micboard.models import Charger
from realtime import keys, redis_client
from realtime.poller.chargers import ChargerState, decode_state


@dataclass(frozen=True, slots=True)
class ChargerRow:
    charger: Charger
    state: ChargerState | None  # None: no poller has read it yet
    store_down: bool = False


def charger_rows(chargers: QuerySet[Charger]) -> list[ChargerRow]:
    rows = list(chargers.select_related("location"))
    if not rows:
        return []
    try:
        raws = redis_client.sync_client().hmget(keys.charger_bays(), [str(c.pk) for c in rows])
    except RedisError:
        return [ChargerRow(c, None, store_down=True) for c in rows]
    return [
        ChargerRow(c, decode_state(raw) if raw is not None else None)
        for c, raw in zip(rows, raws, strict=True)
    ]
