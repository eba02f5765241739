"""What the Chargers page shows: each charger the user may see, with its bays as the poller
last wrote them to Redis (`realtime/poller/chargers.py`); with Redis away the page still
lists the chargers and says their bays are unknown."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet
from redis.exceptions import RedisError

from micboard.models import BatteryPack, Charger
from realtime import keys, redis_client
from realtime.poller.chargers import ChargerState, decode_state
from realtime.protocols.shure_charger import Bay


@dataclass(frozen=True, slots=True)
class ChargerRow:
    charger: Charger
    state: ChargerState | None  # None: no poller has read it yet
    store_down: bool = False
    packs: dict[int, BatteryPack] = field(default_factory=dict)  # by bay: who is in it

    @property
    def bays_with_packs(self) -> list[tuple[Bay, BatteryPack | None]]:
        """Each bay with the pack recognised in it (None: empty, or not matched yet)."""
        if self.state is None:
            return []
        return [(self.state.bays[n], self.packs.get(n)) for n in sorted(self.state.bays)]

    @property
    def worn_bays(self) -> frozenset[int]:
        """Return the bays holding a pack whose health is below MICBOARD_PACK_HEALTH_MIN."""
        if self.state is None:
            return frozenset()
        return frozenset(n for n, bay in self.state.bays.items() if is_worn(bay))


def is_worn(bay: Bay) -> bool:
    health = bay.health_percent
    return bool(bay.present) and health is not None and health < settings.MICBOARD_PACK_HEALTH_MIN


def charger_rows(chargers: QuerySet[Charger]) -> list[ChargerRow]:
    rows = list(chargers.select_related("location"))
    if not rows:
        return []
    packs: dict[int, dict[int, BatteryPack]] = {}
    for pack in BatteryPack.objects.filter(charger__in=rows, bay__isnull=False):
        packs.setdefault(pack.charger_id or 0, {})[pack.bay or 0] = pack
    try:
        raws = redis_client.sync_client().hmget(keys.charger_bays(), [str(c.pk) for c in rows])
    except RedisError:
        return [ChargerRow(c, None, store_down=True, packs=packs.get(c.pk, {})) for c in rows]
    return [
        ChargerRow(c, decode_state(raw) if raw is not None else None, packs=packs.get(c.pk, {}))
        for c, raw in zip(rows, raws, strict=True)
    ]
