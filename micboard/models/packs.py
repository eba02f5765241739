"""Battery packs followed from charger bay to transmitter to performer.

No family we read reports a pack's serial (docs/devices.md), so a pack is the one whose
charge cycles and health match what a bay or a transmitter reports
(`micboard/services/packs.py` says how close counts). Where a pack is now lives on the
pack; each move is a `PackEvent`, which also keeps the cycles and health of that moment.
"""

from __future__ import annotations

from django.db import models

from micboard.models.base import TenantOwned
from micboard.models.hardware import Charger, WirelessUnit
from micboard.models.performers import Performer


class BatteryPack(TenantOwned):
    label = models.CharField(max_length=40)  # "Pack 7": given when first seen
    cycle_count = models.PositiveIntegerField()
    health_percent = models.PositiveSmallIntegerField()
    charge_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    # Where it is now: a charger bay, a transmitter (the unit), or neither (taken out).
    charger = models.ForeignKey(
        Charger, null=True, blank=True, on_delete=models.SET_NULL, related_name="packs"
    )
    bay = models.PositiveSmallIntegerField(null=True, blank=True)
    wireless_unit = models.ForeignKey(
        WirelessUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="packs"
    )
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()

    class Meta(TenantOwned.Meta):
        ordering = ["label"]
        indexes = [models.Index(fields=["organization", "cycle_count"])]

    def __str__(self) -> str:
        return self.label


class PackEvent(TenantOwned):
    class Kind(models.TextChoices):
        CHARGING = "charging", "Put on charge"
        OFF_CHARGER = "off_charger", "Taken off the charger"
        INSERTED = "inserted", "Put in a transmitter"
        AGED = "aged", "Cycles or health changed"

    pack = models.ForeignKey(BatteryPack, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(db_index=True)
    charger = models.ForeignKey(
        Charger, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bay = models.PositiveSmallIntegerField(null=True, blank=True)
    wireless_unit = models.ForeignKey(
        WirelessUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who wore it: the unit's first active assignment when the pack went in.
    performer = models.ForeignKey(
        Performer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cycle_count = models.PositiveIntegerField()
    health_percent = models.PositiveSmallIntegerField()

    class Meta(TenantOwned.Meta):
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.pack}: {self.get_kind_display()}"
